// The field app's storage (IndexedDB) and sending (the outbox), shared by the page and the service worker: one
// definition of what is on the phone and how it leaves it. A plain script on purpose (no import/export): the page
// imports it as a module for its side effect and the service worker loads it with importScripts(); both then use
// self.FieldCore.
//
// On the phone (database "survey-field"):
//   meta            {key, value}: the session (bearer token, account), the assignments, the last sync
//   questionnaires  {version, client}: the client JSON of every questionnaire version the account works with
//   venues          {campaign, venues, fetched_at}: an inspection campaign's venue list
//   followups       {venue, followup}: the latest approved audit of a venue (回头看), fetched ahead for offline use
//   items           one interview or audit: {id (the client UUID), kind, account, state, draft, body, ...}
//   photos          {sha256, blob, media_type, size, captured_at, item, uploaded}
//   newVenues       {client_id, campaign, account, body, state, venue_id}: venues added offline
//
// An item's state: draft (saved on this phone) -> queued (waiting to send) -> sent (the server's receipt) ->
// accepted | returned (with the reviewer's comment; then correcting -> queued again) | rejected.
// Sending (syncOnce): new venues first, then photos (each its own request, skipped when already stored), then the
// items through POST /api/v1/batch and the corrections through PUT /api/v1/audits/{id}; then the review states
// of the account's audits. Every request is idempotent (client UUIDs, content-addressed photos), so a reply lost on
// the way back only means the same bytes are sent again and nothing new is stored.
(function (root) {
  'use strict';

  var DB_NAME = 'survey-field';
  var DB_VERSION = 1;
  var KEYS = {
    meta: 'key',
    questionnaires: 'version',
    venues: 'campaign',
    followups: 'venue',
    items: 'id',
    photos: 'sha256',
    newVenues: 'client_id',
  };
  var STATE = {
    draft: 'draft',
    correcting: 'correcting',
    queued: 'queued',
    sent: 'sent',
    accepted: 'accepted',
    returned: 'returned',
    rejected: 'rejected',
  };
  var UNSENT = [STATE.draft, STATE.correcting, STATE.queued];
  var BATCH_ITEMS = 50; // per request: small enough to finish on a slow connection, large enough to be quick
  var REVIEW_STATES = { submitted: STATE.sent, approved: STATE.accepted, returned: STATE.returned, rejected: STATE.rejected };

  var SYNC_LOCK = 'field-sync';
  var dbPromise = null;

  function promised(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  /** The database, opened (and created or upgraded) once per page or worker. */
  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var request = root.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        Object.keys(KEYS).forEach(function (name) {
          if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: KEYS[name] });
        });
      };
      request.onsuccess = function () {
        var db = request.result;
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      request.onerror = function () { dbPromise = null; reject(request.error); };
      request.onblocked = function () { /* another tab holds an older version; it closes on versionchange */ };
    });
    return dbPromise;
  }

  /** Run `work(stores)` in one transaction over `names`; resolves with its result once the transaction commits. */
  function transact(names, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode);
        var stores = {};
        names.forEach(function (name) { stores[name] = tx.objectStore(name); });
        var result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error('transaction aborted')); };
        Promise.resolve(work(stores)).then(function (value) { result = value; }, function (error) {
          try { tx.abort(); } catch (ignored) { /* already finished */ }
          reject(error);
        });
      });
    });
  }

  function get(store, key) {
    return transact([store], 'readonly', function (s) { return promised(s[store].get(key)); });
  }
  function put(store, value) {
    return transact([store], 'readwrite', function (s) { return promised(s[store].put(value)); });
  }
  function remove(store, key) {
    return transact([store], 'readwrite', function (s) { return promised(s[store].delete(key)); });
  }
  function all(store) {
    return transact([store], 'readonly', function (s) { return promised(s[store].getAll()); });
  }
  /** Read one record, change it with `change(record)` (which returns the new record, or null to leave it) and write
   * it back, in one transaction: concurrent updates from the page and the worker never lose each other's changes. */
  function update(store, key, change) {
    return transact([store], 'readwrite', function (s) {
      return promised(s[store].get(key)).then(function (current) {
        if (current === undefined) return undefined; // gone (e.g. deleted in another tab): nothing to change
        var next = change(current);
        if (!next) return current;
        return promised(s[store].put(next)).then(function () { return next; });
      });
    });
  }
  function getMeta(key) {
    return get('meta', key).then(function (row) { return row ? row.value : null; });
  }
  function setMeta(key, value) {
    return put('meta', { key: key, value: value });
  }

  function nowIso() {
    return new Date().toISOString();
  }

  // -- the API ---------------------------------------------------------------------------------------------------

  /** One request to the API with the session's bearer token (never the cookie: no CSRF token is needed, and the
   * token survives offline and a closed tab). Resolves with {status, data} (status 0: no answer). */
  function api(session, path, options) {
    var opts = options || {};
    var headers = { Accept: 'application/json, application/problem+json' };
    if (session && session.token) headers.Authorization = 'Bearer ' + session.token;
    var body = opts.body;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    Object.keys(opts.headers || {}).forEach(function (name) { headers[name] = opts.headers[name]; });
    return root.fetch(path, { method: opts.method || 'GET', headers: headers, body: body, credentials: 'omit', cache: 'no-store' })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (ignored) { data = null; }
          return { status: response.status, data: data, headers: response.headers };
        });
      }, function () { return { status: 0, data: null }; });
  }

  function problemOf(reply) {
    var data = reply.data || {};
    return { status: reply.status, detail: data.detail || '', errors: data.errors || [] };
  }

  // -- items ------------------------------------------------------------------------------------------------------

  function isMine(record, session) {
    return Boolean(session && session.account && record.account === session.account.username);
  }

  /** How many items of the account are in each state, and how many are not yet sent. */
  function counts(items, session) {
    var result = { total: 0, unsent: 0 };
    Object.keys(STATE).forEach(function (name) { result[STATE[name]] = 0; });
    items.forEach(function (item) {
      if (!isMine(item, session)) return;
      result.total += 1;
      result[item.state] = (result[item.state] || 0) + 1;
      if (UNSENT.indexOf(item.state) >= 0) result.unsent += 1;
    });
    return result;
  }

  /** Whether an item waits for a new venue the server has not registered yet. */
  function waitsForVenue(item) {
    return item.kind === 'audit' && item.venue && !item.venue.id && item.venue.client_id;
  }

  /** Put a finished item in the outbox with the exact body every retry will send. */
  function queue(id, body, photos) {
    return update('items', id, function (item) {
      if (!item) return null;
      item.body = body;
      item.photos = photos || [];
      item.state = STATE.queued;
      item.draft = null;
      item.problem = null;
      item.queued_at = nowIso();
      item.updated_at = item.queued_at;
      return item;
    });
  }

  // -- sending ----------------------------------------------------------------------------------------------------

  function Stop(reason) {
    this.reason = reason; // 'offline' (no answer or a server error: later), 'expired' (sign in again)
  }

  function stopFor(reply) {
    if (reply.status === 401) return new Stop('expired');
    return new Stop('offline');
  }

  async function markExpired() {
    var session = await getMeta('session');
    if (session && !session.expired) {
      session.expired = true;
      await setMeta('session', session);
    }
  }

  /** Register the account's new venues; the items that name them get the server's id. */
  async function sendVenues(session, report) {
    var venues = (await all('newVenues')).filter(function (v) { return isMine(v, session) && !v.venue_id; });
    for (var i = 0; i < venues.length; i += 1) {
      var venue = venues[i];
      var reply = await api(session, '/api/v1/field/venues', { method: 'POST', json: venue.body });
      if (reply.status === 201 || reply.status === 200) {
        await resolveVenue(venue.client_id, reply.data);
        report.venues += 1;
      } else if (reply.status >= 400 && reply.status < 500 && reply.status !== 401 && reply.status !== 429) {
        await update('newVenues', venue.client_id, function (v) { v.problem = problemOf(reply); return v; });
        await rejectWaiting(venue.client_id, problemOf(reply));
      } else {
        throw stopFor(reply);
      }
    }
  }

  async function resolveVenue(clientId, registered) {
    await update('newVenues', clientId, function (v) { v.venue_id = registered.id; v.problem = null; return v; });
    var campaignCode = (await get('newVenues', clientId)).campaign;
    await update('venues', campaignCode, function (list) {
      if (!list) return null;
      if (!list.venues.some(function (v) { return v.id === registered.id; })) list.venues.push(registered);
      return list;
    });
    var items = (await all('items')).filter(function (item) { return item.venue && item.venue.client_id === clientId; });
    for (var i = 0; i < items.length; i += 1) {
      await update('items', items[i].id, function (item) {
        item.venue.id = registered.id;
        if (item.body && item.state === STATE.queued && item.mode !== 'correction') {
          item.body.venue = registered.id; // frozen from now on: every retry sends exactly this
          (item.venueQuestions || []).forEach(function (q) { item.body.answers[q] = String(registered.id); });
        }
        if (item.draft) {
          (item.venueQuestions || []).forEach(function (q) { item.draft.answers[q] = String(registered.id); });
          item.draft.fields.venue = registered.id;
        }
        return item;
      });
    }
  }

  async function rejectWaiting(clientId, problem) {
    var items = (await all('items')).filter(function (item) {
      return item.state === STATE.queued && item.venue && item.venue.client_id === clientId;
    });
    for (var i = 0; i < items.length; i += 1) {
      await update('items', items[i].id, function (item) {
        item.state = STATE.rejected;
        item.problem = { status: problem.status, detail: problem.detail, errors: problem.errors, venue: true };
        item.updated_at = nowIso();
        return item;
      });
    }
  }

  /** Upload the photos of queued items that the server does not have yet (each photo once, in its own request). */
  async function sendPhotos(session, items, report) {
    var wanted = {};
    items.forEach(function (item) { (item.photos || []).forEach(function (sha) { wanted[sha] = item.id; }); });
    var hashes = Object.keys(wanted);
    for (var i = 0; i < hashes.length; i += 1) {
      var photo = await get('photos', hashes[i]);
      if (!photo || photo.uploaded || !photo.blob) continue; // not on this phone: already on the server (a correction)
      if (photo.attempts) {
        // a request went out before: its reply may have been lost, so ask before sending the bytes again
        var known = await api(session, '/api/v1/photos/' + photo.sha256 + '/meta');
        if (known.status === 200) {
          await markUploaded(photo.sha256);
          continue;
        }
        if (known.status === 401) throw stopFor(known);
        if (known.status !== 404) throw stopFor(known);
      }
      await update('photos', photo.sha256, function (p) { p.attempts = (p.attempts || 0) + 1; return p; });
      var headers = { 'Content-Type': photo.media_type, 'X-Content-SHA256': photo.sha256 };
      if (photo.captured_at) headers['X-Captured-At'] = photo.captured_at;
      var reply = await api(session, '/api/v1/photos', { method: 'POST', body: photo.blob, headers: headers });
      if (reply.status === 201 || reply.status === 200) {
        await markUploaded(photo.sha256);
        report.photos += 1;
      } else if (reply.status === 413 || reply.status === 415 || reply.status === 422 || reply.status === 400) {
        await refuse(wanted[photo.sha256], problemOf(reply));
      } else {
        throw stopFor(reply);
      }
    }
  }

  function markUploaded(sha) {
    return update('photos', sha, function (p) { p.uploaded = true; p.uploaded_at = nowIso(); return p; });
  }

  function refuse(id, problem) {
    return update('items', id, function (item) {
      if (item.state !== STATE.queued) return null;
      item.state = STATE.rejected;
      item.problem = problem;
      item.updated_at = nowIso();
      return item;
    });
  }

  function receive(id, receipt) {
    return update('items', id, function (item) {
      if (item.state !== STATE.queued) return null;
      item.state = STATE.sent;
      item.receipt = receipt;
      item.problem = null;
      item.sent_at = receipt.at;
      item.updated_at = receipt.at;
      return item;
    });
  }

  function photosReady(item, uploaded) {
    return (item.photos || []).every(function (sha) { return uploaded[sha] !== false; });
  }

  /** Send the queued new items in batches; each item stored (201) or recognised (200) gets its receipt. */
  async function sendBatches(session, items, report) {
    var photos = await all('photos');
    var uploaded = {};
    photos.forEach(function (p) { uploaded[p.sha256] = Boolean(p.uploaded || !p.blob); });
    var ready = items.filter(function (item) {
      return item.mode !== 'correction' && !waitsForVenue(item) && photosReady(item, uploaded);
    });
    for (var start = 0; start < ready.length; start += BATCH_ITEMS) {
      var chunk = ready.slice(start, start + BATCH_ITEMS);
      var responses = chunk.filter(function (item) { return item.kind === 'response'; });
      var audits = chunk.filter(function (item) { return item.kind === 'audit'; });
      var reply = await api(session, '/api/v1/batch', {
        method: 'POST',
        json: { responses: responses.map(function (i) { return i.body; }), audits: audits.map(function (i) { return i.body; }) },
      });
      if (reply.status !== 200 || !reply.data) {
        if (reply.status === 422 && reply.data) {
          // the batch as a whole could not be read (e.g. an item that breaks the schema): each is refused
          for (var r = 0; r < chunk.length; r += 1) await refuse(chunk[r].id, problemOf(reply));
          continue;
        }
        throw stopFor(reply);
      }
      var at = nowIso();
      var pairs = [[responses, reply.data.results || []], [audits, reply.data.audits || []]];
      for (var p = 0; p < pairs.length; p += 1) {
        var sent = pairs[p][0];
        var results = pairs[p][1];
        for (var k = 0; k < results.length; k += 1) {
          var result = results[k];
          var item = sent[result.index];
          if (!item) continue;
          if (result.status === 201 || result.status === 200) {
            var server = result.result || {};
            await receive(item.id, {
              at: at, http: result.status, received_at: server.received_at || null,
              status: server.status || null, quality_flags: server.quality_flags || [],
            });
            report.sent += 1;
          } else {
            await refuse(item.id, { status: result.status, detail: result.detail || '', errors: result.errors || [] });
            report.rejected += 1;
          }
        }
      }
    }
  }

  /** Send corrections of returned audits (PUT); a correction sent again after a lost reply is answered 200. */
  async function sendCorrections(session, items, report) {
    var photos = await all('photos');
    var uploaded = {};
    photos.forEach(function (p) { uploaded[p.sha256] = Boolean(p.uploaded || !p.blob); });
    var ready = items.filter(function (item) { return item.mode === 'correction' && photosReady(item, uploaded); });
    for (var i = 0; i < ready.length; i += 1) {
      var item = ready[i];
      var reply = await api(session, '/api/v1/audits/' + item.id, { method: 'PUT', json: item.body });
      if (reply.status === 200) {
        await receive(item.id, { at: nowIso(), http: 200, received_at: null, status: reply.data.status, quality_flags: reply.data.quality_flags || [] });
        await update('items', item.id, function (it) { it.review = { state: 'submitted', comment: '', history: reply.data.history || [] }; return it; });
        report.sent += 1;
      } else if (reply.status >= 400 && reply.status < 500 && reply.status !== 401 && reply.status !== 429) {
        await refuse(item.id, problemOf(reply));
        report.rejected += 1;
      } else {
        throw stopFor(reply);
      }
    }
  }

  function lastComment(history, action) {
    for (var i = (history || []).length - 1; i >= 0; i -= 1) if (history[i].action === action) return history[i];
    return null;
  }

  /** The reviewers' decisions on the account's audits: approved, returned (with the comment) or rejected. Returned
   * audits that are not on this phone (another phone, a cleared browser) are brought here to be corrected. */
  async function refreshReviews(session, report) {
    if (session.account.role !== 'inspector' && session.account.role !== 'admin') return;
    var items = await all('items');
    var byId = {};
    items.forEach(function (item) { if (item.kind === 'audit') byId[item.id] = item; });
    var reply = await api(session, '/api/v1/audits?limit=5000');
    if (reply.status !== 200 || !Array.isArray(reply.data)) throw stopFor(reply);
    var assignments = (await getMeta('assignments')) || { campaigns: [] };
    var versions = {};
    (assignments.campaigns || []).forEach(function (c) { versions[c.code] = c.questionnaire_version; });
    var reviewed = [STATE.sent, STATE.returned, STATE.accepted, STATE.rejected];
    for (var i = 0; i < reply.data.length; i += 1) {
      var summary = reply.data[i];
      var local = byId[summary.id];
      var wanted = REVIEW_STATES[summary.review_state];
      if (!wanted || summary.inspector !== session.account.username) continue; // an admin sees everyone's
      if (!local && summary.review_state !== 'returned') continue; // only returned audits need the phone
      if (local && reviewed.indexOf(local.state) < 0) continue; // being edited or waiting to send: the phone's wins
      if (local && local.state === STATE.rejected && local.problem) continue; // refused by the server, not a reviewer
      if (local && local.review && local.review.state === summary.review_state) continue; // nothing new
      var detail = null;
      if (summary.review_state === 'returned' || summary.review_state === 'rejected') {
        var found = await api(session, '/api/v1/audits/' + summary.id);
        if (found.status !== 200) throw stopFor(found);
        detail = found.data;
      }
      var event = detail ? lastComment(detail.history, summary.review_state === 'rejected' ? 'reject' : 'return') : null;
      var review = { state: summary.review_state, comment: event ? event.comment : '', at: event ? event.at : null };
      if (!local) {
        if (!versions[summary.campaign]) continue; // a campaign this account no longer works on
        await put('items', {
          id: summary.id, kind: 'audit', account: session.account.username, state: STATE.returned,
          campaign: summary.campaign, questionnaire_version: versions[summary.campaign],
          venue: { id: summary.venue, client_id: null, name: '' }, fields: { campaign: summary.campaign, venue: summary.venue },
          body: { answers: detail.answers, location: detail.location }, serverAnswers: detail.answers,
          photos: detail.photos || [], review: review, created_at: nowIso(), updated_at: nowIso(), fetched: true,
        });
        report.reviews += 1;
        continue;
      }
      await update('items', summary.id, function (item) {
        item.state = wanted;
        item.review = review;
        if (detail) item.serverAnswers = detail.answers;
        item.updated_at = nowIso();
        return item;
      });
      report.reviews += 1;
      if (wanted === STATE.accepted) await dropPhotoBytes(local);
    }
  }

  /** An approved audit's photos are on the server for good: free the phone's space (the hashes stay). */
  async function dropPhotoBytes(item) {
    var hashes = item.photos || [];
    for (var i = 0; i < hashes.length; i += 1) {
      await update('photos', hashes[i], function (p) {
        if (!p || !p.uploaded || !p.blob) return null;
        p.blob = null;
        return p;
      });
    }
  }

  /**
   * Send everything of the signed-in account that waits, once. Resolves with a report
   * {status: 'done' | 'offline' | 'expired' | 'signed-out' | 'busy', sent, rejected, photos, venues, reviews, left}.
   * 'busy': another tab or the service worker is sending right now.
   * 'offline' means: try again later (no answer, a server error or a busy server); nothing is lost either way.
   */
  function syncOnce(options) {
    // one sync at a time across the page's tabs and the service worker (Web Locks where the browser has them;
    // elsewhere two at once would only send the same idempotent requests twice)
    var locks = root.navigator && root.navigator.locks;
    if (!locks || typeof locks.request !== 'function') return syncUnlocked(options);
    return locks.request(SYNC_LOCK, { ifAvailable: true }, function (lock) {
      if (!lock) return { status: 'busy', sent: 0, rejected: 0, photos: 0, venues: 0, reviews: 0, left: -1 };
      return syncUnlocked(options);
    });
  }

  /** syncOnce without the lock. */
  async function syncUnlocked(options) {
    var opts = options || {};
    var session = await getMeta('session');
    var report = { status: 'done', sent: 0, rejected: 0, photos: 0, venues: 0, reviews: 0, left: 0 };
    if (!session || !session.token) { report.status = 'signed-out'; return report; }
    if (session.expired) { report.status = 'expired'; return report; }
    try {
      await sendVenues(session, report);
      var queued = (await all('items')).filter(function (item) { return isMine(item, session) && item.state === STATE.queued; });
      await sendPhotos(session, queued, report);
      queued = (await all('items')).filter(function (item) { return isMine(item, session) && item.state === STATE.queued; });
      await sendBatches(session, queued, report);
      await sendCorrections(session, queued, report);
      if (opts.reviews !== false) await refreshReviews(session, report);
      await setMeta('last_sync', { at: nowIso(), report: report });
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      report.status = error.reason;
      if (error.reason === 'expired') await markExpired();
    }
    report.left = (await all('items')).filter(function (item) { return isMine(item, session) && item.state === STATE.queued; }).length;
    return report;
  }

  root.FieldCore = {
    DB_NAME: DB_NAME,
    STATE: STATE,
    UNSENT: UNSENT,
    openDb: openDb,
    get: get,
    put: put,
    remove: remove,
    all: all,
    update: update,
    getMeta: getMeta,
    setMeta: setMeta,
    api: api,
    problemOf: problemOf,
    counts: counts,
    isMine: isMine,
    queue: queue,
    waitsForVenue: waitsForVenue,
    syncOnce: syncOnce,
    SYNC_TAG: 'field-outbox',
    SYNC_LOCK: SYNC_LOCK,
  };
}(typeof self !== 'undefined' ? self : this));
