// The survey renderer: one section per screen, built from the questionnaire's client JSON (Questionnaire
// .to_client_json()), with skip logic, screening, calculations and checks from logic.js (the server's rules).
//
//   mountSurvey(root, {
//     questionnaire,            // the client JSON
//     lang, strings,            // 'zh-CN' | 'en'; interface strings by key ('survey.ui.next': '下一步', ...)
//     store,                    // drafts.js contract: load() / save(draft) / clear(), each a Promise
//     submit,                   // send.js contract: submit(body) -> Promise of {outcome, ...}
//     fields,                   // fixed fields of every body: {city, channel, questionnaire_version}
//     selfCompleted,            // the respondent answers alone: leave out the interviewer's sections
//     widgets,                  // optional {type: (question, value, onChange, strings) -> Element} (photo, geopoint)
//     onStored,                 // optional (result, done) => void, after the server stored it
//     onScreen,                 // optional (name) => void: 'intro', 'section', 'sending' or 'done' is shown
//     autoStart,                // optional: no intro screen, a new draft starts at once (the field app)
//     prepare,                  // optional (draft) => void: fill a new draft before its first screen (e.g. the venue)
//     decorate,                 // optional (question) => Element or null, shown with the question's label (severity)
//   })
//
// The draft (saved on every change) holds the client UUID (made when the draft starts), the start time, the answers,
// the current section, seconds per section and, once "submit" is pressed, the exact body being sent: a retry sends
// the same bytes, so a double tap or a lost reply never stores two responses. Everything shown is text (no HTML
// from the questionnaire is ever parsed).

import { assess, makeForm, missingCodes, questionOfPath } from './logic.js';
import { newUuid } from './drafts.js';

const DRAFT_VERSION = 1;
const MAX_SECTION_SECONDS = 31 * 24 * 3600;
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

/** A DOM element with attributes (strings; `true` for a bare attribute) and children (nodes or text). */
function h(tag, attributes, children) {
  const element = document.createElement(tag);
  Object.keys(attributes || {}).forEach((name) => {
    const value = attributes[name];
    if (value === null || value === undefined || value === false) return;
    if (name === 'className') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  });
  (children || []).forEach((child) => {
    if (child === null || child === undefined || child === false) return;
    element.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  });
  return element;
}

function fill(template, params) {
  return String(template).replace(/\{(\w+)\}/g, (whole, name) => (params && hasOwn(params, name) ? String(params[name]) : whole));
}

const FULL_WIDTH_DIGITS = /[０-９．－＋]/g;
function halfWidth(text) {
  return text.replace(FULL_WIDTH_DIGITS, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** The typed answer of a number field: a number, null when empty, or the text itself (which the rules refuse). */
export function parseNumber(text, integer) {
  const trimmed = halfWidth(String(text)).trim();
  if (trimmed === '') return null;
  const pattern = integer ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
  if (!pattern.test(trimmed)) return trimmed;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

function nowIso(now) {
  return now().toISOString();
}

class Survey {
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.lang = options.lang;
    this.strings = options.strings || {};
    this.store = options.store;
    this.now = options.now || (() => new Date());
    this.form = makeForm(options.questionnaire, { selfCompleted: options.selfCompleted !== false });
    this.draft = null;
    this.verdict = null;
    this.shownErrors = false; // errors of the current section are shown (after a "next" that found some)
    this.serverErrors = {}; // question id -> [{item, message}] from a 422
    this.sending = false;
    this.visibleSince = null;
    this.retryTimer = null;
    this.onVisibility = () => this.visibilityChanged();
    this.onOnline = () => this.retryPending();
  }

  t(key, params) {
    return fill(hasOwn(this.strings, key) ? this.strings[key] : key, params);
  }

  label(text) {
    if (text === null || text === undefined) return '';
    if (typeof text === 'string') return text;
    if (hasOwn(text, this.lang)) return text[this.lang];
    const languages = this.form.questionnaire.languages || [];
    for (let i = 0; i < languages.length; i += 1) if (hasOwn(text, languages[i])) return text[languages[i]];
    const keys = Object.keys(text);
    return keys.length ? text[keys[0]] : '';
  }

  // -- lifecycle ----------------------------------------------------------------------------------------------------

  start() {
    document.addEventListener('visibilitychange', this.onVisibility);
    window.addEventListener('pagehide', this.onVisibility);
    window.addEventListener('online', this.onOnline);
    return this.store.load().then((draft) => {
      this.draft = draft && draft.v === DRAFT_VERSION ? draft : null;
      if (this.draft && this.draft.done) return this.showDone(false);
      if (this.draft && this.draft.outgoing) {
        this.reassess();
        return this.showSending(true);
      }
      if (this.draft) {
        this.reassess();
        return this.showSection(this.draft.section, { restored: true });
      }
      return this.options.autoStart ? this.begin() : this.showIntro();
    });
  }

  destroy() {
    this.commitTime();
    document.removeEventListener('visibilitychange', this.onVisibility);
    window.removeEventListener('pagehide', this.onVisibility);
    window.removeEventListener('online', this.onOnline);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  newDraft() {
    const draft = {
      v: DRAFT_VERSION,
      id: newUuid(),
      started_at: nowIso(this.now),
      answers: {},
      fields: Object.assign({}, this.options.fields || {}), // e.g. the channel of the visit that started it
      section: null,
      times: {},
      outgoing: null,
      done: null,
    };
    if (this.options.prepare) this.options.prepare(draft);
    return draft;
  }

  save() {
    this.commitTime();
    return this.store.save(this.draft).then((saved) => {
      if (!saved && !this.warnedStorage) {
        this.warnedStorage = true;
        this.announce(this.t('survey.ui.not_saved'));
      }
    });
  }

  reassess() {
    this.verdict = assess(this.form, this.draft.answers);
  }

  // -- time per section ---------------------------------------------------------------------------------------------

  commitTime() {
    if (!this.draft || this.visibleSince === null || !this.draft.section) return;
    const now = this.now().getTime();
    const seconds = Math.max(0, (now - this.visibleSince) / 1000);
    const section = this.draft.section;
    const total = (this.draft.times[section] || 0) + seconds;
    this.draft.times[section] = Math.min(MAX_SECTION_SECONDS, Math.round(total * 1000) / 1000);
    this.visibleSince = now;
  }

  visibilityChanged() {
    if (!this.draft || this.screen !== 'section') return;
    if (document.visibilityState === 'hidden') {
      this.save();
      this.visibleSince = null;
    } else if (this.visibleSince === null) {
      this.visibleSince = this.now().getTime();
    }
  }

  // -- screens ------------------------------------------------------------------------------------------------------

  replace(nodes, focus) {
    if (this.options.onScreen) this.options.onScreen(this.screen);
    this.root.textContent = '';
    nodes.forEach((node) => { if (node) this.root.appendChild(node); });
    if (focus) {
      focus.setAttribute('tabindex', '-1');
      focus.focus({ preventScroll: true });
      if (typeof this.root.scrollIntoView === 'function') this.root.scrollIntoView({ block: 'start' });
    }
  }

  status() {
    return h('p', { className: 'survey-status', role: 'status', 'aria-live': 'polite', id: 'survey-status' }, []);
  }

  announce(text) {
    const region = this.root.querySelector('#survey-status');
    if (region) region.textContent = text;
  }

  showIntro() {
    this.screen = 'intro';
    const button = h('button', { type: 'button', className: 'button-primary' }, [this.t('survey.ui.start')]);
    button.addEventListener('click', () => this.begin());
    const heading = h('h2', { className: 'survey-heading' }, [this.t('survey.ui.intro_heading')]);
    this.replace([heading, h('p', {}, [this.t('survey.ui.intro_required')]), h('div', { className: 'survey-actions' }, [button])], null);
  }

  /** A new draft (its client UUID made now) and its first screen. */
  begin() {
    this.draft = this.newDraft();
    this.reassess();
    const first = this.visibleSections()[0];
    return this.showSection(first ? first.id : null, {});
  }

  visibleSections() {
    const verdict = this.verdict;
    return this.form.sections.filter((section) => section.questions.some((q) => verdict.isRelevant(q.id)));
  }

  sectionById(id) {
    const found = this.form.sections.filter((section) => section.id === id);
    return found.length ? found[0] : null;
  }

  showSection(sectionId, how) {
    this.commitTime();
    this.reassess();
    const visible = this.visibleSections();
    let section = this.sectionById(sectionId);
    if (!section || visible.indexOf(section) < 0) section = visible[0] || null;
    if (!section) return this.submit();
    this.screen = 'section';
    this.draft.section = section.id;
    this.visibleSince = document.visibilityState === 'hidden' ? null : this.now().getTime();
    this.shownErrors = Boolean(how && how.showErrors);
    this.save();

    const heading = h('h2', { className: 'survey-heading', id: 'section-heading' }, [this.label(section.title) || this.t('survey.ui.section')]);
    const progressText = h('p', { className: 'progress-text', id: 'progress-text' }, []);
    const progress = h('progress', { className: 'progress', 'aria-labelledby': 'progress-text' }, []);
    const summary = h('div', { className: 'error-summary', id: 'error-summary', role: 'alert', hidden: true }, []);
    const children = [progressText, progress, heading];
    if (how && how.restored) children.push(h('p', { className: 'notice' }, [this.t('survey.ui.restored')]));
    if (section.description) children.push(h('p', { className: 'section-description' }, [this.label(section.description)]));
    children.push(summary);
    this.questionNodes = {};
    section.questions.forEach((q) => {
      if (q.type === 'calculate') return;
      const node = this.renderQuestion(q);
      this.questionNodes[q.id] = node;
      children.push(node);
    });
    const back = h('button', { type: 'button', className: 'button-secondary' }, [this.t('survey.ui.back')]);
    back.addEventListener('click', () => this.previous());
    const next = h('button', { type: 'submit', className: 'button-primary', id: 'survey-next' }, [this.t('survey.ui.next')]);
    this.nextButton = next;
    this.backButton = back;
    children.push(h('div', { className: 'survey-actions' }, [next, back]));
    children.push(this.status());
    if (how && how.restored) {
      const over = h('button', { type: 'button', className: 'button-link' }, [this.t('survey.ui.start_over')]);
      over.addEventListener('click', () => {
        if (window.confirm(this.t('survey.ui.start_over_confirm'))) this.startOver();
      });
      children.push(h('p', {}, [over]));
    }
    const formElement = h('form', { className: 'survey-form', novalidate: true, 'aria-labelledby': 'section-heading' }, children);
    formElement.addEventListener('submit', (event) => {
      event.preventDefault();
      this.next();
    });
    this.replace([formElement], how && how.focus === false ? null : heading);
    this.refresh();
    return undefined;
  }

  /** After any change: which questions show, the progress, the buttons, and (once shown) the errors. */
  refresh() {
    this.reassess();
    const visible = this.visibleSections();
    const current = this.sectionById(this.draft.section);
    Object.keys(this.questionNodes).forEach((id) => {
      this.questionNodes[id].hidden = !this.verdict.isRelevant(id);
    });
    const position = visible.indexOf(current);
    const progressText = this.root.querySelector('#progress-text');
    const progress = this.root.querySelector('progress');
    if (progressText && position >= 0) {
      progressText.textContent = this.t('survey.ui.progress', { n: position + 1, total: visible.length });
      progress.max = visible.length;
      progress.value = position + 1;
    }
    const last = position === visible.length - 1;
    if (this.nextButton) {
      let key = 'survey.ui.next';
      if (last) key = this.verdict.eligible ? 'survey.ui.submit' : 'survey.ui.finish';
      this.nextButton.textContent = this.t(key);
    }
    if (this.backButton) this.backButton.hidden = position <= 0;
    this.showErrors();
  }

  sectionErrors(section) {
    const ids = {};
    section.questions.forEach((q) => { ids[q.id] = true; });
    return this.verdict.errors.filter((error) => hasOwn(ids, error.question) && this.verdict.isRelevant(error.question));
  }

  /** The error messages beside each question of the current section (rules once shown, and the server's). */
  showErrors() {
    const section = this.sectionById(this.draft.section);
    const byQuestion = {};
    if (this.shownErrors) {
      this.sectionErrors(section).forEach((error) => {
        (byQuestion[error.question] = byQuestion[error.question] || []).push({ item: error.item || null, message: this.message(error) });
      });
    }
    Object.keys(this.serverErrors).forEach((id) => {
      if (!hasOwn(this.questionNodes, id)) return;
      this.serverErrors[id].forEach((problem) => (byQuestion[id] = byQuestion[id] || []).push(problem));
    });
    let count = 0;
    Object.keys(this.questionNodes).forEach((id) => {
      const problems = this.verdict.isRelevant(id) && hasOwn(byQuestion, id) ? byQuestion[id] : [];
      count += problems.length;
      this.markQuestion(id, problems);
    });
    const summary = this.root.querySelector('#error-summary');
    if (summary) {
      summary.hidden = count === 0;
      summary.textContent = count ? this.t('survey.ui.error.summary', { n: count }) : '';
    }
    return count;
  }

  markQuestion(id, problems) {
    const node = this.questionNodes[id];
    const whole = problems.filter((p) => !p.item);
    const byItem = {};
    problems.filter((p) => p.item).forEach((p) => { (byItem[p.item] = byItem[p.item] || []).push(p.message); });
    const box = node.querySelector(`#err-${id}`);
    setError(box, whole.map((p) => p.message), this.t('survey.ui.error.prefix'));
    node.classList.toggle('has-error', problems.length > 0);
    node.querySelectorAll('[data-item]').forEach((row) => {
      const item = row.getAttribute('data-item');
      const messages = byItem[item] || [];
      setError(row.querySelector('.field-error'), messages, this.t('survey.ui.error.prefix'));
      row.classList.toggle('has-error', messages.length > 0);
      row.querySelectorAll('input').forEach((input) => input.setAttribute('aria-invalid', messages.length ? 'true' : 'false'));
    });
    node.querySelectorAll('[data-control]').forEach((input) => {
      input.setAttribute('aria-invalid', whole.length ? 'true' : 'false');
    });
  }

  message(error) {
    const q = this.form.known[error.question] || {};
    const params = error.params || {};
    const hasMin = q.min !== undefined && q.min !== null;
    const hasMax = q.max !== undefined && q.max !== null;
    switch (error.code) {
      case 'required':
        return this.t(error.item ? 'survey.ui.error.required_item' : 'survey.ui.error.required');
      case 'range':
        if (q.type === 'likert' || q.type === 'matrix') return this.t('survey.ui.error.invalid');
        if (hasMin && hasMax) return this.t('survey.ui.error.range', { min: q.min, max: q.max });
        return this.t(hasMin ? 'survey.ui.error.range_min' : 'survey.ui.error.range_max', { min: q.min, max: q.max });
      case 'type':
        if (q.type === 'integer') return this.t('survey.ui.error.integer');
        if (q.type === 'decimal') return this.t('survey.ui.error.number');
        return this.t('survey.ui.error.invalid');
      case 'length':
        return this.t('survey.ui.error.length', { max: params.max, count: params.count });
      case 'count':
        return hasOwn(params, 'min') ? this.t('survey.ui.error.count_min', params) : this.t('survey.ui.error.count_max', params);
      case 'constraint':
        return q.constraint_message ? this.label(q.constraint_message) : this.t('survey.ui.error.constraint');
      default:
        return this.t('survey.ui.error.invalid');
    }
  }

  next() {
    if (this.sending) return;
    this.reassess();
    const section = this.sectionById(this.draft.section);
    this.serverErrors = {};
    if (this.sectionErrors(section).length) {
      this.shownErrors = true;
      this.showErrors();
      this.focusFirstError();
      return;
    }
    this.commitTime();
    const visible = this.visibleSections();
    const position = visible.indexOf(section);
    if (position < visible.length - 1) this.showSection(visible[position + 1].id, {});
    else this.submit();
  }

  previous() {
    const visible = this.visibleSections();
    const position = visible.indexOf(this.sectionById(this.draft.section));
    if (position > 0) this.showSection(visible[position - 1].id, {});
  }

  focusFirstError() {
    const node = this.root.querySelector('.has-error');
    if (!node) return;
    const target = node.querySelector('.has-error input, input, textarea, select') || node;
    if (target === node) node.setAttribute('tabindex', '-1');
    target.focus();
    if (typeof node.scrollIntoView === 'function') node.scrollIntoView({ block: 'center' });
  }

  startOver() {
    this.store.clear().then(() => {
      this.draft = null;
      this.serverErrors = {};
      this.showIntro();
    });
  }

  // -- answers ------------------------------------------------------------------------------------------------------

  setAnswer(id, value) {
    const answers = this.draft.answers;
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) delete answers[id];
    else answers[id] = value;
    if (hasOwn(this.serverErrors, id)) delete this.serverErrors[id];
    this.save();
    this.refresh();
  }

  setItem(id, item, value) {
    const row = Object.assign({}, this.draft.answers[id] || {});
    row[item] = value;
    if (hasOwn(this.serverErrors, id)) {
      this.serverErrors[id] = this.serverErrors[id].filter((p) => p.item !== item);
      if (!this.serverErrors[id].length) delete this.serverErrors[id];
    }
    this.setAnswer(id, row);
  }

  renderQuestion(q) {
    const value = hasOwn(this.draft.answers, q.id) ? this.draft.answers[q.id] : null;
    const hintId = `hint-${q.id}`;
    const errorId = `err-${q.id}`;
    const hint = q.hint ? h('p', { className: 'hint', id: hintId }, [this.label(q.hint)]) : null;
    const error = h('p', { className: 'field-error', id: errorId, hidden: true }, []);
    const describedBy = [q.hint ? hintId : null, errorId].filter(Boolean).join(' ');
    const mark = q.required ? null : h('span', { className: 'optional' }, [this.t('survey.ui.optional')]);
    const title = [this.label(q.label), mark ? ' ' : null, mark, this.options.decorate ? this.options.decorate(q) : null];
    if (q.type === 'note') return h('div', { className: 'question note', id: `q-${q.id}` }, [h('p', {}, [this.label(q.label)]), error]);

    const custom = this.options.widgets && this.options.widgets[q.type];
    if (custom) {
      const control = custom(q, value, (next) => this.setAnswer(q.id, next), this.strings);
      return h('div', { className: 'question', id: `q-${q.id}` }, [h('p', { className: 'question-label' }, title), hint, control, error]);
    }
    if (q.type === 'likert') {
      const scaleHint = this.scaleHint(q.scale, `scale-${q.id}`);
      const options = this.scaleOptions(q.id, q.scale, value, (next) => this.setAnswer(q.id, next), null);
      return h('fieldset', { className: 'question likert', id: `q-${q.id}`, 'aria-describedby': `scale-${q.id} ${describedBy}` }, [
        h('legend', {}, title), hint, scaleHint, options, error,
      ]);
    }
    if (q.type === 'matrix') return this.renderMatrix(q, value, title, hint, error, describedBy);
    if (q.type === 'single_choice' || q.type === 'yes_no' || q.type === 'multiple_choice') {
      const multiple = q.type === 'multiple_choice';
      const choices = q.type === 'yes_no'
        ? [{ code: true, label: this.t('survey.ui.yes') }, { code: false, label: this.t('survey.ui.no') }]
        : q.choices.choices.map((c) => ({ code: c.code, label: this.label(c.label) }));
      const list = h('div', { className: `choices${q.type === 'yes_no' ? ' choices-inline' : ''}` }, choices.map((choice, n) => {
        const inputId = `in-${q.id}-${n}`;
        const checked = multiple ? Array.isArray(value) && value.indexOf(choice.code) >= 0 : value === choice.code;
        const input = h('input', {
          type: multiple ? 'checkbox' : 'radio', name: q.id, id: inputId, value: String(choice.code), checked, 'data-control': true,
        }, []);
        input.addEventListener('change', () => {
          if (!multiple) {
            this.setAnswer(q.id, choice.code);
            return;
          }
          const chosen = [];
          choices.forEach((c, k) => { if (document.getElementById(`in-${q.id}-${k}`).checked) chosen.push(c.code); });
          this.setAnswer(q.id, chosen);
        });
        return h('label', { className: 'choice', for: inputId }, [input, h('span', {}, [choice.label])]);
      }));
      return h('fieldset', { className: 'question', id: `q-${q.id}`, 'aria-describedby': describedBy }, [h('legend', {}, title), hint, list, error]);
    }
    return this.renderInput(q, value, title, hint, error, describedBy);
  }

  renderInput(q, value, title, hint, error, describedBy) {
    const inputId = `in-${q.id}`;
    const attributes = { id: inputId, name: q.id, 'aria-describedby': describedBy, 'data-control': true, required: q.required };
    let input;
    if (q.type === 'text' && q.multiline) {
      input = h('textarea', Object.assign(attributes, { rows: 4, maxlength: q.max_length }), []);
      input.value = value === null ? '' : String(value);
    } else {
      const kinds = { integer: 'text', decimal: 'text', text: 'text', venue: 'text', date: 'date', time: 'time', datetime: 'datetime-local' };
      const type = hasOwn(kinds, q.type) ? kinds[q.type] : 'text';
      Object.assign(attributes, { type });
      if (q.type === 'integer') Object.assign(attributes, { inputmode: 'numeric', autocomplete: 'off' });
      if (q.type === 'decimal') Object.assign(attributes, { inputmode: 'decimal', autocomplete: 'off' });
      if (q.type === 'text') Object.assign(attributes, { maxlength: q.max_length, autocomplete: 'off' });
      if (q.type === 'integer' || q.type === 'decimal') attributes.className = 'input-number';
      input = h('input', attributes, []);
      input.value = value === null ? '' : String(value);
    }
    if (q.type !== 'integer' && q.type !== 'decimal' && q.type !== 'text' && !hasOwn({ date: 1, time: 1, datetime: 1 }, q.type)) {
      const note = h('p', { className: 'hint' }, [this.t('survey.ui.unsupported')]);
      return h('div', { className: 'question', id: `q-${q.id}` }, [h('p', { className: 'question-label' }, title), note, error]);
    }
    const read = () => {
      const text = input.value;
      if (q.type === 'integer' || q.type === 'decimal') return parseNumber(text, q.type === 'integer');
      if (q.type === 'datetime') return text ? (text.length === 16 ? `${text}:00` : text) : null;
      return text === '' ? null : text;
    };
    input.addEventListener(q.type === 'text' ? 'input' : 'change', () => this.setAnswer(q.id, read()));
    if (q.type === 'integer' || q.type === 'decimal') input.addEventListener('input', () => this.setAnswerQuietly(q.id, read()));
    const unit = q.unit ? h('span', { className: 'unit' }, [this.label(q.unit)]) : null;
    return h('div', { className: 'question', id: `q-${q.id}` }, [
      h('label', { for: inputId, className: 'question-label' }, title), hint,
      h('div', { className: 'input-row' }, [input, unit]), error,
    ]);
  }

  /** Save a number while it is typed, without re-drawing its errors at every key (they update on change). */
  setAnswerQuietly(id, value) {
    const answers = this.draft.answers;
    if (value === null) delete answers[id];
    else answers[id] = value;
    this.save();
  }

  scaleHint(scale, id) {
    const labelled = Object.keys(scale.labels || {}).map(Number).sort((a, b) => a - b);
    const parts = labelled.map((point) => this.t('survey.ui.scale_point', { point, label: this.label(scale.labels[String(point)]) }));
    return h('p', { className: 'scale-hint', id }, [parts.join(this.t('survey.ui.scale_separator'))]);
  }

  /** Native radio buttons for the points of a scale and its "don't know" / "not applicable" answers. */
  scaleOptions(name, scale, value, onChange, item) {
    const points = [];
    for (let p = scale.min; p <= scale.max; p += 1) points.push(p);
    const base = item ? `${name}-${item}` : name;
    const option = (code, text, extra, className) => {
      const inputId = `in-${base}-${code}`;
      const input = h('input', {
        type: 'radio', name: item ? `${name}.${item}` : name, id: inputId, value: String(code), checked: value === code, 'data-control': !item,
      }, []);
      input.addEventListener('change', () => onChange(code));
      return h('label', { className, for: inputId }, [input, h('span', { className: 'option-text' }, [text]), extra]);
    };
    const pointOptions = points.map((p) => {
      const named = scale.labels && hasOwn(scale.labels, String(p)) ? this.label(scale.labels[String(p)]) : '';
      const extra = named ? h('span', { className: 'visually-hidden' }, [` ${named}`]) : null;
      return option(p, String(p), extra, 'point');
    });
    const missing = (scale.missing || []).map((choice) => option(choice.code, this.label(choice.label), null, 'point point-missing'));
    return h('div', { className: 'scale-options' }, [h('div', { className: 'points' }, pointOptions), missing.length ? h('div', { className: 'missing' }, missing) : null]);
  }

  renderMatrix(q, value, title, hint, error, describedBy) {
    const row = value && typeof value === 'object' ? value : {};
    const scale = q.scale;
    const head = h('div', { className: 'matrix-head', 'aria-hidden': 'true' }, [h('span', {}, [])].concat(
      (() => {
        const cells = [];
        for (let p = scale.min; p <= scale.max; p += 1) cells.push(h('span', { className: 'matrix-head-point' }, [String(p)]));
        (scale.missing || []).forEach((choice) => cells.push(h('span', { className: 'matrix-head-missing' }, [this.label(choice.label)])));
        return cells;
      })(),
    ));
    const rows = q.items.map((item) => {
      const current = hasOwn(row, item.id) ? row[item.id] : null;
      const legendId = `legend-${q.id}-${item.id}`;
      return h('fieldset', { className: 'matrix-row', 'data-item': item.id, id: `row-${q.id}-${item.id}` }, [
        h('legend', { id: legendId }, [this.label(item.label)]),
        item.hint ? h('p', { className: 'hint' }, [this.label(item.hint)]) : null,
        this.scaleOptions(q.id, scale, current, (next) => this.setItem(q.id, item.id, next), item.id),
        h('p', { className: 'field-error', hidden: true }, []),
      ]);
    });
    const grid = h('div', { className: 'matrix-grid' }, [head].concat(rows));
    grid.style.setProperty('--points', String(scale.max - scale.min + 1));
    grid.style.setProperty('--missing', String(missingCodes(scale).length));
    return h('fieldset', { className: 'question matrix', id: `q-${q.id}`, 'aria-describedby': `scale-${q.id} ${describedBy}` }, [
      h('legend', {}, title), hint, this.scaleHint(scale, `scale-${q.id}`), h('div', { className: 'matrix-container' }, [grid]), error,
    ]);
  }

  // -- sending ------------------------------------------------------------------------------------------------------

  body() {
    const answers = {};
    this.form.questions.forEach((q) => {
      if (q.type === 'calculate' || q.type === 'note' || !this.verdict.isRelevant(q.id)) return;
      if (hasOwn(this.verdict.values, q.id)) answers[q.id] = this.verdict.values[q.id];
    });
    const sections = {};
    Object.keys(this.draft.times).forEach((id) => { sections[id] = this.draft.times[id]; });
    return Object.assign({}, this.options.fields || {}, this.draft.fields || {}, {
      id: this.draft.id,
      answers,
      started_at: this.draft.started_at,
      submitted_at: nowIso(this.now),
      paradata: { sections },
    });
  }

  submit() {
    if (this.sending) return undefined;
    this.reassess();
    if (this.verdict.errors.length) {
      const first = this.verdict.errors[0];
      this.serverErrors = {};
      return this.showSection(this.form.sectionOf[first.question].id, { showErrors: true });
    }
    this.sending = true; // at once: a second tap in the same instant finds it set
    const button = this.root.querySelector('#survey-next');
    if (button) button.disabled = true;
    this.commitTime();
    this.visibleSince = null; // the time spent waiting for the server is nobody's section
    this.draft.outgoing = this.body(); // frozen: every retry sends exactly these bytes
    this.draft.cut = this.verdict.cutQuestion;
    return this.save().then(() => this.transmit());
  }

  showSending(resumed) {
    this.screen = 'sending';
    const heading = h('h2', { className: 'survey-heading' }, [this.t('survey.ui.sending_heading')]);
    const retry = h('button', { type: 'button', className: 'button-primary', id: 'survey-retry', hidden: true }, [this.t('survey.ui.retry')]);
    retry.addEventListener('click', () => this.send());
    this.replace([heading, this.status(), h('div', { className: 'survey-actions' }, [retry])], heading);
    if (resumed) this.send();
  }

  retryPending() {
    if (this.draft && this.draft.outgoing && !this.sending) this.send();
  }

  /** Send the frozen body again (the retry button, the `online` event, a timer, a reload with a pending send). */
  send() {
    if (this.sending || !this.draft || !this.draft.outgoing) return Promise.resolve();
    this.sending = true;
    return this.transmit();
  }

  transmit() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const button = this.root.querySelector('#survey-retry');
    if (button) button.disabled = true;
    if (this.screen !== 'sending') this.showSending(false);
    this.announce(this.t('survey.ui.sending'));
    return this.options.submit(this.draft.outgoing).then((reply) => {
      this.sending = false;
      return this.received(reply);
    }, () => {
      this.sending = false;
      return this.received({ outcome: 'unsent', status: 0 });
    });
  }

  received(reply) {
    const retry = this.root.querySelector('#survey-retry');
    if (reply.outcome === 'stored') {
      const eligible = reply.result && reply.result.eligible !== undefined ? reply.result.eligible : this.verdict.eligible;
      const done = { id: this.draft.id, eligible, cut: eligible ? null : this.draft.cut || null };
      this.draft = { v: DRAFT_VERSION, done }; // the answers leave this device once stored
      return this.store.save(this.draft).then(() => {
        if (this.options.onStored) this.options.onStored(reply.result, done);
        this.showDone(true);
      });
    }
    if (reply.outcome === 'rejected') {
      this.draft.outgoing = null;
      this.serverErrors = {};
      let firstSection = null;
      const general = [];
      const unasked = [];
      (reply.errors || []).forEach((problem) => {
        const found = questionOfPath(this.form, problem.path);
        const message = this.serverMessage(problem.message);
        if (!found) {
          if (general.indexOf(message) < 0) general.push(message); // not about an answer (the city, the times...)
          return;
        }
        if (!this.verdict.isRelevant(found.question)) {
          // a question this page does not ask: the server's view follows from the answers it names elsewhere
          if (unasked.indexOf(message) < 0) unasked.push(message);
          return;
        }
        (this.serverErrors[found.question] = this.serverErrors[found.question] || []).push({ item: found.item, message });
        if (!firstSection) firstSection = this.form.sectionOf[found.question].id;
      });
      if (!firstSection && !general.length) Array.prototype.push.apply(general, unasked);
      return this.save().then(() => {
        this.showSection(firstSection || this.draft.section || this.form.sections[0].id, { focus: false });
        const summary = this.root.querySelector('#error-summary');
        summary.hidden = false;
        summary.textContent = [this.t('survey.ui.server_rejected')].concat(general).join(' ');
        this.focusFirstError();
        if (!this.root.querySelector('.has-error')) {
          summary.setAttribute('tabindex', '-1');
          summary.focus();
        }
      });
    }
    if (retry) {
      retry.hidden = false;
      retry.disabled = false;
    }
    if (reply.outcome === 'busy') {
      this.announce(this.t('survey.ui.busy', { seconds: reply.retryAfter }));
      this.retryTimer = setTimeout(() => this.send(), Math.min(reply.retryAfter, 3600) * 1000);
      return undefined;
    }
    if (reply.outcome === 'refused') {
      if (retry) retry.hidden = true;
      this.announce(`${this.t('survey.ui.refused')} ${this.serverMessage(reply.detail || '')}`.trim());
      return undefined;
    }
    this.announce(this.t('survey.ui.unsent'));
    this.retryTimer = setTimeout(() => this.send(), 30000);
    return undefined;
  }

  /** The part of a bilingual server message ("中文 / English") in the page's language. */
  serverMessage(text) {
    const message = String(text || '');
    const cut = message.indexOf(' / ');
    if (cut < 0) return message;
    return this.lang === 'en' ? message.slice(cut + 3) : message.slice(0, cut);
  }

  showDone(justNow) {
    this.screen = 'done';
    const done = this.draft.done;
    const children = [];
    let heading;
    if (done.eligible === false) {
      heading = h('h2', { className: 'survey-heading' }, [this.t('survey.ui.screened_heading')]);
      const cut = done.cut && this.form.known[done.cut];
      children.push(heading, h('p', { className: 'lead' }, [cut && cut.screen_message ? this.label(cut.screen_message) : this.t('survey.ui.screened_text')]));
    } else {
      heading = h('h2', { className: 'survey-heading' }, [this.t('survey.ui.thanks_heading')]);
      children.push(heading, h('p', { className: 'lead' }, [this.t('survey.ui.thanks_text')]));
    }
    children.push(h('p', { className: 'receipt' }, [this.t('survey.ui.receipt', { id: String(done.id).slice(0, 8) })]));
    const again = h('button', { type: 'button', className: 'button-secondary' }, [this.t('survey.ui.again')]);
    again.addEventListener('click', () => this.startOver());
    children.push(h('div', { className: 'survey-actions' }, [again]));
    this.replace(children, justNow ? heading : null);
  }
}

function setError(box, messages, prefix) {
  if (!box) return;
  box.textContent = '';
  box.hidden = messages.length === 0;
  if (!messages.length) return;
  box.appendChild(h('span', { className: 'error-prefix' }, [prefix]));
  box.appendChild(document.createTextNode(` ${messages.join(' ')}`));
}

/** Show the survey in `root`; returns the running survey (call destroy() to detach its listeners). */
export function mountSurvey(root, options) {
  const survey = new Survey(root, options);
  survey.ready = survey.start();
  return survey;
}
