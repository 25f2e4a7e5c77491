// The field app (/field/): an installable, offline-first app for interviewers and inspectors. This module reads the
// page's data block, starts the service worker and the outbox, and shows one screen at a time by the URL's hash:
//
//   #/                 home: the campaigns, what is on the phone, whether it is ready offline, storage, sign-out
//   #/signin           signing in (again, after a session expired: nothing on the phone is lost)
//   #/new/<campaign>?city=<code> | ?venue=<id|new:uuid>[&followup=1]   a new interview or audit
//   #/campaign/<code>  the venues of an inspection (search, nearby, new);  #/campaign/<code>/add-venue
//   #/items            everything on this phone with its state;  #/item/<id>: one item (a draft opens its editor)
//   #/done/<id>        "saved to the outbox"
//
// The status bar (counts of what is not yet sent, the connection, "send now") is always shown while signed in.

import './core.js';
import { focus, h, lang, megabytes, replaceChildren, serverText, setup, strings, t, when } from './dom.js';
import { openEditor, reopen } from './editor.js';
import { registerWorker, shellStatus } from './offline.js';
import { startOutbox } from './outbox.js';
import { dataReady, keepStorage, loadSession, refreshData, signIn, signOut, storageUse } from './session.js';
import { newVenueForm, phoneVenues, venuePicker } from './venues.js';

const { FieldCore } = self;
const { STATE } = FieldCore;
const RENDERER_PREFIX = 'field.renderer.';

const dataBlock = document.getElementById('field-data');
const root = document.getElementById('field-root');
const statusBar = document.getElementById('field-status');
const langSwitch = document.querySelector('.lang-switch');

let session = null;
let assignments = null;
let editor = null;
let outbox = null;
let lastReport = null;
let ready = { shell: null, data: false };

function account() {
  return session ? session.account : { username: '', role: '' };
}

function campaign(code) {
  const list = assignments ? assignments.campaigns : [];
  for (let i = 0; i < list.length; i += 1) if (list[i].code === code) return list[i];
  return null;
}

function cityName(found, code) {
  if (!code) return '';
  const cities = found && found.cities ? found.cities : [];
  for (let i = 0; i < cities.length; i += 1) {
    if (cities[i].code === code) return lang() === 'en' ? cities[i].name_en || cities[i].name_zh : cities[i].name_zh;
  }
  return code;
}

function rendererStrings() {
  const all = strings();
  const out = {};
  Object.keys(all).forEach((key) => {
    if (key.indexOf('survey.ui.') === 0) out[key] = all[key];
  });
  Object.keys(all).forEach((key) => {
    if (key.indexOf(RENDERER_PREFIX) === 0) out[`survey.ui.${key.slice(RENDERER_PREFIX.length)}`] = all[key];
  });
  return out;
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function homeLink() {
  return h('p', { className: 'back-home' }, [h('a', { href: '#/' }, [t('field.nav.home')])]);
}

function itemTitle(item) {
  const found = campaign(item.campaign);
  const name = found ? found.name : item.campaign;
  if (item.kind === 'audit') return t('field.item.audit_title', { campaign: name, venue: item.venue && item.venue.name ? item.venue.name : `#${item.venue ? item.venue.id : '?'}` });
  return t('field.item.interview_title', { campaign: name, city: cityName(found, item.city || (item.fields && item.fields.city)) });
}

function stateBadge(item) {
  return h('span', { className: `state state-${item.state}` }, [t(`field.state.${item.state}`)]);
}

async function myItems() {
  return (await FieldCore.all('items')).filter((item) => FieldCore.isMine(item, session))
    .sort((a, b) => String(b.updated_at || '').localeCompare(String(a.updated_at || '')));
}

// -- the status bar -----------------------------------------------------------------------------------------------

async function refreshStatus() {
  if (!session) {
    statusBar.hidden = true;
    return;
  }
  const counts = FieldCore.counts(await FieldCore.all('items'), session);
  const online = navigator.onLine;
  if (langSwitch) langSwitch.hidden = !online;
  const send = h('button', { type: 'button', className: 'button-secondary send-now', id: 'send-now' }, [t('field.status.send_now')]);
  send.addEventListener('click', () => {
    message.textContent = t('field.status.sending');
    outbox.sendNow('button');
  });
  const message = h('p', { className: 'sync-message', id: 'sync-message', role: 'status', 'aria-live': 'polite' }, [syncText()]);
  const parts = [
    h('p', { className: 'unsent', id: 'unsent-count' }, [
      h('strong', {}, [t('field.status.unsent', { n: counts.unsent })]), ' ',
      t('field.status.breakdown', { drafts: counts.draft + counts.correcting, queued: counts.queued }),
      ' · ', h('span', { className: `connection ${online ? 'is-online' : 'is-offline'}`, id: 'connection' }, [t(online ? 'field.status.online' : 'field.status.offline')]),
    ]),
    send,
    message,
  ];
  if (session.expired) {
    parts.push(h('p', { className: 'expired', role: 'alert' }, [
      t('field.status.expired'), ' ', h('a', { href: '#/signin' }, [t('field.status.sign_in_again')]),
    ]));
  }
  replaceChildren(statusBar, parts);
  statusBar.hidden = false;
}

function syncText() {
  if (!lastReport) return '';
  const at = when(lastReport.at);
  switch (lastReport.status) {
    case 'done':
      return lastReport.left > 0 ? t('field.sync.partial', { at, left: lastReport.left }) : t('field.sync.done', { at });
    case 'offline':
      return t('field.sync.offline', { at });
    case 'expired':
      return t('field.sync.expired');
    default:
      return '';
  }
}

function onReport(report) {
  if (report.status !== 'busy') lastReport = Object.assign({ at: new Date().toISOString() }, report);
  loadSession().then((found) => {
    if (found) session = found;
    refreshStatus();
    if (!editor) route(true);
  });
}

function afterQueue() {
  refreshStatus();
  if (outbox) outbox.afterQueue();
}

// -- readiness ----------------------------------------------------------------------------------------------------

async function checkReady() {
  const shell = await shellStatus();
  ready = { shell, data: session ? await dataReady() : false, worker: 'serviceWorker' in navigator };
  const box = document.getElementById('offline-ready');
  if (box) replaceChildren(box, readyParts());
}

function readyParts() {
  if (!ready.worker) return [h('p', { className: 'ready ready-no' }, [t('field.ready.unsupported')])];
  if (ready.shell && ready.shell.precached && ready.data) {
    return [h('p', { className: 'ready ready-yes', id: 'ready-offline' }, [t('field.ready.yes')])];
  }
  return [h('p', { className: 'ready ready-wait' }, [t('field.ready.wait')])];
}

// -- screens ------------------------------------------------------------------------------------------------------

function signInScreen() {
  const expired = Boolean(session && session.expired);
  const heading = h('h1', {}, [t('field.signin.heading')]);
  const username = h('input', { type: 'text', id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' }, []);
  const password = h('input', { type: 'password', id: 'password', name: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'signin-error' }, []);
  const error = h('p', { className: 'field-error', id: 'signin-error', role: 'alert', hidden: true }, []);
  const button = h('button', { type: 'submit', className: 'button-primary' }, [t('field.signin.submit')]);
  FieldCore.getMeta('last_account').then((last) => { if (last && !username.value) username.value = last.username; });
  const form = h('form', { className: 'signin', novalidate: true }, [
    h('div', { className: 'form-field' }, [h('label', { for: 'username' }, [t('field.signin.username')]), username]),
    h('div', { className: 'form-field' }, [h('label', { for: 'password' }, [t('field.signin.password')]), password, error]),
    h('div', { className: 'survey-actions' }, [button]),
  ]);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value) {
      error.hidden = false;
      error.textContent = t('field.signin.missing');
      (username.value.trim() ? password : username).focus();
      return;
    }
    button.disabled = true;
    const result = await signIn(username.value.trim(), password.value);
    button.disabled = false;
    if (result.problem) {
      error.hidden = false;
      error.textContent = result.problem.status === 0 ? t('field.signin.offline') : serverText(result.problem.detail) || t('field.signin.failed');
      password.setAttribute('aria-invalid', 'true');
      password.focus();
      return;
    }
    session = result.session;
    keepStorage();
    go('#/');
    await refreshStatus();
    const fetched = await refreshData(session);
    assignments = await FieldCore.getMeta('assignments');
    if (fetched.status === 'expired') session = await loadSession();
    await checkReady();
    route(true);
    outbox.sendNow('signin');
  });
  const parts = [heading];
  if (expired) parts.push(h('p', { className: 'notice', role: 'note' }, [t('field.signin.expired')]));
  parts.push(h('p', {}, [t('field.signin.intro')]), form);
  if (expired) parts.push(homeLink());
  replaceChildren(root, parts);
  focus(heading);
}

async function campaignCard(found, items) {
  const mine = items.filter((item) => item.campaign === found.code);
  const counts = FieldCore.counts(mine, session);
  const actions = [];
  if (found.accepts_new && found.kind === 'survey') {
    const select = found.cities.length > 1
      ? h('select', { id: `city-${found.code}`, 'aria-label': t('field.home.city') }, found.cities.map((c) => h('option', { value: c.code }, [cityName(found, c.code)])))
      : null;
    const start = h('button', { type: 'button', className: 'button-primary start-interview' }, [
      found.cities.length === 1 ? t('field.home.start_interview_in', { city: cityName(found, found.cities[0].code) }) : t('field.home.start_interview'),
    ]);
    start.addEventListener('click', () => {
      const city = select ? select.value : found.cities.length ? found.cities[0].code : '';
      go(`#/new/${encodeURIComponent(found.code)}?city=${encodeURIComponent(city)}`);
    });
    if (select) actions.push(h('label', { for: `city-${found.code}` }, [t('field.home.city')]), select);
    actions.push(start);
  }
  if (found.accepts_new && found.kind === 'inspection') {
    actions.push(h('a', { href: `#/campaign/${encodeURIComponent(found.code)}`, className: 'button-primary pick-venue' }, [t('field.home.pick_venue')]));
  }
  if (!found.accepts_new) actions.push(h('p', { className: 'hint' }, [t('field.home.closed', { n: found.returned })]));
  return h('li', { className: 'campaign-card' }, [
    h('h3', {}, [found.name]),
    h('p', { className: 'hint' }, [t(`field.kind.${found.kind}`), ' · ', t(`field.campaign_status.${found.status}`)]),
    h('div', { className: 'campaign-actions' }, actions),
    h('p', { className: 'campaign-counts' }, [t('field.home.counts', { drafts: counts.draft + counts.correcting, queued: counts.queued, sent: counts.sent + counts.accepted })]),
  ]);
}

async function homeScreen() {
  const items = await myItems();
  const heading = h('h1', {}, [t('field.home.heading')]);
  const who = account();
  const parts = [heading, h('p', {}, [t('field.home.signed_in', { name: who.username, role: t(`field.role.${who.role}`) })])];
  parts.push(h('section', { id: 'offline-ready', className: 'offline-ready', 'aria-live': 'polite' }, readyParts()));
  const returned = items.filter((item) => item.state === STATE.returned).length;
  if (returned) parts.push(h('p', { className: 'notice attention' }, [h('a', { href: '#/items' }, [t('field.home.returned', { n: returned })])]));
  parts.push(h('h2', {}, [t('field.home.campaigns')]));
  const campaigns = assignments ? assignments.campaigns : [];
  if (!campaigns.length) parts.push(h('p', {}, [t(assignments ? 'field.home.no_campaigns' : 'field.home.no_data')]));
  else parts.push(h('ul', { className: 'campaign-list' }, await Promise.all(campaigns.map((c) => campaignCard(c, items)))));
  parts.push(h('h2', {}, [t('field.home.on_phone')]));
  parts.push(h('p', {}, [h('a', { href: '#/items', id: 'all-items' }, [t('field.home.all_items', { n: items.length })])]));
  const others = (await FieldCore.all('items')).filter((item) => !FieldCore.isMine(item, session) && FieldCore.UNSENT.indexOf(item.state) >= 0);
  if (others.length) parts.push(h('p', { className: 'notice' }, [t('field.home.others', { n: others.length })]));
  const use = await storageUse();
  if (use) {
    parts.push(h('p', { className: 'hint', id: 'storage-use' }, [
      t('field.home.storage', { used: megabytes(use.usage), quota: megabytes(use.quota) }), ' ',
      t(use.persisted ? 'field.home.persisted' : 'field.home.not_persisted'),
    ]));
  }
  const out = h('button', { type: 'button', className: 'button-secondary', id: 'sign-out' }, [t('field.home.sign_out')]);
  out.addEventListener('click', async () => {
    const counts = FieldCore.counts(await FieldCore.all('items'), session);
    if (counts.unsent > 0 && !window.confirm(t('field.signout.confirm', { n: counts.unsent }))) return;
    await signOut(session);
    session = null;
    await refreshStatus();
    go('#/signin');
  });
  parts.push(h('div', { className: 'survey-actions' }, [out]));
  replaceChildren(root, parts);
  return heading;
}

async function itemsScreen() {
  const items = await myItems();
  const heading = h('h1', {}, [t('field.items.heading')]);
  const rows = items.map((item) => h('li', { className: 'item-row' }, [
    h('a', { href: `#/item/${item.id}` }, [itemTitle(item)]), ' ', stateBadge(item),
    h('p', { className: 'hint' }, [t('field.items.updated', { at: when(item.updated_at), id: item.id.slice(0, 8) })]),
    item.review && item.review.comment && item.state === STATE.returned ? h('p', { className: 'review-comment' }, [t('field.item.comment'), ' ', item.review.comment]) : null,
  ]));
  replaceChildren(root, [heading, rows.length ? h('ul', { className: 'item-list', id: 'item-list' }, rows) : h('p', {}, [t('field.items.none')]), homeLink()]);
  return heading;
}

function problemList(problem) {
  const errors = (problem && problem.errors) || [];
  return h('div', { className: 'problem' }, [
    h('p', {}, [serverText(problem.detail) || t('field.item.refused')]),
    errors.length ? h('ul', {}, errors.map((e) => h('li', {}, [`${e.path}: ${serverText(e.message)}`]))) : null,
  ]);
}

async function itemScreen(item) {
  const heading = h('h1', {}, [itemTitle(item)]);
  const parts = [heading, h('p', {}, [stateBadge(item), ' ', t(`field.state_long.${item.state}`)])];
  if (item.receipt) {
    parts.push(h('p', { className: 'receipt', id: 'receipt' }, [t('field.item.receipt', { at: when(item.receipt.at), id: item.id.slice(0, 8) })]));
  }
  if (item.review && item.review.comment && (item.state === STATE.returned || item.state === STATE.rejected)) {
    parts.push(h('div', { className: 'notice review-comment', id: 'review-comment' }, [h('strong', {}, [t(item.state === STATE.rejected ? 'field.item.reason' : 'field.item.comment')]), ' ', item.review.comment]));
  }
  if (item.problem && item.state === STATE.rejected) parts.push(problemList(item.problem));
  const actions = [];
  if (item.state === STATE.returned || (item.state === STATE.rejected && item.problem && item.problem.status === 422)) {
    const edit = h('button', { type: 'button', className: 'button-primary', id: 'correct-item' }, [t(item.state === STATE.returned ? 'field.item.correct' : 'field.item.fix')]);
    edit.addEventListener('click', async () => {
      await reopen(item);
      route();
    });
    actions.push(edit);
  }
  if (item.state === STATE.queued) {
    const send = h('button', { type: 'button', className: 'button-primary' }, [t('field.status.send_now')]);
    send.addEventListener('click', () => outbox.sendNow('button'));
    actions.push(send);
  }
  if (actions.length) parts.push(h('div', { className: 'survey-actions' }, actions));
  parts.push(h('p', {}, [h('a', { href: '#/items' }, [t('field.items.back')])]), homeLink());
  replaceChildren(root, parts);
  return heading;
}

function doneScreen(item) {
  const heading = h('h1', {}, [t('field.done.heading')]);
  const again = item && item.kind === 'audit'
    ? h('a', { href: `#/campaign/${encodeURIComponent(item.campaign)}`, className: 'button-primary', id: 'next-item' }, [t('field.done.next_audit')])
    : h('a', { href: item ? `#/new/${encodeURIComponent(item.campaign)}?city=${encodeURIComponent(item.city || '')}` : '#/', className: 'button-primary', id: 'next-item' }, [t('field.done.next_interview')]);
  replaceChildren(root, [
    heading,
    h('p', { className: 'lead' }, [t('field.done.text')]),
    item ? h('p', { className: 'receipt' }, [t('field.done.id', { id: item.id.slice(0, 8) })]) : null,
    h('div', { className: 'survey-actions' }, [again]),
    homeLink(),
  ]);
  return heading;
}

async function newItemSpec(code, params) {
  const found = campaign(code);
  if (!found || !found.accepts_new) return null;
  if (found.kind === 'survey') return { campaign: found, kind: 'response', city: params.get('city') || null };
  const ref = params.get('venue') || '';
  const venues = await phoneVenues(found.code, account().username);
  const venue = venues.filter((v) => (ref.indexOf('new:') === 0 ? v.client_id === ref.slice(4) : String(v.id) === ref))[0];
  if (!venue) return null;
  const stored = await FieldCore.get('questionnaires', found.questionnaire_version);
  const prefill = {};
  if (stored) {
    stored.client.sections.forEach((section) => section.questions.forEach((q) => {
      if (q.type === 'venue' && venue.id) prefill[q.id] = String(venue.id);
      if (q.type === 'venue' && !venue.id) prefill[q.id] = `new:${venue.client_id}`;
      if (q.type === 'single_choice' && q.choices && q.choices.id === 'venue_category' && q.choices.choices.some((c) => c.code === venue.category)) prefill[q.id] = venue.category;
    }));
  }
  let followUp = null;
  if (params.get('followup') && venue.id) {
    const cached = await FieldCore.get('followups', venue.id);
    followUp = cached ? cached.followup : null;
  }
  return {
    campaign: found,
    kind: 'audit',
    venue: { id: venue.id, client_id: venue.client_id || null, name: venue.name, address: venue.address || '', city: venue.city, category: venue.category },
    prefill,
    followUp,
  };
}

// -- routing ------------------------------------------------------------------------------------------------------

let routing = Promise.resolve();

/** Show the screen of the URL's hash (quiet: a refresh of the same screen, focus left where it is). */
function route(quiet) {
  routing = routing.then(() => show(quiet === true), () => show(quiet === true));
  return routing;
}

async function show(quiet) {
  const hash = location.hash || '#/';
  const [path, query] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || '');
  if (quiet && (editor || ['campaign', 'new'].indexOf(parts[0]) >= 0)) return; // someone is typing: leave it be
  if (editor) {
    editor.leave();
    editor = null;
  }
  if (!session || parts[0] === 'signin') {
    if (!session && parts[0] !== 'signin') {
      history.replaceState(null, '', '#/signin');
    }
    if (!quiet || !root.querySelector('form.signin')) signInScreen();
    return;
  }
  let heading = null;
  if (parts[0] === 'new' && parts[1]) {
    const spec = await newItemSpec(parts[1], params);
    if (!spec) {
      heading = h('h1', {}, [t('field.editor.unavailable')]);
      replaceChildren(root, [heading, homeLink()]);
    } else {
      editor = await openEditor(app, root, spec);
      return;
    }
  } else if (parts[0] === 'campaign' && parts[1]) {
    const found = campaign(parts[1]);
    if (!found) {
      heading = h('h1', {}, [t('field.editor.unavailable')]);
      replaceChildren(root, [heading, homeLink()]);
    } else if (parts[2] === 'add-venue') {
      await newVenueForm(app, root, found);
    } else {
      await venuePicker(app, root, found);
    }
    return;
  } else if (parts[0] === 'items') {
    heading = await itemsScreen();
  } else if (parts[0] === 'item' && parts[1]) {
    const item = await FieldCore.get('items', parts[1]);
    if (!item) {
      heading = h('h1', {}, [t('field.item.missing')]);
      replaceChildren(root, [heading, homeLink()]);
    } else if (item.state === STATE.draft || item.state === STATE.correcting) {
      editor = await openEditor(app, root, { item });
      return;
    } else {
      heading = await itemScreen(item);
    }
  } else if (parts[0] === 'done') {
    heading = doneScreen(parts[1] ? await FieldCore.get('items', parts[1]) : null);
  } else {
    heading = await homeScreen();
  }
  if (!quiet) focus(heading);
}

const app = {
  account,
  campaign,
  cityName,
  lang,
  rendererStrings,
  homeLink,
  go,
  refreshStatus,
  afterQueue,
  rememberEditing(id) {
    history.replaceState(null, '', `#/item/${id}`); // a reload (or a tab the camera app killed) comes back here
  },
  finished(id) {
    if (editor) {
      editor.leave();
      editor = null;
    }
    refreshStatus();
    go(`#/done/${id}`);
  },
};

async function start() {
  const data = JSON.parse(dataBlock.textContent);
  setup(data);
  root.removeAttribute('aria-busy');
  outbox = startOutbox(onReport);
  registerWorker(data.worker, (message) => {
    if (message.type === 'precached') checkReady();
    if (message.type === 'synced') onReport(message.report);
  });
  if ('serviceWorker' in navigator) navigator.serviceWorker.addEventListener('controllerchange', checkReady);
  window.addEventListener('hashchange', () => route());
  window.addEventListener('online', refreshStatus);
  window.addEventListener('offline', refreshStatus);
  session = await loadSession();
  assignments = await FieldCore.getMeta('assignments');
  await refreshStatus();
  await route();
  await checkReady();
  if (session && !session.expired) {
    if (navigator.onLine) {
      const fetched = await refreshData(session);
      if (fetched.status === 'done') assignments = await FieldCore.getMeta('assignments');
      if (fetched.status === 'expired') session = await loadSession();
      await checkReady();
      if (!editor) route(true);
    }
    outbox.sendNow('load');
  }
}

start();
