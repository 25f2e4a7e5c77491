// The staff pages' small enhancements (the pages work without them):
// - moments written in UTC (<time datetime>) are shown in the reader's own time zone and language;
// - a "select all" box ticks every box of its group (the bulk approval of a list of audits).

const LOCALE = document.documentElement.lang || "zh-CN";

export function localTime(iso, locale = LOCALE) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return null;
  return moment.toLocaleString(locale, { dateStyle: "medium", timeStyle: "medium" });
}

export function showLocalTimes(root = document) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const text = localTime(element.getAttribute("datetime"));
    if (text) {
      element.title = element.textContent;
      element.textContent = text;
    }
  }
}

function enableSelectAll() {
  for (const box of document.querySelectorAll("input[data-select-all]")) {
    const group = box.getAttribute("data-select-all");
    const members = () => Array.from(document.querySelectorAll(`input[type="checkbox"][name="${group}"]`));
    if (members().length === 0) continue;
    box.hidden = false;
    box.addEventListener("change", () => {
      for (const member of members()) member.checked = box.checked;
    });
  }
}

showLocalTimes();
enableSelectAll();
