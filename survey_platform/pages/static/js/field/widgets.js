// The field app's answers the citizen survey has no widget for, plugged into the renderer (render.js `widgets`):
// - geopoint: the position is watched until its accuracy reaches the question's max_accuracy (warning while it is
//   worse), then kept with its accuracy and time: {lat, lon, accuracy, time};
// - photo: the camera (capture="environment"); each photo reduced on the phone (photos.js), kept in IndexedDB and
//   answered by its SHA-256; the draft is saved before the camera opens, so a tab the browser kills while the camera
//   app is open comes back with every earlier photo;
// - venue: the venue picked before the checklist, shown (the answer is its id);
// and `decorate`, which shows each check's severity beside its label (in words, not only by colour).

import './core.js';
import { h, label, t, when } from './dom.js';
import { reducePhoto } from './photos.js';

const { FieldCore } = self;

function gpsText(point) {
  return t('field.gps.located', { accuracy: Math.round(point.accuracy * 10) / 10, time: when(point.time) });
}

/** The geopoint widget: watches the position until it is accurate enough, then stops. */
function geopointWidget(ctx, q, value, onChange) {
  const max = q.max_accuracy === undefined || q.max_accuracy === null ? null : q.max_accuracy;
  const status = h('p', { className: 'gps-status', role: 'status', 'aria-live': 'polite' }, []);
  const coords = h('p', { className: 'gps-coords' }, []);
  const again = h('button', { type: 'button', className: 'button-secondary', 'data-control': true }, [t('field.gps.again')]);
  let watch = null;
  const stop = () => {
    if (watch !== null && navigator.geolocation) navigator.geolocation.clearWatch(watch);
    watch = null;
  };
  const show = (point) => {
    status.textContent = gpsText(point);
    status.className = 'gps-status gps-ok';
    coords.textContent = `${point.lat.toFixed(5)}, ${point.lon.toFixed(5)}`;
  };
  const locate = () => {
    stop();
    if (!navigator.geolocation) {
      status.textContent = t('field.gps.unsupported');
      return;
    }
    status.className = 'gps-status';
    status.textContent = t('field.gps.locating');
    watch = navigator.geolocation.watchPosition((position) => {
      const point = {
        lat: position.coords.latitude,
        lon: position.coords.longitude,
        accuracy: Math.round(position.coords.accuracy * 10) / 10,
        time: new Date(position.timestamp || Date.now()).toISOString(),
      };
      if (max !== null && point.accuracy > max) {
        status.className = 'gps-status gps-warning';
        status.textContent = t('field.gps.worse', { accuracy: point.accuracy, max });
        return; // keep watching until the fix is good enough
      }
      stop();
      show(point);
      onChange(point);
    }, (error) => {
      status.className = 'gps-status gps-warning';
      status.textContent = t(error.code === 1 ? 'field.gps.denied' : 'field.gps.unavailable');
      if (error.code === 1) stop();
    }, { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 });
  };
  again.addEventListener('click', locate);
  const box = h('div', { className: 'gps-widget' }, [
    max !== null ? h('p', { className: 'hint' }, [t('field.gps.required', { max })]) : null, status, coords, again,
  ]);
  ctx.onLeave(stop, box);
  if (value && typeof value === 'object' && typeof value.lat === 'number') show(value);
  else locate();
  return box;
}

/** The photo widget: take photos (camera), see them, remove them. */
function photoWidget(ctx, q, value, onChange) {
  let current = Array.isArray(value) ? value.slice() : [];
  const max = q.max_count || 10;
  const inputId = `photo-${q.id}`;
  const list = h('ul', { className: 'photo-list' }, []);
  const status = h('p', { className: 'photo-status', role: 'status', 'aria-live': 'polite' }, []);
  const input = h('input', {
    type: 'file', id: inputId, accept: 'image/*', capture: 'environment', className: 'photo-input', 'data-control': true,
  }, []);
  const take = h('label', { for: inputId, className: 'button-secondary photo-take' }, [t('field.photo.take')]);
  const urls = [];

  const draw = () => {
    list.textContent = '';
    current.forEach((sha, n) => {
      const remove = h('button', { type: 'button', className: 'button-link' }, [t('field.photo.remove', { n: n + 1 })]);
      remove.addEventListener('click', () => {
        current = current.filter((other) => other !== sha);
        onChange(current.slice());
        draw();
      });
      const tile = h('li', { className: 'photo-tile' }, [h('span', { className: 'photo-placeholder' }, [t('field.photo.on_server', { n: n + 1, id: sha.slice(0, 8) })]), remove]);
      list.appendChild(tile);
      FieldCore.get('photos', sha).then((photo) => {
        if (!photo || !photo.blob) return;
        const url = URL.createObjectURL(photo.blob);
        urls.push(url);
        const alt = t('field.photo.alt', { n: n + 1, time: when(photo.captured_at) });
        tile.replaceChild(h('img', { src: url, alt, width: 96, height: 96, className: 'photo-thumb' }, []), tile.firstChild);
      });
    });
    const full = current.length >= max;
    input.disabled = full;
    take.classList.toggle('is-disabled', full);
    take.textContent = full ? t('field.photo.full', { max }) : t('field.photo.take');
  };

  // the draft (with every earlier photo) is on the phone before the camera app opens
  input.addEventListener('click', () => { ctx.saveDraft(); });
  input.addEventListener('change', () => {
    const files = Array.prototype.slice.call(input.files || []);
    input.value = '';
    if (!files.length) return;
    status.textContent = t('field.photo.working');
    files.reduce((done, file) => done.then(() => reducePhoto(file).then((photo) => {
      if (current.indexOf(photo.sha256) >= 0 || current.length >= max) return undefined;
      return FieldCore.put('photos', {
        sha256: photo.sha256, blob: photo.blob, media_type: photo.media_type, size: photo.blob.size,
        width: photo.width, height: photo.height, captured_at: photo.captured_at, item: ctx.itemId(),
        account: ctx.account(), uploaded: false, attempts: 0, created_at: new Date().toISOString(),
      }).then(() => {
        current = current.concat([photo.sha256]);
        onChange(current.slice());
        status.textContent = t('field.photo.added', { width: photo.width, height: photo.height, kb: Math.round(photo.blob.size / 1024) });
        draw();
      });
    })), Promise.resolve()).catch(() => {
      status.textContent = t('field.photo.failed');
    });
  });
  draw();
  const box = h('div', { className: 'photo-widget' }, [
    q.min_count ? h('p', { className: 'hint' }, [t('field.photo.count', { min: q.min_count, max })]) : null,
    list, input, take, status,
  ]);
  ctx.onLeave(() => { urls.forEach((url) => URL.revokeObjectURL(url)); }, box);
  return box;
}

/** The venue of an audit: picked before the checklist starts, shown here. */
function venueWidget(ctx) {
  const venue = ctx.venue();
  if (!venue) return h('p', { className: 'hint' }, [t('field.venue.none')]);
  return h('div', { className: 'venue-answer' }, [
    h('p', { className: 'venue-name' }, [venue.name]),
    venue.address ? h('p', { className: 'hint' }, [venue.address]) : null,
    venue.id ? null : h('p', { className: 'hint' }, [t('field.venue.new_pending')]),
  ]);
}

/** A check's severity beside its label, in words (and a note when a failure needs a photo). */
function decorate(q) {
  if (!q.check) return null;
  const severity = q.check.severity;
  const parts = [' ', h('span', { className: `severity severity-${severity}` }, [t(`field.severity.${severity}`)])];
  if (q.check.evidence && severity === 'critical') parts.push(h('span', { className: 'severity-note' }, [t('field.severity.photo_needed')]));
  return h('span', { className: 'check-marks' }, parts);
}

/**
 * The widgets for one editor. `ctx`: {itemId(), account(), venue(), saveDraft(), onLeave(fn, element)} — onLeave
 * registers what to stop once `element` has left the page (the GPS watch, thumbnails' object URLs).
 */
export function fieldWidgets(ctx) {
  return {
    widgets: {
      geopoint: (q, value, onChange) => geopointWidget(ctx, q, value, onChange),
      photo: (q, value, onChange) => photoWidget(ctx, q, value, onChange),
      venue: () => venueWidget(ctx),
    },
    decorate,
    label,
  };
}
