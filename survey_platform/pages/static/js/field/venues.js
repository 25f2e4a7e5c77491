// Picking the venue of an audit: by name, nearby by GPS (distance from the venue's coordinates, on the phone), or a
// new one added on the spot (registered by the server when the phone is online, once, by its client UUID). A venue
// with an approved audit can start a follow-up visit (回头看) from it.

import './core.js';
import { newUuid } from '../survey/drafts.js';
import { categoryQuestion } from './editor.js';
import { focus, h, label, replaceChildren, t } from './dom.js';

const { FieldCore } = self;
const EARTH_RADIUS_M = 6371008.8;

/** The great-circle distance in metres between two WGS-84 points (haversine; mean Earth radius, IUGG). */
export function distanceMetres(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

function distanceText(metres) {
  return metres < 1000 ? t('field.venues.metres', { n: Math.round(metres) }) : t('field.venues.km', { n: (metres / 1000).toFixed(1) });
}

/** The venues of an inspection on this phone: the campaign's list plus the ones added here and not yet registered. */
export async function phoneVenues(campaignCode, account) {
  const list = await FieldCore.get('venues', campaignCode);
  const venues = list ? list.venues.slice() : [];
  const added = (await FieldCore.all('newVenues')).filter((v) => v.campaign === campaignCode && v.account === account && !v.venue_id);
  added.forEach((v) => venues.push(Object.assign({}, v.body, { id: null, client_id: v.client_id, pending: true, last_visit: null })));
  return venues;
}

function categoryLabels(questionnaire) {
  const q = questionnaire ? categoryQuestion(questionnaire) : null;
  const labels = {};
  if (q) q.choices.choices.forEach((c) => { labels[c.code] = label(c.label); });
  return labels;
}

/** The venue picker of an inspection campaign. */
export async function venuePicker(app, container, campaign) {
  const account = app.account().username;
  const venues = await phoneVenues(campaign.code, account);
  const stored = await FieldCore.get('questionnaires', campaign.questionnaire_version);
  const categories = categoryLabels(stored && stored.client);
  let here = null;
  const heading = h('h1', {}, [t('field.venues.heading')]);
  const search = h('input', { type: 'search', id: 'venue-search', autocomplete: 'off', enterkeyhint: 'search' }, []);
  const nearby = h('button', { type: 'button', className: 'button-secondary', id: 'venue-nearby' }, [t('field.venues.nearby')]);
  const status = h('p', { className: 'hint', role: 'status', 'aria-live': 'polite' }, []);
  const list = h('ul', { className: 'venue-list', id: 'venue-list' }, []);
  const add = h('a', { href: `#/campaign/${encodeURIComponent(campaign.code)}/add-venue`, className: 'button-secondary' }, [t('field.venues.add')]);

  function start(venue, followUp) {
    const ref = venue.id ? String(venue.id) : `new:${venue.client_id}`;
    app.go(`#/new/${encodeURIComponent(campaign.code)}?venue=${encodeURIComponent(ref)}${followUp ? '&followup=1' : ''}`);
  }

  async function draw() {
    const query = search.value.trim().toLowerCase();
    let shown = venues.filter((v) => !query || v.name.toLowerCase().indexOf(query) >= 0 || (v.address || '').toLowerCase().indexOf(query) >= 0);
    if (here) {
      shown = shown.map((v) => Object.assign({}, v, {
        distance: typeof v.latitude === 'number' && typeof v.longitude === 'number' ? distanceMetres(here.lat, here.lon, v.latitude, v.longitude) : null,
      }));
      shown.sort((a, b) => (a.distance === null) - (b.distance === null) || (a.distance || 0) - (b.distance || 0));
    }
    const rows = [];
    for (const venue of shown.slice(0, 200)) {
      const followUp = venue.id && venue.last_visit ? await FieldCore.get('followups', venue.id) : null;
      const facts = [categories[venue.category] || venue.category, venue.address].filter(Boolean).join(' · ');
      const buttons = [h('button', { type: 'button', className: 'button-primary', onclick: () => start(venue, null) }, [t('field.venues.start', { name: venue.name })])];
      if (followUp) {
        buttons.push(h('button', { type: 'button', className: 'button-secondary', onclick: () => start(venue, followUp.followup) }, [t('field.venues.follow_up', { name: venue.name })]));
      }
      rows.push(h('li', { className: 'venue-row' }, [
        h('p', { className: 'venue-name' }, [venue.name]),
        facts ? h('p', { className: 'hint' }, [facts]) : null,
        venue.distance !== undefined && venue.distance !== null ? h('p', { className: 'venue-distance' }, [distanceText(venue.distance)]) : null,
        venue.pending ? h('p', { className: 'hint' }, [t('field.venue.new_pending')]) : null,
        venue.last_visit ? h('p', { className: 'hint' }, [t('field.venues.last_visit', { date: venue.last_visit.date })]) : null,
        h('div', { className: 'venue-actions' }, buttons),
      ]));
    }
    replaceChildren(list, rows.length ? rows : [h('li', { className: 'hint' }, [t('field.venues.none')])]);
    status.textContent = t('field.venues.count', { shown: shown.length, total: venues.length });
  }

  search.addEventListener('input', () => { draw(); });
  nearby.addEventListener('click', () => {
    if (!navigator.geolocation) {
      status.textContent = t('field.gps.unsupported');
      return;
    }
    status.textContent = t('field.gps.locating');
    navigator.geolocation.getCurrentPosition((position) => {
      here = { lat: position.coords.latitude, lon: position.coords.longitude };
      draw().then(() => { status.textContent = t('field.venues.sorted', { accuracy: Math.round(position.coords.accuracy) }); });
    }, () => { status.textContent = t('field.gps.unavailable'); }, { enableHighAccuracy: true, maximumAge: 60000, timeout: 30000 });
  });

  replaceChildren(container, [
    h('p', { className: 'editor-campaign' }, [campaign.name]),
    heading,
    h('div', { className: 'venue-tools' }, [
      h('label', { for: 'venue-search' }, [t('field.venues.search')]), search, h('div', { className: 'venue-buttons' }, [nearby, add]),
    ]),
    status,
    list,
    app.homeLink(),
  ]);
  await draw();
  focus(heading);
}

function field(id, text, control, hint) {
  return h('div', { className: 'form-field' }, [h('label', { for: id }, [text]), hint ? h('p', { className: 'hint', id: `${id}-hint` }, [hint]) : null, control, h('p', { className: 'field-error', id: `${id}-error`, hidden: true }, [])]);
}

/** The form for a venue that is not on the list: kept on the phone, registered by the server when online. */
export async function newVenueForm(app, container, campaign) {
  const stored = await FieldCore.get('questionnaires', campaign.questionnaire_version);
  const categories = categoryLabels(stored && stored.client);
  const name = h('input', { type: 'text', id: 'nv-name', maxlength: 200, required: true, autocomplete: 'off' }, []);
  const codes = Object.keys(categories);
  const category = codes.length
    ? h('select', { id: 'nv-category', required: true }, [h('option', { value: '' }, [t('field.newvenue.choose')])].concat(codes.map((code) => h('option', { value: code }, [categories[code]]))))
    : h('input', { type: 'text', id: 'nv-category', required: true, pattern: '[a-z0-9_-]{1,60}', autocomplete: 'off' }, []);
  const cities = campaign.cities || [];
  const city = cities.length
    ? h('select', { id: 'nv-city', required: true }, cities.map((c) => h('option', { value: c.code }, [app.lang() === 'en' ? c.name_en || c.name_zh : c.name_zh])))
    : h('input', { type: 'text', id: 'nv-city', required: true, autocomplete: 'off' }, []);
  const address = h('input', { type: 'text', id: 'nv-address', maxlength: 300, autocomplete: 'off' }, []);
  const where = h('p', { className: 'hint', role: 'status', 'aria-live': 'polite', id: 'nv-position' }, [t('field.gps.locating')]);
  let position = null;
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition((found) => {
      position = { lat: found.coords.latitude, lon: found.coords.longitude };
      where.textContent = t('field.newvenue.position', { accuracy: Math.round(found.coords.accuracy) });
    }, () => { where.textContent = t('field.newvenue.no_position'); }, { enableHighAccuracy: true, maximumAge: 60000, timeout: 30000 });
  } else {
    where.textContent = t('field.newvenue.no_position');
  }
  const heading = h('h1', {}, [t('field.newvenue.heading')]);
  const save = h('button', { type: 'submit', className: 'button-primary' }, [t('field.newvenue.save')]);
  const form = h('form', { className: 'new-venue', novalidate: true }, [
    field('nv-name', t('field.newvenue.name'), name),
    field('nv-category', t('field.newvenue.category'), category),
    field('nv-city', t('field.newvenue.city'), city),
    field('nv-address', t('field.newvenue.address'), address, t('field.optional')),
    where,
    h('div', { className: 'survey-actions' }, [save]),
  ]);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const problems = [];
    const show = (id, message) => {
      const box = document.getElementById(`${id}-error`);
      const input = document.getElementById(id);
      box.hidden = !message;
      box.textContent = message || '';
      input.setAttribute('aria-invalid', message ? 'true' : 'false');
      if (message) {
        input.setAttribute('aria-describedby', `${id}-error`);
        problems.push(input);
      }
    };
    show('nv-name', name.value.trim() ? '' : t('field.newvenue.required'));
    show('nv-category', /^[a-z0-9_-]{1,60}$/.test(category.value) ? '' : t('field.newvenue.required'));
    show('nv-city', /^[a-z0-9][a-z0-9_-]{0,19}$/.test(city.value) ? '' : t('field.newvenue.required'));
    if (problems.length) {
      problems[0].focus();
      return;
    }
    const clientId = newUuid();
    const body = {
      client_id: clientId, campaign: campaign.code, name: name.value.trim(), category: category.value,
      city: city.value, address: address.value.trim(),
      latitude: position ? position.lat : null, longitude: position ? position.lon : null,
    };
    await FieldCore.put('newVenues', {
      client_id: clientId, campaign: campaign.code, account: app.account().username, body, venue_id: null,
      created_at: new Date().toISOString(),
    });
    app.afterQueue();
    app.go(`#/new/${encodeURIComponent(campaign.code)}?venue=${encodeURIComponent(`new:${clientId}`)}`);
  });
  replaceChildren(container, [h('p', { className: 'editor-campaign' }, [campaign.name]), heading, h('p', {}, [t('field.newvenue.intro')]), form, app.homeLink()]);
  focus(heading);
}

