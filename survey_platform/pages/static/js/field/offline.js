// The service worker that makes the app work offline (/field/sw.js), and whether it is ready: the app says "ready to
// work offline" only when the worker controls the page and reports every file of the app shell in its cache.

const STATUS_TIMEOUT_MS = 3000;

/** Register the worker (scope /field/); resolves with the registration, or null where there are no workers. */
export function registerWorker(url, onMessage) {
  if (!('serviceWorker' in navigator)) return Promise.resolve(null);
  navigator.serviceWorker.addEventListener('message', (event) => onMessage(event.data || {}));
  return navigator.serviceWorker.register(url, { scope: '/field/' }).catch(() => null);
}

/** Ask the active worker whether the app shell is cached: {precached, missing, version}, or null (no worker). */
export function shellStatus() {
  if (!('serviceWorker' in navigator)) return Promise.resolve(null);
  const worker = navigator.serviceWorker.controller;
  if (!worker) return Promise.resolve(null);
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), STATUS_TIMEOUT_MS);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(event.data || null);
    };
    worker.postMessage({ type: 'status' }, [channel.port2]);
  });
}

/** Ask the browser to send the outbox later even with the app closed (Background Sync; Chromium only). */
export function requestBackgroundSync(tag) {
  if (!('serviceWorker' in navigator)) return Promise.resolve(false);
  return navigator.serviceWorker.ready
    .then((registration) => (registration.sync ? registration.sync.register(tag).then(() => true) : false))
    .catch(() => false);
}
