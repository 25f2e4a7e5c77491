// Field progress that refreshes by itself: polls the campaign's progress JSON (GET /api/v1/campaigns/{code}/progress,
// the session cookie authenticates it) and rewrites the figures and tables of the page. Everything from the server
// goes into the page as text (textContent), never as HTML.

import { localTime } from "./staff.js";

const INTERVAL_MS = 5000;
const root = document.getElementById("progress");

function number(value, lang) {
  return typeof value === "number" ? value.toLocaleString(lang) : "—";
}

function percent(value, lang) {
  return typeof value === "number"
    ? value.toLocaleString(lang, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 })
    : "—";
}

function moment(value, lang) {
  return value ? localTime(value, lang) || value : "—";
}

function pick(data, path) {
  return path.split(".").reduce((value, key) => (value == null ? undefined : value[key]), data);
}

function cell(tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  if (tag === "th") element.scope = "row";
  return element;
}

function code(text) {
  const span = document.createElement("span");
  span.className = "code";
  span.textContent = text;
  return span;
}

function fill(body, rows, width) {
  body.replaceChildren(...rows);
  if (rows.length === 0 && body.dataset.empty) {
    const row = document.createElement("tr");
    const only = cell("td", body.dataset.empty);
    only.colSpan = width;
    row.append(only);
    body.append(row);
  }
}

function cityRows(data, lang, body) {
  return (data.cities || []).map((city) => {
    const row = document.createElement("tr");
    const name = cell("th", (lang === "zh-CN" || !city.name_en ? city.name_zh : city.name_en) + " ");
    name.append(code(city.city));
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = Math.min(city.share, 1);
    bar.setAttribute("aria-label", (body.dataset.labelShare || "").replace("{city}", city.name_zh));
    const share = cell("td", "");
    share.append(bar, document.createTextNode(" " + percent(city.share, lang)));
    row.append(
      name,
      cell("td", number(city.valid, lang), "number"),
      cell("td", number(city.target, lang), "number"),
      share,
      cell("td", number(city.collected, lang), "number"),
      cell("td", number(city.screened_out, lang), "number"),
      cell("td", number(city.excluded_by_review, lang), "number"),
    );
    return row;
  });
}

function peopleRows(people, lang, states) {
  return people.map((person) => {
    const row = document.createElement("tr");
    row.append(cell("th", person.display_name || person.username), cell("td", number(person.count, lang), "number"));
    for (const state of states) row.append(cell("td", number((person.by_state || {})[state] || 0, lang), "number"));
    row.append(cell("td", moment(person.last_at, lang)));
    return row;
  });
}

export function render(data, page = root) {
  const lang = page.dataset.lang || "zh-CN";
  for (const element of page.querySelectorAll("[data-field]")) {
    const path = element.dataset.field;
    const value = pick(data, path);
    if (path.endsWith("_at") || path === "last_submission") {
      element.textContent = moment(value, lang);
    } else if (value == null && element.dataset.missing) {
      element.textContent = element.dataset.missing;
    } else {
      element.textContent = number(value, lang);
    }
  }
  for (const body of page.querySelectorAll("tbody[data-rows]")) {
    const kind = body.dataset.rows;
    if (kind === "cities") fill(body, cityRows(data, lang, body), 7);
    else if (kind === "interviewers") fill(body, peopleRows(data.interviewers || [], lang, []), 3);
    else if (kind === "inspectors") {
      const states = (body.dataset.states || "").split(" ").filter(Boolean);
      fill(body, peopleRows(data.inspectors || [], lang, states), states.length + 3);
    }
  }
}

function showError(message) {
  const box = root.querySelector("[data-error]");
  if (!box) return;
  box.hidden = !message;
  box.textContent = message || "";
}

async function refresh() {
  try {
    const reply = await fetch(root.dataset.source, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (reply.status === 401) {
      showError(root.querySelector("[data-error]").dataset.messageSignin);
      return false;
    }
    if (!reply.ok) throw new Error(String(reply.status));
    render(await reply.json());
    showError("");
  } catch (error) {
    showError(root.querySelector("[data-error]").dataset.messageFailed);
  }
  return true;
}

async function loop() {
  if (document.visibilityState === "visible" && !(await refresh())) return; // signed out: stop polling
  setTimeout(loop, INTERVAL_MS);
}

if (root && root.dataset.source) {
  setTimeout(loop, INTERVAL_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
}
