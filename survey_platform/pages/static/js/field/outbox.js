// When the outbox is sent: on load, when the network returns (the `online` event), on a back-off timer while
// anything waits (15 s doubling to 15 min), from the "send now" button, and after an item is finished. Background
// Sync is asked for as well where the browser has it, never relied on. The sending itself is FieldCore.syncOnce.

import './core.js';
import { requestBackgroundSync } from './offline.js';

const { FieldCore } = self;
const FIRST_RETRY_MS = 15 * 1000;
const LAST_RETRY_MS = 15 * 60 * 1000;
const REVIEW_POLL_MS = 5 * 60 * 1000; // reviewers' decisions (returned, approved) reach the phone at least this often

/** Start sending; `onReport(report, reason)` after every attempt. Returns {sendNow(reason), afterQueue()}. */
export function startOutbox(onReport) {
  let running = null;
  let timer = null;
  let delay = FIRST_RETRY_MS;

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; sendNow('timer'); }, ms);
  }

  function sendNow(reason) {
    if (running) return running;
    running = FieldCore.syncOnce({}).then((report) => report, () => ({ status: 'offline', left: -1 }))
      .then((report) => {
        running = null;
        if (report.status === 'offline' || report.status === 'busy') {
          schedule(report.status === 'busy' ? 2000 : delay);
          if (report.status === 'offline') delay = Math.min(delay * 2, LAST_RETRY_MS);
        } else if (report.status === 'done') {
          delay = FIRST_RETRY_MS;
          schedule(report.left > 0 ? FIRST_RETRY_MS : REVIEW_POLL_MS);
        }
        onReport(report, reason);
        return report;
      });
    return running;
  }

  window.addEventListener('online', () => {
    delay = FIRST_RETRY_MS;
    sendNow('online');
  });

  return {
    sendNow,
    afterQueue() {
      requestBackgroundSync(FieldCore.SYNC_TAG);
      return sendNow('queued');
    },
  };
}
