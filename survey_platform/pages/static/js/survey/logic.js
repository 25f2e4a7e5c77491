// The questionnaire's rules in the browser: skip logic, screening, calculations, required answers, types, ranges and
// constraints. Pure (no DOM): the same answer set gives the same verdict as the server's validate_answers
// (survey_platform/questionnaire/answers.py), which this file mirrors step by step; tests/survey/ runs both on the
// same random answer sets and compares them. Expressions are evaluated by the shared expr.js.
//
//   const form = makeForm(questionnaireJson, { selfCompleted: true });
//   const verdict = assess(form, answers);   // { errors, eligible, values, dropped, cutQuestion, isRelevant(id) }
//
// Conservative JavaScript on purpose (in-app browsers of chat apps): no optional chaining, no private fields.

import { ExprEvalError, evaluate, temporalKey } from '../expr.js';

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const isInt = (value) => typeof value === 'number' && Number.isInteger(value);
const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);
const isMapping = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const SHA256 = /^[0-9a-f]{64}$/;
const MAX_VENUE_LENGTH = 200;
const GEOPOINT_FIELDS = [['lat', -90, 90], ['lon', -180, 180], ['accuracy', 0, null]];
const GEOPOINT_TIME = 'time'; // optional: when the position was taken (a datetime, like a datetime answer)
export const INTERVIEWER = 'interviewer';

/** Unicode code points, as Python's len() counts them. */
export function codePoints(text) {
  return Array.from(text).length;
}

/**
 * Everything about a questionnaire that does not depend on the answers. `selfCompleted`: the respondent answers
 * alone (QR code, online), so the sections filled by the interviewer are left out.
 */
export function makeForm(questionnaire, options) {
  const selfCompleted = Boolean(options && options.selfCompleted);
  const form = {
    questionnaire, selfCompleted, sections: [], questions: [], order: {}, known: {}, owner: {}, sectionOf: {},
    skipped: {}, items: {}, codes: {},
  };
  questionnaire.sections.forEach((section) => {
    const left = selfCompleted && section.filled_by === INTERVIEWER;
    if (!left) form.sections.push(section);
    section.questions.forEach((question) => {
      form.order[question.id] = form.questions.length;
      form.questions.push(question);
      form.known[question.id] = question;
      form.sectionOf[question.id] = section;
      if (left) form.skipped[question.id] = true;
      if (question.type === 'matrix') {
        form.items[question.id] = {};
        question.items.forEach((item) => {
          form.owner[item.id] = question.id;
          form.items[question.id][item.id] = true;
        });
      }
      if (question.choices) {
        form.codes[question.id] = {};
        question.choices.choices.forEach((choice) => { form.codes[question.id][choice.code] = true; });
      }
    });
  });
  return form;
}

/** The missing-answer codes of a likert scale (don't know, not applicable). */
export function missingCodes(scale) {
  return (scale.missing || []).map((choice) => choice.code);
}

// -- coercion: the accepted form of one answer (null when missing or invalid), like answers.coerce() ----------------

function likert(scale, value, path, errors, question) {
  const params = { min: scale.min, max: scale.max };
  if (typeof value === 'string') {
    if (missingCodes(scale).indexOf(value) >= 0) return value;
    errors.push({ path, code: 'choice', question, params });
    return null;
  }
  if (!isInt(value)) {
    errors.push({ path, code: 'type', question, params });
    return null;
  }
  if (value < scale.min || value > scale.max) {
    errors.push({ path, code: 'range', question, params });
    return null;
  }
  return value;
}

function bounded(q, value, path, errors) {
  if ((q.min !== undefined && q.min !== null && value < q.min) || (q.max !== undefined && q.max !== null && value > q.max)) {
    errors.push({ path, code: 'range', question: q.id, params: { min: q.min, max: q.max } });
    return null;
  }
  return value;
}

function choicesList(form, q, value, path, errors) {
  if (!Array.isArray(value)) {
    errors.push({ path, code: 'type', question: q.id });
    return null;
  }
  const allowed = form.codes[q.id] || {};
  const seen = {};
  value.forEach((code, n) => {
    if (typeof code !== 'string' || !hasOwn(allowed, code)) {
      errors.push({ path: `${path}.${n}`, code: 'choice', question: q.id });
    } else if (hasOwn(seen, code)) {
      errors.push({ path: `${path}.${n}`, code: 'duplicate', question: q.id });
    }
    if (typeof code === 'string') seen[code] = true;
  });
  if (value.length === 0) return null;
  const low = q.min_selected;
  const high = q.max_selected;
  if (low !== undefined && low !== null && value.length < low) {
    errors.push({ path, code: 'count', question: q.id, params: { min: low, count: value.length } });
  }
  if (high !== undefined && high !== null && value.length > high) {
    errors.push({ path, code: 'count', question: q.id, params: { max: high, count: value.length } });
  }
  return value.slice();
}

function temporal(type, value, path, errors, q) {
  if (typeof value !== 'string') {
    errors.push({ path, code: 'type', question: q.id });
    return null;
  }
  try {
    temporalKey(type, value);
  } catch (error) {
    if (!(error instanceof ExprEvalError)) throw error;
    errors.push({ path, code: 'format', question: q.id });
    return null;
  }
  return value;
}

function geopoint(q, value, path, errors) {
  if (!isMapping(value)) {
    errors.push({ path, code: 'type', question: q.id });
    return null;
  }
  let ok = true;
  Object.keys(value).forEach((key) => {
    if (key !== GEOPOINT_TIME && !GEOPOINT_FIELDS.some((field) => field[0] === key)) {
      errors.push({ path: `${path}.${key}`, code: 'unknown', question: q.id });
      ok = false;
    }
  });
  if (value[GEOPOINT_TIME] !== null && value[GEOPOINT_TIME] !== undefined) {
    ok = temporal('datetime', value[GEOPOINT_TIME], `${path}.${GEOPOINT_TIME}`, errors, q) !== null && ok;
  }
  GEOPOINT_FIELDS.forEach(([key, low, high]) => {
    const number = hasOwn(value, key) ? value[key] : null;
    const absent = number === null || number === undefined;
    if (absent && key === 'accuracy' && (q.max_accuracy === undefined || q.max_accuracy === null)) return;
    if (absent) {
      errors.push({ path: `${path}.${key}`, code: 'required', question: q.id });
      ok = false;
    } else if (!isNumber(number) || number < low || (high !== null && number > high)) {
      errors.push({ path: `${path}.${key}`, code: isNumber(number) ? 'range' : 'type', question: q.id });
      ok = false;
    }
  });
  if (ok && q.max_accuracy !== undefined && q.max_accuracy !== null && value.accuracy > q.max_accuracy) {
    errors.push({ path: `${path}.accuracy`, code: 'range', question: q.id, params: { max: q.max_accuracy } });
    ok = false;
  }
  return ok ? Object.assign({}, value) : null;
}

function photos(q, value, path, errors) {
  if (!Array.isArray(value)) {
    errors.push({ path, code: 'type', question: q.id });
    return null;
  }
  const seen = {};
  let ok = true;
  value.forEach((photo, n) => {
    if (typeof photo !== 'string' || !SHA256.test(photo)) {
      errors.push({ path: `${path}.${n}`, code: 'format', question: q.id });
      ok = false;
    } else if (hasOwn(seen, photo)) {
      errors.push({ path: `${path}.${n}`, code: 'duplicate', question: q.id });
      ok = false;
    } else {
      seen[photo] = true;
    }
  });
  if (value.length === 0) return null;
  const low = q.min_count === undefined ? 1 : q.min_count;
  const high = q.max_count === undefined ? 10 : q.max_count;
  if (value.length < low) {
    errors.push({ path, code: 'count', question: q.id, params: { min: low, count: value.length } });
    ok = false;
  }
  if (value.length > high) {
    errors.push({ path, code: 'count', question: q.id, params: { max: high, count: value.length } });
    ok = false;
  }
  return ok ? value.slice() : null;
}

/** The accepted form of one answer (null when missing or invalid); problems go to `errors`. */
export function coerce(form, q, value, path, errors) {
  if (value === null || value === undefined) return null;
  const type = q.type;
  if (type === 'likert') return likert(q.scale, value, path, errors, q.id);
  if (type === 'matrix') {
    if (!isMapping(value)) {
      errors.push({ path, code: 'type', question: q.id });
      return null;
    }
    const items = form.items[q.id];
    const out = {};
    let any = false;
    Object.keys(value).forEach((key) => {
      if (!hasOwn(items, key)) {
        errors.push({ path: `${path}.${key}`, code: 'unknown', question: q.id, item: key });
        return;
      }
      const answer = value[key];
      const accepted = answer === null || answer === undefined ? null : likert(q.scale, answer, `${path}.${key}`, errors, q.id);
      if (accepted !== null) {
        out[key] = accepted;
        any = true;
      }
    });
    return any ? out : null;
  }
  if (type === 'single_choice') {
    if (typeof value !== 'string' || !hasOwn(form.codes[q.id] || {}, value)) {
      errors.push({ path, code: 'choice', question: q.id });
      return null;
    }
    return value;
  }
  if (type === 'multiple_choice') return choicesList(form, q, value, path, errors);
  if (type === 'yes_no') {
    if (typeof value !== 'boolean') {
      errors.push({ path, code: 'type', question: q.id });
      return null;
    }
    return value;
  }
  if (type === 'integer' || type === 'decimal') {
    if (type === 'integer' ? !isInt(value) : !isNumber(value)) {
      errors.push({ path, code: 'type', question: q.id, params: { min: q.min, max: q.max } });
      return null;
    }
    return bounded(q, value, path, errors);
  }
  if (type === 'text' || type === 'venue') {
    const limit = type === 'text' ? q.max_length : MAX_VENUE_LENGTH;
    if (typeof value !== 'string') {
      errors.push({ path, code: 'type', question: q.id, params: { max: limit } });
      return null;
    }
    const length = codePoints(value);
    if (length > limit) {
      errors.push({ path, code: 'length', question: q.id, params: { max: limit, count: length } });
      return null;
    }
    return value.trim() ? value : null;
  }
  if (type === 'date' || type === 'time' || type === 'datetime') return temporal(type, value, path, errors, q);
  if (type === 'geopoint') return geopoint(q, value, path, errors);
  if (type === 'photo') return photos(q, value, path, errors);
  return null;
}

// -- the environment expressions see, like answers._Env ---------------------------------------------------------------

/** Question id -> value as expressions see it (null when not relevant), computed lazily and memoised. */
class Env extends Map {
  constructor(form, accepted, cut) {
    super();
    this.form = form;
    this.accepted = accepted;
    this.cut = cut;
    this.memo = {};
    this.relevance = {};
    this.busy = {};
  }

  has(key) {
    return hasOwn(this.form.known, key) || hasOwn(this.form.owner, key);
  }

  get(key) {
    if (hasOwn(this.memo, key)) return this.memo[key];
    if (!this.has(key)) return undefined;
    if (this.busy[key]) return null; // a cycle: the loader refuses them
    this.busy[key] = true;
    const value = this.compute(key);
    this.busy[key] = false;
    this.memo[key] = value;
    return value;
  }

  compute(key) {
    const form = this.form;
    if (hasOwn(form.owner, key)) {
      const owner = form.owner[key];
      if (!this.relevant(owner)) return null;
      const row = this.accepted[owner];
      const point = isMapping(row) && hasOwn(row, key) ? row[key] : null;
      return isInt(point) ? point : null;
    }
    const q = form.known[key];
    if (!this.relevant(key)) return null;
    if (q.type === 'calculate' && q.calculation) {
      try {
        return normal(evaluate(q.calculation, this));
      } catch (error) {
        if (error instanceof ExprEvalError) return null;
        throw error;
      }
    }
    const value = hasOwn(this.accepted, key) ? this.accepted[key] : null;
    if (q.type === 'likert' && typeof value === 'string') return null; // don't know / not applicable: missing
    if (q.type === 'matrix') return null;
    return value === undefined ? null : value;
  }

  relevant(key) {
    if (!hasOwn(this.relevance, key)) this.relevance[key] = this.decide(key);
    return this.relevance[key];
  }

  decide(key) {
    const form = this.form;
    if (form.skipped[key]) return false;
    if (this.cut !== null && form.order[key] > this.cut) return false;
    const section = form.sectionOf[key];
    const gates = [section.relevant, form.known[key].relevant];
    for (let i = 0; i < gates.length; i += 1) {
      if (!gates[i]) continue;
      try {
        if (evaluate(gates[i], this) !== true) return false;
      } catch (error) {
        if (error instanceof ExprEvalError) return false;
        throw error;
      }
    }
    return true;
  }
}

function normal(value) {
  return value === undefined ? null : value;
}

function findCut(env) {
  const form = env.form;
  for (let position = 0; position < form.questions.length; position += 1) {
    const q = form.questions[position];
    if (!q.screen || !env.relevant(q.id)) continue;
    const value = env.get(q.id);
    if (value === null) continue;
    let result = null;
    try {
      result = evaluate(q.screen, env, { this: value });
    } catch (error) {
      if (!(error instanceof ExprEvalError)) throw error;
    }
    if (result === false) return position;
  }
  return null;
}

const isEmpty = (value) => value === null
  || (Array.isArray(value) && value.length === 0)
  || (isMapping(value) && Object.keys(value).length === 0);

/**
 * The verdict on an answer set (question id -> answer; a matrix answer is {item id: point or code}):
 * `errors` [{path: 'answers.q' or 'answers.m.item', code, question, item?, params?}] in the server's order,
 * `eligible` (false after a failed screening question, whose id is `cutQuestion`), `values` (the accepted answers
 * and the calculations), `dropped` (answers of questions that are not relevant) and `isRelevant(id)`.
 */
export function assess(form, answers) {
  const errors = [];
  const accepted = {};
  const invalid = {};
  Object.keys(answers).forEach((key) => {
    const q = hasOwn(form.known, key) ? form.known[key] : null;
    if (q === null || q.type === 'note') {
      errors.push({ path: `answers.${key}`, code: 'unknown', question: key });
      return;
    }
    if (q.type === 'calculate') return; // computed below
    const before = errors.length;
    accepted[key] = coerce(form, q, answers[key], `answers.${key}`, errors);
    if (errors.length > before) invalid[key] = true;
  });
  let env = new Env(form, accepted, null);
  const cut = findCut(env);
  if (cut !== null) env = new Env(form, accepted, cut);
  const values = {};
  const dropped = [];
  form.questions.forEach((q) => {
    const id = q.id;
    const path = `answers.${id}`;
    if (!env.relevant(id)) {
      if (hasOwn(answers, id) && answers[id] !== null && answers[id] !== undefined && q.type !== 'calculate') dropped.push(id);
      return;
    }
    if (q.type === 'calculate') {
      const computed = env.get(id);
      if (computed !== null) values[id] = computed;
      return;
    }
    if (q.type === 'note') return;
    if (invalid[id] && (q.type !== 'matrix' || !isMapping(answers[id]))) return; // already reported
    const value = hasOwn(accepted, id) ? accepted[id] : null;
    const empty = isEmpty(value);
    if (q.type === 'matrix' && q.required) {
      const row = isMapping(value) ? value : {};
      const raw = isMapping(answers[id]) ? answers[id] : {};
      if (!q.items.every((item) => hasOwn(row, item.id))) {
        q.items.forEach((item) => {
          if (!hasOwn(row, item.id) && (raw[item.id] === null || raw[item.id] === undefined)) {
            errors.push({ path: `${path}.${item.id}`, code: 'required', question: id, item: item.id });
          }
        });
      }
    } else if (q.required && empty) {
      errors.push({ path, code: 'required', question: id });
    }
    if (empty) return;
    if (q.constraint) {
      const self = q.type === 'matrix' ? null : env.get(id);
      try {
        if (evaluate(q.constraint, env, { this: self }) === false) {
          errors.push({ path, code: 'constraint', question: id });
        }
      } catch (error) {
        if (!(error instanceof ExprEvalError)) throw error;
        errors.push({ path, code: 'expression', question: id, params: { message: error.message } });
      }
    }
    values[id] = value;
  });
  return {
    errors,
    eligible: cut === null,
    values,
    dropped,
    cutQuestion: cut === null ? null : form.questions[cut].id,
    isRelevant: (id) => env.relevant(id),
  };
}

/** The question an error path names ('answers.q_age', 'answers.m.item', '$.answers.q.0'), or null. */
export function questionOfPath(form, path) {
  const parts = String(path).replace(/^\$\./, '').split('.');
  if (parts[0] !== 'answers' || parts.length < 2) return null;
  const id = parts[1];
  if (!hasOwn(form.known, id)) return null;
  const q = form.known[id];
  const item = q.type === 'matrix' && parts.length > 2 && hasOwn(form.items[id], parts[2]) ? parts[2] : null;
  return { question: id, item };
}
