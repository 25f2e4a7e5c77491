// One draft, one tab: a draft open in a second tab (or window) of the app is refused there, so two copies can never
// be finished and sent as two different bodies under one client UUID (enketo/enketo#942).
//
//   const held = await holdDraft(id);   // {release()} or null when another tab has the draft open
//
// The Web Locks API where the browser has it (the lock ends with the tab, even when it crashes); elsewhere a lease
// over a BroadcastChannel: the tab asks "who has this draft?" and another tab holding it answers within 300 ms.

const PREFIX = 'field-draft:';
const LEASE_WAIT_MS = 300;
const held = {};
let channel = null;

function leaseChannel() {
  if (channel || typeof BroadcastChannel !== 'function') return channel;
  channel = new BroadcastChannel('field-drafts');
  channel.addEventListener('message', (event) => {
    const message = event.data || {};
    if (message.type === 'who' && held[message.id]) channel.postMessage({ type: 'mine', id: message.id });
  });
  return channel;
}

function holdByLease(id) {
  const open = leaseChannel();
  if (!open) {
    held[id] = true;
    return Promise.resolve({ release() { delete held[id]; } });
  }
  return new Promise((resolve) => {
    let taken = false;
    const listen = (event) => {
      const message = event.data || {};
      if (message.type === 'mine' && message.id === id) taken = true;
    };
    open.addEventListener('message', listen);
    open.postMessage({ type: 'who', id });
    setTimeout(() => {
      open.removeEventListener('message', listen);
      if (taken || held[id]) {
        resolve(null);
        return;
      }
      held[id] = true;
      resolve({ release() { delete held[id]; } });
    }, LEASE_WAIT_MS);
  });
}

/** Hold the draft `id` for this tab until release(); null when another tab holds it. */
export function holdDraft(id) {
  const locks = navigator.locks;
  if (!locks || typeof locks.request !== 'function') return holdByLease(id);
  return new Promise((resolve) => {
    locks.request(PREFIX + id, { ifAvailable: true }, (lock) => {
      if (!lock) {
        resolve(null);
        return null;
      }
      return new Promise((release) => {
        held[id] = true;
        resolve({ release() { delete held[id]; release(); } });
      });
    }).catch(() => resolve(null));
  });
}
