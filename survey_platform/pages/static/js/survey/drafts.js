// Draft stores for the survey renderer (render.js). A store has three methods, each returning a Promise:
//   load() -> the saved draft or null; save(draft) -> true when saved; clear() -> undefined.
// The citizen survey keeps its draft in localStorage (this module); the field app plugs in an IndexedDB store with
// the same three methods.

/** The draft of one survey link in `storage` (localStorage by default) under `key`; survives a reload or a closed tab. */
export function localDraftStore(key, storage) {
  let memory = null; // where the draft lives when the browser refuses storage (some in-app browsers, private modes)
  function area() {
    try {
      return storage || window.localStorage;
    } catch (error) {
      return null;
    }
  }
  return {
    key,
    load() {
      const place = area();
      try {
        const text = place ? place.getItem(key) : null;
        return Promise.resolve(text ? JSON.parse(text) : memory);
      } catch (error) {
        return Promise.resolve(memory);
      }
    },
    save(draft) {
      memory = draft;
      const place = area();
      try {
        if (!place) return Promise.resolve(false);
        place.setItem(key, JSON.stringify(draft));
        return Promise.resolve(true);
      } catch (error) {
        return Promise.resolve(false);
      }
    },
    clear() {
      memory = null;
      const place = area();
      try {
        if (place) place.removeItem(key);
      } catch (error) {
        // nothing was stored
      }
      return Promise.resolve();
    },
  };
}

/** A random UUID (version 4), also where crypto.randomUUID is missing (older in-app browsers). */
export function newUuid() {
  const cryptoObject = window.crypto;
  if (cryptoObject && typeof cryptoObject.randomUUID === 'function') return cryptoObject.randomUUID();
  const bytes = new Uint8Array(16);
  cryptoObject.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.prototype.map.call(bytes, (b) => (b + 0x100).toString(16).slice(1)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
