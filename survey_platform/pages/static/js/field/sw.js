// The field app's service worker, served as /field/sw.js (scope /field/) with its configuration in front of this text:
//   self.FIELD_SW = {version, cache, precache: [URLs], core: URL of core.js}
// - install: the app shell (the /field/ page, the manifest, the hashed scripts, styles and icons) goes into Cache
//   Storage; the page says "ready to work offline" only once every URL is there (the 'status' message).
// - fetch: hashed static files from the cache (they never change), the /field/ page from the network when it answers
//   within a few seconds (a new version, the chosen language) and from the cache otherwise; the API is not touched.
// - sync (Background Sync, where the browser has it): the outbox is sent by the same code as the page's (core.js),
//   with no page open. Nothing relies on it: the page also sends on load, when the network returns, on a timer and
//   from its "send now" button.
/* global FieldCore */
'use strict';

var CONFIG = self.FIELD_SW;
importScripts(CONFIG.core);

var SHELL = '/field/';
var NAVIGATION_TIMEOUT_MS = 4000;

function precache() {
  return caches.open(CONFIG.cache).then(function (cache) {
    // one by one, so that a slow connection that drops half-way keeps what already arrived
    return CONFIG.precache.reduce(function (done, url) {
      return done.then(function () {
        return cache.match(url).then(function (hit) {
          if (hit) return undefined;
          return fetch(new Request(url, { credentials: 'same-origin', cache: 'reload' })).then(function (response) {
            if (!response.ok) throw new Error('precache ' + url + ': ' + response.status);
            return cache.put(url, response);
          });
        });
      });
    }, Promise.resolve());
  });
}

function missing() {
  return caches.open(CONFIG.cache).then(function (cache) {
    return Promise.all(CONFIG.precache.map(function (url) {
      return cache.match(url).then(function (hit) { return hit ? null : url; });
    }));
  }).then(function (urls) { return urls.filter(Boolean); });
}

function tell(message) {
  return self.clients.matchAll({ includeUncontrolled: true }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage(message); });
  });
}

self.addEventListener('install', function (event) {
  event.waitUntil(precache().then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf('field-shell-') === 0 && name !== CONFIG.cache;
        }).map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
      .then(function () { return tell({ type: 'precached', version: CONFIG.version }); }),
  );
});

function fromNetworkOrShell(request) {
  return caches.open(CONFIG.cache).then(function (cache) {
    var network = fetch(request).then(function (response) {
      if (response.ok && response.type === 'basic') {
        var copy = response.clone();
        cache.put(SHELL, copy).catch(function () { /* quota: the old shell stays */ });
      }
      return response;
    });
    var timeout = new Promise(function (resolve) { setTimeout(resolve, NAVIGATION_TIMEOUT_MS, null); });
    return Promise.race([network.catch(function () { return null; }), timeout]).then(function (response) {
      if (response) return response;
      return cache.match(SHELL).then(function (shell) { return shell || network; });
    });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && (url.pathname === SHELL || url.pathname === '/field')) {
    event.respondWith(fromNetworkOrShell(request));
    return;
  }
  if (CONFIG.precache.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname, { cacheName: CONFIG.cache }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});

self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type === 'status' && event.ports && event.ports[0]) {
    var port = event.ports[0];
    missing().then(function (urls) {
      port.postMessage({ version: CONFIG.version, precached: urls.length === 0, missing: urls.length });
    }, function () { port.postMessage({ version: CONFIG.version, precached: false, missing: -1 }); });
  }
});

self.addEventListener('sync', function (event) {
  if (event.tag !== FieldCore.SYNC_TAG) return;
  event.waitUntil(FieldCore.syncOnce({}).then(function (report) {
    return tell({ type: 'synced', report: report }).then(function () {
      // the browser tries again later (with its own back-off) when this one could not reach the server
      if (report.status === 'offline') throw new Error('the server could not be reached; Background Sync retries');
    });
  }));
});
