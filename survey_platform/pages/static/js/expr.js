// Evaluator of compiled questionnaire expressions (relevant / constraint / calculate), for the browser and Node 20.
//
// A dependency-free ES module mirroring survey_platform/questionnaire/expr/evaluator.py: same values, same null
// semantics, same step counting (one step per node visited, plus one per character a regex scans), same linear-time
// regex engine, same number formatting and rounding. The compiled JSON comes from the server's compile_expr():
// {"v": 1, "type": ..., "caps": {...}, "ast": ...}. docs/expressions.md describes the language;
// tests/conformance/cases.yaml is run against both evaluators.

export const AST_VERSION = 1;

// The same numbers as survey_platform/questionnaire/expr/caps.py (a test checks they agree); the caps shipped in
// the compiled JSON take precedence.
export const DEFAULT_CAPS = Object.freeze({
  max_depth: 32,
  max_steps: 10000,
  max_string_length: 10000,
  max_regex_length: 500,
  max_regex_repeat: 100,
  max_regex_program: 1000,
  max_round_digits: 10,
});

const MAX_SAFE = 2 ** 53;
// Object.hasOwn and ?? are left out for the older in-app browsers where QR codes open (Chrome < 93, iOS < 15.4).
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const MAX_ADD_DAYS = 3660000;
const KIND_ZH = { null: '空值', number: '数值', string: '文本', boolean: '布尔值', list: '列表', geopoint: '地理位置' };

/** An evaluation-time error; `code` is the same as in Python (steps, division_by_zero, type, format, ...). */
export class ExprEvalError extends Error {
  constructor(code, zh, en) {
    super(`${zh} / ${en}`);
    this.name = 'ExprEvalError';
    this.code = code;
    this.messageZh = zh;
    this.messageEn = en;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Values

function kind(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'geopoint';
  throw new ExprEvalError('type', `不支持的值类型 ${typeof value}`, `unsupported value of type ${typeof value}`);
}

function typeError(what, wantedZh, wantedEn, value) {
  const got = kind(value);
  return new ExprEvalError('type', `${what} 需要${wantedZh}，却得到${KIND_ZH[got]}`, `${what} needs ${wantedEn}, got ${got}`);
}

function isNumber(value) {
  return typeof value === 'number';
}

function input(value) {
  if (value === undefined) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ExprEvalError('type', '答案不是有限数值', 'an answer is not a finite number');
    return value === 0 ? 0 : value;
  }
  kind(value);
  return value;
}

function normalize(value) {
  if (!Number.isFinite(value)) {
    throw new ExprEvalError('range', '数值超出范围（无穷大或非数）', 'number out of range (infinite or not a number)');
  }
  return value === 0 ? 0 : value;
}

/** Compare two strings by code points (like Python), not UTF-16 code units. */
function compareStrings(a, b) {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i);
    const y = b.codePointAt(j);
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  if (i < a.length) return 1;
  if (j < b.length) return -1;
  return 0;
}

function codePointLength(text) {
  let count = 0;
  for (const _ of text) count += 1; // eslint-disable-line no-unused-vars
  return count;
}

function checkLength(text, max) {
  if (codePointLength(text) > max) {
    throw new ExprEvalError('too_long', `生成的文本超过 ${max} 个字符`, `produced string longer than ${max} characters`);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers: shortest digits, rounding half away from zero on them, number(), like numbers.py

function shortestDigits(value) {
  let text = String(value);
  const negative = text.startsWith('-');
  if (negative) text = text.slice(1);
  const [mantissa, exponent] = text.split('e');
  const [whole, fraction = ''] = mantissa.split('.');
  const all = whole + fraction;
  const stripped = all.replace(/^0+/, '');
  let point = whole.length + (exponent ? Number(exponent) : 0) - (all.length - stripped.length);
  const digits = stripped.replace(/0+$/, '');
  if (!digits) return [negative, '0', 1];
  return [negative, digits, point];
}

export function roundHalfAway(value, digits) {
  if (Number.isInteger(value)) return normalize(value);
  const [negative, text, point] = shortestDigits(value);
  const keep = point + digits;
  if (keep >= text.length) return normalize(value);
  if (keep < 0) return 0;
  const prefix = text.slice(0, keep);
  const mantissa = BigInt(prefix || '0') + (text[keep] >= '5' ? 1n : 0n);
  return normalize(Number(`${negative ? '-' : ''}${mantissa}e${point - keep}`));
}

function isDecimalLiteral(text) {
  const n = text.length;
  let i = 0;
  const digit = (c) => c >= '0' && c <= '9';
  if (i < n && (text[i] === '+' || text[i] === '-')) i += 1;
  let start = i;
  while (i < n && digit(text[i])) i += 1;
  const intDigits = i - start;
  let fracDigits = 0;
  if (i < n && text[i] === '.') {
    i += 1;
    start = i;
    while (i < n && digit(text[i])) i += 1;
    fracDigits = i - start;
  }
  if (intDigits === 0 && fracDigits === 0) return false;
  if (i < n && (text[i] === 'e' || text[i] === 'E')) {
    i += 1;
    if (i < n && (text[i] === '+' || text[i] === '-')) i += 1;
    start = i;
    while (i < n && digit(text[i])) i += 1;
    if (i === start) return false;
  }
  return i === n;
}

function parseNumber(text) {
  const stripped = text.replace(/^[ \t\n\r]+/, '').replace(/[ \t\n\r]+$/, '');
  if (!isDecimalLiteral(stripped)) return null;
  const value = Number(stripped);
  if (!Number.isFinite(value)) return null;
  return value === 0 ? 0 : value;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates and times, like temporal.py

const DATE_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIME_RE = /^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?$/;
const DATETIME_RE =
  /^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)(Z|[+-][0-9]{2}:[0-9]{2})?$/;
const TEMPORAL_ZH = { date: '日期', time: '时间', datetime: '日期时间' };

function badTemporal(kindName, value) {
  const shown = value.slice(0, 40);
  return new ExprEvalError('format', `无效的${TEMPORAL_ZH[kindName]} '${shown}'`, `invalid ${kindName} '${shown}'`);
}

const floorDiv = (a, b) => Math.floor(a / b);
const pad = (n, width) => String(n).padStart(width, '0');

function daysInMonth(year, month) {
  if (month === 2) return (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y >= 0 ? y : y - 399, 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = floorDiv(153 * mp + 2, 5) + day - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days) {
  const z = days + 719468;
  const era = floorDiv(z >= 0 ? z : z - 146096, 146097);
  const doe = z - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const d = doy - floorDiv(153 * mp + 2, 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [m <= 2 ? y + 1 : y, m, d];
}

function parseDate(value) {
  const match = DATE_RE.exec(value);
  if (!match) throw badTemporal('date', value);
  const [year, month, day] = match.slice(1, 4).map(Number);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw badTemporal('date', value);
  }
  return [year, month, day];
}

function timeParts(value, kindName) {
  const match = TIME_RE.exec(value);
  if (!match) throw badTemporal(kindName, value);
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  const second = Number(match[3] || '0');
  const fraction = (match[4] || '').padEnd(9, '0');
  if (hour > 23 || minute > 59 || second > 59) throw badTemporal(kindName, value);
  return [hour, minute, second, fraction];
}

const formatDate = (y, m, d) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;

/** A string that orders like the instant `value` denotes (like temporal.py temporal_key); ExprEvalError "format" when malformed. */
export function temporalKey(kindName, value) {
  if (kindName === 'date') return formatDate(...parseDate(value));
  if (kindName === 'time') {
    const [h, mi, s, f] = timeParts(value, 'time');
    return `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${f}`;
  }
  const match = DATETIME_RE.exec(value);
  if (!match) throw badTemporal('datetime', value);
  let year, month, day, hour, minute, second, fraction;
  try {
    [year, month, day] = parseDate(match[1]);
    [hour, minute, second, fraction] = timeParts(match[2], 'datetime');
  } catch (error) {
    if (error instanceof ExprEvalError) throw badTemporal('datetime', value);
    throw error;
  }
  const offset = match[3];
  if (offset && offset !== 'Z') {
    const offH = Number(offset.slice(1, 3));
    const offM = Number(offset.slice(4, 6));
    if (offH > 23 || offM > 59) throw badTemporal('datetime', value);
    const sign = offset[0] === '+' ? 1 : -1;
    const total = daysFromCivil(year, month, day) * 1440 + hour * 60 + minute - sign * (offH * 60 + offM);
    const days = floorDiv(total, 1440);
    const minutes = total - days * 1440;
    [year, month, day] = civilFromDays(days);
    hour = floorDiv(minutes, 60);
    minute = minutes - hour * 60;
  }
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${fraction}`;
}

function dayNumber(value) {
  if (value.length > 10) {
    temporalKey('datetime', value);
    return daysFromCivil(...parseDate(value.slice(0, 10)));
  }
  return daysFromCivil(...parseDate(value));
}

function addDays(value, days) {
  const [year, month, day] = civilFromDays(dayNumber(value) + days);
  if (year < 1 || year > 9999) throw new ExprEvalError('range', '日期超出 0001-9999 年的范围', 'date outside the years 0001-9999');
  return formatDate(year, month, day);
}

// ---------------------------------------------------------------------------------------------------------------
// Linear-time regex engine, like regex.py: the same syntax, the same program, a Thompson-NFA simulation.

const MAX_CODE_POINT = 0x10ffff;
const DIGIT = [[48, 57]];
const WORD = [[48, 57], [65, 90], [95, 95], [97, 122]];
const SPACE = [[9, 13], [32, 32]];
const NEWLINE = [[10, 10]];
const SIMPLE_ESCAPES = { n: 10, t: 9, r: 13, f: 12, v: 11 };
const CLASS_ESCAPES = {
  d: [DIGIT, false], D: [DIGIT, true], w: [WORD, false], W: [WORD, true], s: [SPACE, false], S: [SPACE, true],
};
const QUANTIFIERS = '*+?{';

/** A regex syntax error with its offset (code points) in the pattern. */
export class RegexSyntaxError extends Error {
  constructor(offset, zh, en) {
    super(`正则表达式错误：${zh} / regex error: ${en}`);
    this.offset = offset;
  }
}

function mergeRanges(ranges) {
  const sorted = ranges.map((r) => [r[0], r[1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const [lo, hi] of sorted) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged;
}

function complement(ranges) {
  const result = [];
  let start = 0;
  for (const [lo, hi] of ranges) {
    if (lo > start) result.push([start, lo - 1]);
    start = hi + 1;
  }
  if (start <= MAX_CODE_POINT) result.push([start, MAX_CODE_POINT]);
  return result;
}

const isAsciiDigits = (text) => /^[0-9]+$/.test(text);
const isHex4 = (text) => /^[0-9a-fA-F]{4}$/.test(text);

class RegexParser {
  constructor(pattern, caps) {
    this.text = Array.from(pattern);
    this.pos = 0;
    this.caps = caps;
    this.depth = 0;
  }

  peek() {
    return this.pos < this.text.length ? this.text[this.pos] : null;
  }

  checkSize(size, offset) {
    if (size + 1 > this.caps.max_regex_program) {
      const max = this.caps.max_regex_program;
      throw new RegexSyntaxError(offset, `展开后超过 ${max} 条指令`, `pattern larger than ${max} instructions once expanded`);
    }
    return size;
  }

  parse() {
    const result = this.alternation();
    if (this.pos < this.text.length) throw new RegexSyntaxError(this.pos, "多余的 ')'", "unmatched ')'");
    return result;
  }

  alternation() {
    const start = this.pos;
    const branches = [this.sequence()];
    while (this.peek() === '|') {
      this.pos += 1;
      branches.push(this.sequence());
    }
    if (branches.length === 1) return branches[0];
    const size = branches.reduce((total, [, s]) => total + s, 0) + 2 * (branches.length - 1);
    return [['alt', branches.map(([node]) => node)], this.checkSize(size, start)];
  }

  sequence() {
    const items = [];
    let size = 0;
    let char;
    while ((char = this.peek()) !== null && char !== '|' && char !== ')') {
      const start = this.pos;
      let [atom, atomSize, repeatable] = this.atom();
      const next = this.peek();
      if (next !== null && QUANTIFIERS.includes(next)) {
        if (!repeatable) throw new RegexSyntaxError(this.pos, '量词前面没有可重复的内容', 'nothing to repeat');
        [atom, atomSize] = this.quantified(atom, atomSize, start);
      }
      items.push(atom);
      size = this.checkSize(size + atomSize, start);
    }
    if (items.length === 0) return [['empty'], 0];
    return [items.length === 1 ? items[0] : ['cat', items], size];
  }

  quantified(atom, size, start) {
    const at = this.pos;
    const char = this.text[at];
    this.pos += 1;
    let low;
    let high;
    if (char === '*') [low, high] = [0, null];
    else if (char === '+') [low, high] = [1, null];
    else if (char === '?') [low, high] = [0, 1];
    else [low, high] = this.braces(at);
    const following = this.peek();
    if (following === '?') throw new RegexSyntaxError(this.pos, '不支持非贪婪量词', 'lazy quantifiers are not supported');
    if (following !== null && QUANTIFIERS.includes(following)) {
      throw new RegexSyntaxError(this.pos, '量词重复', 'multiple repeat');
    }
    const total = low * size + (high === null ? size + 2 : (high - low) * (size + 1));
    return [['rep', atom, low, high], this.checkSize(total, at)];
  }

  braces(at) {
    const close = this.text.indexOf('}', at);
    const body = close !== -1 ? this.text.slice(at + 1, close).join('') : '';
    const comma = body.indexOf(',');
    const lowText = comma === -1 ? body : body.slice(0, comma);
    const highText = comma === -1 ? '' : body.slice(comma + 1);
    if (close === -1 || !isAsciiDigits(lowText) || (highText && !isAsciiDigits(highText))) {
      throw new RegexSyntaxError(at, '重复次数格式错误，应为 {m}、{m,} 或 {m,n}', 'malformed repetition, use {m}, {m,} or {m,n}');
    }
    const low = Number(lowText);
    const high = comma === -1 ? low : (highText ? Number(highText) : null);
    const limit = this.caps.max_regex_repeat;
    if (low > limit || (high !== null && high > limit)) {
      throw new RegexSyntaxError(at, `重复次数不能超过 ${limit}`, `repetition count above ${limit}`);
    }
    if (high !== null && high < low) {
      throw new RegexSyntaxError(at, '重复次数 {m,n} 中 m 大于 n', 'repetition {m,n} with m > n');
    }
    this.pos = close + 1;
    return [low, high];
  }

  atom() {
    const at = this.pos;
    const char = this.text[at];
    this.pos += 1;
    if (char === '(') {
      if (this.text[this.pos] === '?' && this.text[this.pos + 1] === ':') this.pos += 2;
      else if (this.peek() === '?') {
        throw new RegexSyntaxError(at, '不支持的分组（只支持 ( ) 和 (?: )）', 'unsupported group (only ( ) and (?: ))');
      }
      this.depth += 1;
      if (this.depth > this.caps.max_depth) throw new RegexSyntaxError(at, '分组嵌套过深', 'groups nested too deeply');
      const [node, size] = this.alternation();
      this.depth -= 1;
      if (this.peek() !== ')') throw new RegexSyntaxError(at, "缺少 ')'", "missing ')'");
      this.pos += 1;
      return [node, size, true];
    }
    if (char === '[') return [['set', this.charClass(at)], 1, true];
    if (char === '^') return [['bol'], 1, false];
    if (char === '$') return [['eol'], 1, false];
    if (char === '.') return [['set', complement(NEWLINE)], 1, true];
    if (char === '\\') return [['set', this.escape(at)[0]], 1, true];
    if (QUANTIFIERS.includes(char)) throw new RegexSyntaxError(at, '量词前面没有可重复的内容', 'nothing to repeat');
    if (char === ']' || char === '}') {
      throw new RegexSyntaxError(at, `'${char}' 需要转义为 '\\${char}'`, `unescaped '${char}', write '\\${char}'`);
    }
    const code = char.codePointAt(0);
    return [['set', [[code, code]]], 1, true];
  }

  escape(at) {
    if (this.pos >= this.text.length) throw new RegexSyntaxError(at, "末尾的 '\\' 没有转义任何字符", "trailing '\\'");
    const char = this.text[this.pos];
    this.pos += 1;
    if (hasOwn(CLASS_ESCAPES, char)) {
      const [ranges, negated] = CLASS_ESCAPES[char];
      return [negated ? complement(ranges) : ranges, false];
    }
    if (hasOwn(SIMPLE_ESCAPES, char)) {
      const code = SIMPLE_ESCAPES[char];
      return [[[code, code]], true];
    }
    if (char === 'u') {
      const digits = this.text.slice(this.pos, this.pos + 4).join('');
      if (!isHex4(digits) || this.text.slice(this.pos, this.pos + 4).length !== 4) {
        throw new RegexSyntaxError(at, '\\u 后面需要 4 位十六进制数字', '\\u needs 4 hex digits');
      }
      this.pos += 4;
      const code = parseInt(digits, 16);
      return [[[code, code]], true];
    }
    const code = char.codePointAt(0);
    const alnum = /^[A-Za-z0-9]$/.test(char);
    if ((code >= 33 && code <= 126 && !alnum) || char === ' ') return [[[code, code]], true];
    throw new RegexSyntaxError(at, `未知的转义 '\\${char}'`, `unknown escape '\\${char}'`);
  }

  charClass(at) {
    const negated = this.peek() === '^';
    if (negated) this.pos += 1;
    const ranges = [];
    let first = true;
    for (;;) {
      const char = this.peek();
      if (char === null) throw new RegexSyntaxError(at, "缺少 ']'", "missing ']'");
      if (char === ']') {
        if (first) throw new RegexSyntaxError(this.pos, "空的字符类，']' 需要转义", "empty class; escape ']' as '\\]'");
        this.pos += 1;
        break;
      }
      first = false;
      const itemAt = this.pos;
      const [low, single] = this.classItem();
      if (single && this.peek() === '-' && this.pos + 1 < this.text.length && this.text[this.pos + 1] !== ']') {
        this.pos += 1;
        const highAt = this.pos;
        const [high, highSingle] = this.classItem();
        if (!highSingle) throw new RegexSyntaxError(highAt, '范围的端点不能是字符类', 'a range cannot end with a class escape');
        if (high[0][0] < low[0][0]) throw new RegexSyntaxError(itemAt, '范围的起点大于终点', 'range start above range end');
        ranges.push([low[0][0], high[0][0]]);
      } else {
        ranges.push(...low);
      }
    }
    const merged = mergeRanges(ranges);
    return negated ? complement(merged) : merged;
  }

  classItem() {
    const at = this.pos;
    const char = this.text[at];
    this.pos += 1;
    if (char === '\\') return this.escape(at);
    if (char === '[') throw new RegexSyntaxError(at, "字符类中的 '[' 需要转义", "escape '[' inside a class");
    const code = char.codePointAt(0);
    return [[[code, code]], true];
  }
}

function emit(node, program) {
  const type = node[0];
  if (type === 'set') program.push(['char', node[1].map((r) => [r[0], r[1]])]);
  else if (type === 'bol' || type === 'eol') program.push([type]);
  else if (type === 'cat') for (const item of node[1]) emit(item, program);
  else if (type === 'alt') {
    const jumps = [];
    const branches = node[1];
    branches.forEach((branch, index) => {
      if (index < branches.length - 1) {
        const split = program.length;
        program.push(['split', split + 1, -1]);
        emit(branch, program);
        jumps.push(program.length);
        program.push(['jmp', -1]);
        program[split][2] = program.length;
      } else {
        emit(branch, program);
      }
    });
    for (const jump of jumps) program[jump][1] = program.length;
  } else if (type === 'rep') {
    const [, body, low, high] = node;
    for (let i = 0; i < low; i += 1) emit(body, program);
    if (high === null) {
      const split = program.length;
      program.push(['split', split + 1, -1]);
      emit(body, program);
      program.push(['jmp', split]);
      program[split][2] = program.length;
    } else {
      const splits = [];
      for (let i = 0; i < high - low; i += 1) {
        splits.push(program.length);
        program.push(['split', program.length + 1, -1]);
        emit(body, program);
      }
      for (const split of splits) program[split][2] = program.length;
    }
  }
}

/** Parse and compile a pattern to NFA instructions (the same JSON as regex.compile_program in Python). */
export function compileRegexProgram(pattern, caps = DEFAULT_CAPS) {
  if (Array.from(pattern).length > caps.max_regex_length) {
    const max = caps.max_regex_length;
    throw new RegexSyntaxError(max, `正则表达式超过 ${max} 个字符`, `pattern longer than ${max} characters`);
  }
  const [node] = new RegexParser(pattern, caps).parse();
  const program = [];
  emit(node, program);
  program.push(['match']);
  return program;
}

/** Whether a compiled program matches somewhere in `text` (Thompson NFA simulation, linear in the text). */
export function regexSearch(program, text) {
  const codes = Array.from(text, (c) => c.codePointAt(0));
  const n = codes.length;
  const matchPc = program.length - 1;
  const seen = new Int32Array(program.length).fill(-1);
  let generation = 0;
  const closure = (pcs, atStart, atEnd) => {
    generation += 1;
    const kept = [];
    const stack = pcs.slice();
    while (stack.length) {
      const pc = stack.pop();
      if (seen[pc] === generation) continue;
      seen[pc] = generation;
      const op = program[pc];
      if (op[0] === 'jmp') stack.push(op[1]);
      else if (op[0] === 'split') stack.push(op[2], op[1]);
      else if (op[0] === 'bol') { if (atStart) stack.push(pc + 1); }
      else if (op[0] === 'eol') { if (atEnd) stack.push(pc + 1); }
      else kept.push(pc);
    }
    return kept;
  };
  let state = closure([0], true, n === 0);
  if (state.includes(matchPc)) return true;
  for (let index = 0; index < n; index += 1) {
    const code = codes[index];
    const following = [0];
    for (const pc of state) {
      const op = program[pc];
      if (op[0] === 'char' && op[1].some(([lo, hi]) => lo <= code && code <= hi)) following.push(pc + 1);
    }
    state = closure(following, false, index === n - 1);
    if (state.includes(matchPc)) return true;
  }
  return false;
}

const regexCache = new Map();

function compiledRegex(pattern, caps) {
  let program = regexCache.get(pattern);
  if (program === undefined) {
    try {
      program = compileRegexProgram(pattern, caps);
    } catch (error) {
      if (error instanceof RegexSyntaxError) throw new ExprEvalError('ast', error.message, error.message);
      throw error;
    }
    if (regexCache.size >= 256) regexCache.delete(regexCache.keys().next().value);
    regexCache.set(pattern, program);
  }
  return program;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluator

const malformed = (detail) => new ExprEvalError('ast', '编译结果格式错误', `malformed compiled expression: ${detail}`);

class Evaluation {
  constructor(answers, thisValue, caps, maxSteps) {
    this.answers = answers;
    this.thisValue = thisValue;
    this.caps = caps;
    this.maxSteps = maxSteps;
    this.steps = 0;
  }

  addSteps(count) {
    this.steps += count;
    if (this.steps > this.maxSteps) {
      throw new ExprEvalError('steps', `计算步数超过 ${this.maxSteps}`, `more than ${this.maxSteps} evaluation steps`);
    }
  }

  eval(node, depth) {
    this.addSteps(1);
    if (depth > this.caps.max_depth) throw new ExprEvalError('depth', '表达式嵌套过深', 'expression nested too deeply');
    if (!Array.isArray(node)) {
      if (node === null || typeof node === 'boolean' || typeof node === 'string') return node;
      if (typeof node === 'number' && Number.isFinite(node)) return node;
      throw malformed(JSON.stringify(node));
    }
    const handler = typeof node[0] === 'string' && hasOwn(HANDLERS, node[0]) ? HANDLERS[node[0]] : null;
    if (handler === null) throw malformed(JSON.stringify(node).slice(0, 40));
    return handler(this, node, depth + 1);
  }

  all(node, depth) {
    return node.slice(1).map((child) => this.eval(child, depth));
  }

  answer(name) {
    const answers = this.answers;
    if (answers instanceof Map) return answers.has(name) ? answers.get(name) : null;
    return answers !== null && typeof answers === 'object' && hasOwn(answers, name) ? answers[name] : null;
  }
}

function arith(ev, node, depth) {
  const op = node[0];
  const values = ev.all(node, depth);
  if (values.length === 0) throw malformed(op);
  for (const value of values) if (value !== null && !isNumber(value)) throw typeError(`'${op}'`, '数值', 'numbers', value);
  if (values.some((value) => value === null)) return null;
  let result = values[0];
  for (const value of values.slice(1)) {
    if (op === '+') result = normalize(result + value);
    else if (op === '-') result = normalize(result - value);
    else if (op === '*') result = normalize(result * value);
    else {
      if (value === 0) throw new ExprEvalError('division_by_zero', '除数为零', 'division by zero');
      result = normalize(op === '/' ? result / value : result % value);
    }
  }
  return result;
}

function neg(ev, node, depth) {
  const value = ev.eval(node[1], depth);
  if (value === null) return null;
  if (!isNumber(value)) throw typeError("'-'", '数值', 'a number', value);
  return normalize(-value);
}

function logical(ev, node, depth) {
  const op = node[0];
  const decisive = op === 'or';
  let sawNull = false;
  for (const child of node.slice(1)) {
    const value = ev.eval(child, depth);
    if (value === null) sawNull = true;
    else if (typeof value !== 'boolean') throw typeError(`'${op}'`, '布尔值', 'booleans', value);
    else if (value === decisive) return decisive;
  }
  return sawNull ? null : !decisive;
}

function not(ev, node, depth) {
  const value = ev.eval(node[1], depth);
  if (value === null) return null;
  if (typeof value !== 'boolean') throw typeError("'not'", '布尔值', 'a boolean', value);
  return !value;
}

function compare(ev, node, depth) {
  const op = node[0];
  const left = ev.eval(node[1], depth);
  const right = ev.eval(node[2], depth);
  const kinds = [kind(left), kind(right)];
  for (const [index, value] of [left, right].entries()) {
    if (kinds[index] === 'list' || kinds[index] === 'geopoint') {
      throw typeError(`'${op}'`, '数值、文本或布尔值', 'numbers, strings or booleans', value);
    }
  }
  if (left === null || right === null) return null;
  if (kinds[0] !== kinds[1]) {
    throw new ExprEvalError('type', `'${op}' 不能比较${KIND_ZH[kinds[0]]}与${KIND_ZH[kinds[1]]}`,
      `'${op}' cannot compare ${kinds[0]} with ${kinds[1]}`);
  }
  if (kinds[0] === 'boolean' && op !== '=' && op !== '!=') {
    throw new ExprEvalError('type', `布尔值不能用 '${op}' 比较大小`, `booleans cannot be compared with '${op}'`);
  }
  const order = kinds[0] === 'string' ? compareStrings(left, right) : (left < right ? -1 : (left > right ? 1 : 0));
  switch (op) {
    case '=': return order === 0;
    case '!=': return order !== 0;
    case '<': return order < 0;
    case '<=': return order <= 0;
    case '>': return order > 0;
    default: return order >= 0;
  }
}

function tkey(ev, node, depth) {
  const value = ev.eval(node[2], depth);
  if (value === null) return null;
  if (typeof value !== 'string') throw typeError(node[1], 'ISO 格式的文本', 'an ISO-8601 string', value);
  return temporalKey(node[1], value);
}

function inList(ev, node, depth) {
  const item = ev.eval(node[1], depth);
  const collection = ev.eval(node[2], depth);
  if (item === null) return null;
  if (collection === null) return false;
  const itemKind = kind(item);
  if (itemKind !== 'string' && itemKind !== 'number') throw typeError("'in'", '数值或文本', 'a number or a string', item);
  if (!Array.isArray(collection)) throw typeError("'in'", '列表', 'a list', collection);
  return collection.some((element) => kind(element) === itemKind && element === item);
}

function selected(ev, node, depth) {
  const [collection, code] = ev.all(node, depth);
  if (collection === null || code === null) return false;
  if (typeof code !== 'string') throw typeError('selected()', '选项编码（文本）', 'a choice code (string)', code);
  if (typeof collection === 'string') return collection === code;
  if (!Array.isArray(collection)) throw typeError('selected()', '多选或单选答案', 'choices', collection);
  return collection.some((element) => typeof element === 'string' && element === code);
}

function countSelected(ev, node, depth) {
  const value = ev.eval(node[1], depth);
  if (value === null) return 0;
  if (!Array.isArray(value)) throw typeError('count_selected()', '多选答案（列表）', 'choices (a list)', value);
  return value.length;
}

function empty(ev, node, depth) {
  const value = ev.eval(node[1], depth);
  kind(value);
  return value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

function coalesce(ev, node, depth) {
  for (const child of node.slice(1)) {
    const value = ev.eval(child, depth);
    if (value !== null) return value;
  }
  return null;
}

function ifThen(ev, node, depth) {
  const condition = ev.eval(node[1], depth);
  if (condition !== null && typeof condition !== 'boolean') {
    throw typeError('if()', '布尔值（条件）', 'a boolean condition', condition);
  }
  return ev.eval(condition === true ? node[2] : node[3], depth);
}

function round(ev, node, depth) {
  const values = ev.all(node, depth);
  const value = values[0];
  const digits = values.length > 1 ? values[1] : 0;
  if (value === null || digits === null) return null;
  if (!isNumber(value)) throw typeError('round()', '数值', 'a number', value);
  const limit = ev.caps.max_round_digits;
  if (!isNumber(digits) || !Number.isInteger(digits) || digits < 0 || digits > limit) {
    throw new ExprEvalError('range', `round() 的小数位数应为 0 到 ${limit} 的整数`, `round() digits must be an integer from 0 to ${limit}`);
  }
  return roundHalfAway(value, digits);
}

function len(ev, node, depth) {
  const value = ev.eval(node[1], depth);
  if (value === null) return 0;
  if (typeof value === 'string') return codePointLength(value);
  if (Array.isArray(value)) return value.length;
  throw typeError('len()', '文本或列表', 'a string or a list', value);
}

function regex(ev, node, depth) {
  const text = ev.eval(node[1], depth);
  if (text === null) return null;
  if (typeof text !== 'string') throw typeError('regex()', '文本', 'a string', text);
  ev.addSteps(codePointLength(text));
  if (typeof node[2] !== 'string') throw malformed('regex pattern');
  return regexSearch(compiledRegex(node[2], ev.caps), text);
}

function numbers(ev, node, depth) {
  const values = ev.all(node, depth);
  for (const value of values) {
    if (value !== null && !isNumber(value)) throw typeError(`${node[0]}()`, '数值', 'numbers', value);
  }
  return values.filter((value) => value !== null);
}

function min(ev, node, depth) {
  const values = numbers(ev, node, depth);
  return values.length ? normalize(Math.min(...values)) : null;
}

function max(ev, node, depth) {
  const values = numbers(ev, node, depth);
  return values.length ? normalize(Math.max(...values)) : null;
}

function sum(ev, node, depth) {
  let total = 0;
  for (const value of numbers(ev, node, depth)) total = normalize(total + value);
  return total;
}

function unaryNumber(fn) {
  return (ev, node, depth) => {
    const value = ev.eval(node[1], depth);
    if (value === null) return null;
    if (!isNumber(value)) throw typeError(`${node[0]}()`, '数值', 'a number', value);
    return normalize(fn(value));
  };
}

function number(ev, node, depth) {
  const value = ev.eval(node[1], depth);
  if (value === null || isNumber(value)) return value;
  if (typeof value !== 'string') throw typeError('number()', '文本', 'a string', value);
  return parseNumber(value);
}

function string(ev, node, depth) {
  const value = ev.eval(node[1], depth);
  const valueKind = kind(value);
  if (valueKind === 'null') return null;
  if (valueKind === 'number') return String(value);
  if (valueKind === 'boolean') return value ? 'true' : 'false';
  if (valueKind === 'string') return value;
  if (valueKind === 'list' && value.every((element) => typeof element === 'string')) {
    return checkLength(value.join(' '), ev.caps.max_string_length);
  }
  throw typeError('string()', '数值、文本、布尔值或多选答案', 'a number, string, boolean or choices', value);
}

function concat(ev, node, depth) {
  const values = ev.all(node, depth);
  for (const value of values) {
    if (value !== null && typeof value !== 'string') {
      throw typeError('concat()', '文本（数字请先用 string() 转换）', 'strings (convert numbers with string())', value);
    }
  }
  return checkLength(values.filter((value) => value !== null).join(''), ev.caps.max_string_length);
}

function stringTest(ev, node, depth) {
  const [text, part] = ev.all(node, depth);
  for (const value of [text, part]) {
    if (value !== null && typeof value !== 'string') throw typeError(`${node[0]}()`, '文本', 'strings', value);
  }
  if (text === null || part === null) return null;
  if (node[0] === 'contains') return text.includes(part);
  if (node[0] === 'starts_with') return text.startsWith(part);
  return text.endsWith(part);
}

function daysBetween(ev, node, depth) {
  const [start, end] = ev.all(node, depth);
  for (const value of [start, end]) {
    if (value !== null && typeof value !== 'string') throw typeError('days_between()', '日期', 'dates', value);
  }
  if (start === null || end === null) return null;
  return dayNumber(end) - dayNumber(start);
}

function addDaysFn(ev, node, depth) {
  const [date, days] = ev.all(node, depth);
  if (date !== null && typeof date !== 'string') throw typeError('add_days()', '日期', 'a date', date);
  if (days !== null && !(isNumber(days) && Number.isInteger(days))) {
    throw typeError('add_days()', '整数（天数）', 'an integer number of days', days);
  }
  if (date === null || days === null) return null;
  if (Math.abs(days) > MAX_ADD_DAYS) throw new ExprEvalError('range', 'add_days() 的天数过大', 'add_days(): too many days');
  return addDays(date, days);
}

function geo(ev, node, depth) {
  const value = ev.eval(node[1], depth);
  if (value === null) return null;
  if (kind(value) !== 'geopoint') throw typeError(`${node[0]}()`, '地理位置', 'a geopoint', value);
  const part = input(hasOwn(value, node[0]) ? value[node[0]] : null);
  if (part !== null && !isNumber(part)) throw typeError(`${node[0]}()`, '数值坐标', 'a numeric coordinate', part);
  return part;
}

const HANDLERS = Object.freeze({
  ref: (ev, node) => input(ev.answer(node[1])),
  this: (ev) => input(ev.thisValue),
  list: (ev, node) => node.slice(1),
  '+': arith, '-': arith, '*': arith, '/': arith, '%': arith, neg,
  and: logical, or: logical, not,
  '=': compare, '!=': compare, '<': compare, '<=': compare, '>': compare, '>=': compare,
  tkey, in: inList,
  selected, count_selected: countSelected, empty, coalesce, if: ifThen, round, len, regex, min, max, sum,
  abs: unaryNumber(Math.abs), int: unaryNumber(Math.trunc), floor: unaryNumber(Math.floor), ceil: unaryNumber(Math.ceil),
  number, string, concat, contains: stringTest, starts_with: stringTest, ends_with: stringTest,
  days_between: daysBetween, add_days: addDaysFn, lat: geo, lon: geo, accuracy: geo,
});

/**
 * Evaluate a compiled expression ({"v": 1, "caps": {...}, "ast": ...}) against `answers` (question id -> value,
 * a plain object or a Map). Missing answers are null. Throws ExprEvalError.
 */
export function evaluate(compiled, answers, { this: thisValue = null, maxSteps = undefined } = {}) {
  if (compiled === null || typeof compiled !== 'object' || compiled.v !== AST_VERSION || !('ast' in compiled)) {
    throw new ExprEvalError('ast', '不支持的编译结果版本', `unsupported compiled expression (v=${compiled && compiled.v})`);
  }
  const caps = { ...DEFAULT_CAPS };
  if (compiled.caps && typeof compiled.caps === 'object') {
    for (const key of Object.keys(DEFAULT_CAPS)) if (Number.isInteger(compiled.caps[key])) caps[key] = compiled.caps[key];
  }
  const evaluation = new Evaluation(answers, thisValue, caps, maxSteps === undefined || maxSteps === null ? caps.max_steps : maxSteps);
  try {
    return evaluation.eval(compiled.ast, 1);
  } catch (error) {
    if (error instanceof ExprEvalError) throw error;
    throw malformed(String(error && error.message));
  }
}
