// Evidence photos on the phone: reduced to at most 2,000 px on the long side (JPEG, upright), hashed (SHA-256: the
// photo's id on the server), with the time it was taken (EXIF DateTimeOriginal when the camera wrote one, else the
// file's time), since re-encoding drops the EXIF data.
//
//   const photo = await reducePhoto(file);   // {blob, media_type, sha256, width, height, captured_at, reduced}
//
// The image is decoded upright (createImageBitmap with imageOrientation "from-image") and, when too large, resized
// inside createImageBitmap (no full-size canvas: phones refuse very large ones), then encoded as JPEG at quality 0.8.
// A photo already within the limit is kept as it came when re-encoding would not make it smaller.

export const MAX_SIDE = 2000;
export const JPEG_QUALITY = 0.8;
const SENDABLE = ['image/jpeg', 'image/png', 'image/webp'];

function pad(number, width) {
  return String(number).padStart(width || 2, '0');
}

/** A local time as ISO 8601 with the phone's UTC offset ("2026-05-01T09:30:05+08:00"). */
export function isoWithOffset(date) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:`
    + `${pad(date.getMinutes())}:${pad(date.getSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function ascii(view, start, length) {
  let text = '';
  for (let i = 0; i < length && start + i < view.byteLength; i += 1) {
    const code = view.getUint8(start + i);
    if (code === 0) break;
    text += String.fromCharCode(code);
  }
  return text;
}

/** The EXIF tags `wanted` (tag number -> ASCII value) of an IFD at `offset` of the TIFF block at `tiff`. */
function ifdTags(view, tiff, offset, little, wanted) {
  const found = {};
  if (tiff + offset + 2 > view.byteLength) return found;
  const count = view.getUint16(tiff + offset, little);
  for (let i = 0; i < count; i += 1) {
    const entry = tiff + offset + 2 + i * 12;
    if (entry + 12 > view.byteLength) break;
    const tag = view.getUint16(entry, little);
    if (wanted.indexOf(tag) < 0) continue;
    const type = view.getUint16(entry + 2, little);
    const size = view.getUint32(entry + 4, little);
    if (type === 4) found[tag] = view.getUint32(entry + 8, little); // LONG (an IFD pointer)
    else if (type === 2) found[tag] = ascii(view, size > 4 ? tiff + view.getUint32(entry + 8, little) : entry + 8, size);
  }
  return found;
}

/** When a JPEG was taken according to its EXIF data, as ISO 8601 with an offset; null when it does not say. */
export function exifCaptureTime(buffer) {
  const view = new DataView(buffer);
  if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return null;
  let position = 2;
  while (position + 4 <= view.byteLength) {
    const marker = view.getUint16(position);
    const length = view.getUint16(position + 2);
    if (marker === 0xffe1 && ascii(view, position + 4, 4) === 'Exif') {
      const tiff = position + 10;
      const little = view.getUint16(tiff) === 0x4949;
      const first = view.getUint32(tiff + 4, little);
      const exifPointer = ifdTags(view, tiff, first, little, [0x8769])[0x8769];
      if (!exifPointer) return null;
      const tags = ifdTags(view, tiff, exifPointer, little, [0x9003, 0x9011]);
      const match = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(tags[0x9003] || '');
      if (!match) return null;
      const [, y, mo, d, hh, mi, ss] = match;
      const offset = /^[+-]\d{2}:\d{2}$/.test(tags[0x9011] || '') ? tags[0x9011] : null;
      if (offset) return `${y}-${mo}-${d}T${hh}:${mi}:${ss}${offset}`;
      // no offset recorded: the camera's clock is the phone's, so the phone's time zone applies
      return isoWithOffset(new Date(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mi), Number(ss)));
    }
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) break; // start of the image data: no EXIF before it
    position += 2 + length;
  }
  return null;
}

/** The SHA-256 of a Blob as 64 lowercase hex digits. */
export async function sha256Hex(blob) {
  const digest = await window.crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.prototype.map.call(new Uint8Array(digest), (b) => (b + 0x100).toString(16).slice(1)).join('');
}

function encode(bitmap, width, height) {
  const draw = (context) => {
    context.fillStyle = '#ffffff'; // a transparent PNG becomes a white-backed JPEG, not a black one
    context.fillRect(0, 0, width, height);
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
  };
  if (typeof OffscreenCanvas === 'function') {
    const canvas = new OffscreenCanvas(width, height);
    draw(canvas.getContext('2d'));
    return canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY });
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  draw(canvas.getContext('2d'));
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the photo could not be encoded'))), 'image/jpeg', JPEG_QUALITY);
  });
}

/** The photo as it is sent: upright, at most `maxSide` px on its long side, with its hash and capture time. */
export async function reducePhoto(file, maxSide) {
  const limit = maxSide || MAX_SIDE;
  const head = await file.slice(0, 256 * 1024).arrayBuffer();
  const capturedAt = exifCaptureTime(head) || isoWithOffset(new Date(file.lastModified || Date.now()));
  const upright = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const width = upright.width;
  const height = upright.height;
  let blob;
  let outWidth = width;
  let outHeight = height;
  try {
    if (Math.max(width, height) > limit) {
      const scale = limit / Math.max(width, height);
      outWidth = Math.max(1, Math.round(width * scale));
      outHeight = Math.max(1, Math.round(height * scale));
      let resized = null;
      try {
        resized = await createImageBitmap(file, {
          imageOrientation: 'from-image', resizeWidth: outWidth, resizeHeight: outHeight, resizeQuality: 'high',
        });
      } catch (error) {
        resized = null; // an older browser without resize options: draw the upright bitmap scaled instead
      }
      const source = resized && resized.width === outWidth && resized.height === outHeight ? resized : upright;
      blob = await encode(source, outWidth, outHeight);
      if (resized) resized.close();
    } else {
      const reencoded = await encode(upright, width, height);
      blob = SENDABLE.indexOf(file.type) >= 0 && file.size <= reencoded.size ? file : reencoded;
    }
  } finally {
    upright.close();
  }
  return {
    blob,
    media_type: blob.type,
    sha256: await sha256Hex(blob),
    width: outWidth,
    height: outHeight,
    captured_at: capturedAt,
    reduced: blob !== file,
    original_size: file.size,
  };
}
