// Small helpers of the field app's pages: elements, interface strings, labels in the page's language, times.
// Everything shown is text (textContent); no HTML from the server or from what people typed is ever parsed.

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

let STRINGS = {};
let LANG = 'zh-CN';

/** Read the page's data block once: the language and the interface strings (field.* and survey.ui.*). */
export function setup(data) {
  STRINGS = data.strings || {};
  LANG = data.lang || 'zh-CN';
}

export function lang() {
  return LANG;
}

export function strings() {
  return STRINGS;
}

/** The interface string `key` with `{name}` placeholders filled from `params`. */
export function t(key, params) {
  const text = hasOwn(STRINGS, key) ? STRINGS[key] : key;
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (params && hasOwn(params, name) ? String(params[name]) : whole));
}

/** A questionnaire label ({zh-CN: ..., en: ...} or a string) in the page's language, else any language it has. */
export function label(text) {
  if (text === null || text === undefined) return '';
  if (typeof text === 'string') return text;
  if (hasOwn(text, LANG)) return text[LANG];
  const keys = Object.keys(text);
  return keys.length ? text[keys[0]] : '';
}

/** The part of a bilingual server message ("中文 / English") in the page's language. */
export function serverText(message) {
  const text = String(message || '');
  const cut = text.indexOf(' / ');
  if (cut < 0) return text;
  return LANG === 'en' ? text.slice(cut + 3) : text.slice(0, cut);
}

/** An element with attributes (`true` for a bare attribute; `on*` functions become listeners) and children. */
export function h(tag, attributes, children) {
  const element = document.createElement(tag);
  Object.keys(attributes || {}).forEach((name) => {
    const value = attributes[name];
    if (value === null || value === undefined || value === false) return;
    if (name === 'className') element.className = value;
    else if (name.slice(0, 2) === 'on' && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  });
  (children || []).forEach((child) => {
    if (child === null || child === undefined || child === false) return;
    element.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  });
  return element;
}

export function replaceChildren(parent, nodes) {
  parent.textContent = '';
  nodes.forEach((node) => { if (node) parent.appendChild(node); });
}

/** A time for people: "11月27日 19:05" / "27 Nov 19:05" (local time), or "—". */
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const hm = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  if (LANG === 'en') {
    const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][date.getMonth()];
    return `${date.getDate()} ${month} ${hm}`;
  }
  return `${date.getMonth() + 1}月${date.getDate()}日 ${hm}`;
}

/** Megabytes with one decimal. */
export function megabytes(bytes) {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** Focus an element for keyboard and screen-reader users after a screen changes. */
export function focus(element) {
  if (!element) return;
  if (!element.hasAttribute('tabindex')) element.setAttribute('tabindex', '-1');
  element.focus({ preventScroll: false });
}
