// Filling in one interview or audit: the citizen survey's renderer (render.js, the same rules and expr.js) with the
// draft kept in IndexedDB (one item of the outbox) and "finish" putting it in the outbox instead of sending it.
//
//   const editor = await openEditor(app, container, spec);   // editor.leave() when the screen changes
//   spec: {item} to continue a draft or correct a returned audit, or
//         {campaign, kind, city} (interview) / {campaign, kind, venue, followUp} (audit) for a new one.
//
// The client UUID is made when the draft starts (the renderer's newDraft) and stays with the item for good; the
// draft is saved on every change and before the camera opens; the exact body to send is frozen at "finish".

import './core.js';
import { mountSurvey } from '../survey/render.js';
import { h, label, replaceChildren, t, when } from './dom.js';
import { holdDraft } from './locks.js';
import { fieldWidgets } from './widgets.js';

const { FieldCore } = self;
const { STATE } = FieldCore;

function questionsOfType(questionnaire, type) {
  const found = [];
  questionnaire.sections.forEach((section) => section.questions.forEach((q) => { if (q.type === type) found.push(q); }));
  return found;
}

/** The question answering the venue's category (a single choice over the `venue_category` list), if any. */
export function categoryQuestion(questionnaire) {
  const found = questionsOfType(questionnaire, 'single_choice').filter((q) => q.choices && q.choices.id === 'venue_category');
  return found.length ? found[0] : null;
}

/** The audit body the batch endpoint takes, from the renderer's body (pure). */
export function auditBody(body, questionnaire, venueId) {
  const geo = questionsOfType(questionnaire, 'geopoint').map((q) => body.answers[q.id]).filter(Boolean)[0];
  const out = {
    id: body.id,
    campaign: body.campaign,
    venue: venueId,
    answers: body.answers,
    started_at: body.started_at,
    submitted_at: body.submitted_at,
  };
  if (geo) out.location = { latitude: geo.lat, longitude: geo.lon, accuracy: geo.accuracy === undefined ? null : geo.accuracy };
  return out;
}

/** The photos (SHA-256) an answer set references (pure). */
export function photosOf(answers, questionnaire) {
  const hashes = [];
  questionsOfType(questionnaire, 'photo').forEach((q) => {
    (Array.isArray(answers[q.id]) ? answers[q.id] : []).forEach((sha) => { if (hashes.indexOf(sha) < 0) hashes.push(sha); });
  });
  return hashes;
}

/** The draft store of one item (the renderer's contract: load, save, clear), created at the draft's first save. */
function itemStore(meta, onCreated) {
  let id = meta.id || null;
  return {
    load() {
      return id ? FieldCore.get('items', id).then((item) => (item ? item.draft : null)) : Promise.resolve(null);
    },
    save(draft) {
      if (draft.done) return Promise.resolve(true); // "finish" already put the item in the outbox
      const now = new Date().toISOString();
      if (!id) {
        id = draft.id;
        const item = Object.assign({}, meta, { id, state: STATE.draft, draft, created_at: now, updated_at: now });
        return FieldCore.put('items', item).then(() => { onCreated(id); return true; }, () => false);
      }
      return FieldCore.update('items', id, (item) => {
        if (item.state !== STATE.draft && item.state !== STATE.correcting) return null;
        item.draft = draft;
        item.updated_at = now;
        return item;
      }).then(() => true, () => false);
    },
    clear() {
      const gone = id;
      id = null;
      if (!gone) return Promise.resolve();
      return FieldCore.get('items', gone).then((item) => {
        if (item && item.state === STATE.draft) return FieldCore.remove('items', gone);
        return undefined;
      });
    },
    id() {
      return id;
    },
  };
}

function followUpPanel(followUp) {
  const failed = followUp.failed_checks || [];
  return h('details', { className: 'followup', open: true }, [
    h('summary', {}, [t('field.followup.heading', { date: when(followUp.visited_at) })]),
    failed.length
      ? h('ul', {}, failed.map((check) => h('li', {}, [label(check.label), ' ', h('span', { className: `severity severity-${check.severity}` }, [t(`field.severity.${check.severity}`)])])))
      : h('p', {}, [t('field.followup.none_failed')]),
    h('p', { className: 'hint' }, [t('field.followup.recheck')]),
  ]);
}

/** A draft for an item that is edited again (a returned audit, or one the server refused): its answers back. */
function reopenedDraft(item, answers) {
  const body = item.body || {};
  return {
    v: 1,
    id: item.id,
    started_at: body.started_at || new Date().toISOString(),
    answers: JSON.parse(JSON.stringify(answers || body.answers || {})),
    fields: Object.assign({}, item.fields || {}),
    section: null,
    times: {},
    outgoing: null,
    done: null,
  };
}

/** Put a returned (or refused) item back into editing, keeping its UUID. */
export function reopen(item) {
  const correction = item.state === STATE.returned || item.mode === 'correction';
  return FieldCore.update('items', item.id, (current) => {
    current.draft = reopenedDraft(current, correction ? current.serverAnswers : null);
    current.state = correction ? STATE.correcting : STATE.draft;
    current.mode = correction ? 'correction' : current.mode || 'new';
    current.updated_at = new Date().toISOString();
    return current;
  });
}

/**
 * Show the editor of `spec` in `container`; resolves with {leave()} (or null when the draft is open elsewhere or the
 * questionnaire is not on this phone, after saying so in `container`).
 */
export async function openEditor(app, container, spec) {
  const item = spec.item || null;
  const campaignCode = item ? item.campaign : spec.campaign.code;
  const campaign = app.campaign(campaignCode) || { code: campaignCode, name: campaignCode, questionnaire_version: item && item.questionnaire_version };
  const version = item ? item.questionnaire_version : campaign.questionnaire_version;
  const stored = await FieldCore.get('questionnaires', version);
  if (!stored) {
    replaceChildren(container, [h('h1', {}, [t('field.editor.no_questionnaire')]), h('p', {}, [t('field.editor.no_questionnaire_text')]), app.homeLink()]);
    return null;
  }
  const questionnaire = stored.client;
  let lock = null;
  if (item) {
    lock = await holdDraft(item.id);
    if (!lock) {
      const heading = h('h1', {}, [t('field.editor.locked')]);
      replaceChildren(container, [heading, h('p', {}, [t('field.editor.locked_text')]), app.homeLink()]);
      heading.focus();
      return null;
    }
  }
  const kind = item ? item.kind : spec.kind;
  const venue = item ? item.venue : spec.venue || null;
  const correction = Boolean(item && item.mode === 'correction');
  const fields = kind === 'response'
    ? { campaign: campaign.code, city: spec.city || (item && item.fields && item.fields.city) || null, channel: 'intercept', questionnaire_version: version }
    : { campaign: campaign.code, venue: venue && venue.id ? venue.id : null };
  const venueQuestions = questionsOfType(questionnaire, 'venue').map((q) => q.id);
  const meta = {
    id: item ? item.id : null,
    kind,
    account: app.account().username,
    campaign: campaign.code,
    questionnaire_version: version,
    city: fields.city || (venue && venue.city) || null,
    venue,
    fields,
    venueQuestions,
    followUp: spec.followUp ? { audit: spec.followUp.audit, visited_at: spec.followUp.visited_at } : null,
    mode: 'new',
  };
  let leaveHandlers = [];
  const stopAll = (handlers) => handlers.forEach((entry) => { try { entry.stop(); } catch (ignored) { /* gone */ } });
  const runLeave = () => { stopAll(leaveHandlers); leaveHandlers = []; };
  // after each new screen is in place: stop what the widgets of the screens that left had started
  const sweep = () => {
    const gone = leaveHandlers.filter((entry) => !entry.element.isConnected);
    leaveHandlers = leaveHandlers.filter((entry) => entry.element.isConnected);
    stopAll(gone);
  };
  let survey = null;
  let left = false;
  const store = itemStore(meta, (id) => {
    app.rememberEditing(id);
    holdDraft(id).then((held) => {
      if (left && held) held.release(); // the editor closed before the lock came
      else lock = held;
    });
    app.refreshStatus();
  });
  const ctx = {
    itemId: () => store.id(),
    account: () => app.account().username,
    venue: () => venue,
    saveDraft: () => (survey ? survey.save() : undefined),
    onLeave: (stop, element) => leaveHandlers.push({ stop, element }),
  };
  const { widgets, decorate } = fieldWidgets(ctx);

  function submit(body) {
    const id = store.id();
    const answers = body.answers;
    let out;
    if (correction) {
      const audit = auditBody(body, questionnaire, venue ? venue.id : null);
      out = { answers: audit.answers, location: audit.location || null, started_at: audit.started_at, submitted_at: audit.submitted_at };
    } else if (kind === 'audit') {
      out = auditBody(body, questionnaire, venue && venue.id ? venue.id : null);
    } else {
      out = Object.assign({}, body);
    }
    return FieldCore.queue(id, out, photosOf(answers, questionnaire)).then(() => {
      app.afterQueue();
      return { outcome: 'stored', result: {} };
    }, () => ({ outcome: 'unsent', status: 0 }));
  }

  const root = h('div', { className: 'survey field-survey', id: 'survey-root' }, []);
  const heading = h('h1', { className: 'editor-title' }, [
    kind === 'audit' ? t('field.editor.audit_title', { venue: venue ? venue.name : '' }) : t('field.editor.interview_title', { city: app.cityName(campaign, fields.city) }),
  ]);
  const parts = [h('p', { className: 'editor-campaign' }, [campaign.name]), heading];
  if (correction && item.review && item.review.comment) {
    parts.push(h('div', { className: 'notice review-comment', role: 'note' }, [
      h('strong', {}, [t('field.item.comment')]), ' ', item.review.comment,
    ]));
  }
  if (spec.followUp) parts.push(followUpPanel(spec.followUp));
  parts.push(root);
  const back = h('a', { href: '#/', className: 'button-link editor-back' }, [t('field.editor.back')]);
  parts.push(h('p', {}, [back]));
  replaceChildren(container, parts);

  const prefill = spec.prefill || {};
  survey = mountSurvey(root, {
    questionnaire,
    lang: app.lang(),
    strings: app.rendererStrings(),
    store,
    submit,
    fields,
    selfCompleted: false,
    widgets,
    decorate,
    autoStart: true,
    prepare(draft) {
      Object.keys(prefill).forEach((key) => { draft.answers[key] = prefill[key]; });
    },
    onScreen() {
      Promise.resolve().then(sweep);
    },
    onStored() {
      left = true;
      runLeave();
      const finished = store.id();
      if (lock) lock.release();
      lock = null;
      app.finished(finished);
    },
  });
  await survey.ready;
  return {
    leave() {
      left = true;
      runLeave();
      if (survey) survey.destroy();
      survey = null;
      if (lock) lock.release();
      lock = null;
    },
  };
}
