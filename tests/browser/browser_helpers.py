"""Helpers of the browser tests: a watched page, the accessibility check and screenshots."""

from __future__ import annotations

import dataclasses
import urllib.parse
from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # git-ignored
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
BLOCKING_IMPACTS = ("serious", "critical")
# Recorded in the page before any of its own scripts run (Playwright's init scripts are exempt from the CSP).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@dataclasses.dataclass
class Watch:
    """A page with what it tried to do: requests that left 127.0.0.1, CSP reports, console errors."""

    page: Any
    base_url: str
    outside: list[str] = dataclasses.field(default_factory=list)
    console: list[str] = dataclasses.field(default_factory=list)
    console_errors: list[str] = dataclasses.field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def csp_messages(self) -> list[str]:
        """CSP violations, from the console and from ``securitypolicyviolation`` events of the current page."""
        from_console = [m for m in self.console if "Content Security Policy" in m]
        try:
            from_events = self.page.evaluate("window.__cspViolations || []")
        except Exception:  # the page is gone (closed context)
            from_events = []
        return from_console + [f"securitypolicyviolation: {v}" for v in from_events]

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"
        assert self.csp_messages() == [], f"Content Security Policy violations: {self.csp_messages()}"


def _is_local(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


def watch_page(context: Any, base_url: str, *, guard_routes: bool) -> Watch:
    """A new page of ``context`` under watch. ``guard_routes`` aborts every request to another host (Playwright
    routing also switches the browser's HTTP cache off; tests of caching pass False and rely on the recorded
    requests and the browser's host-resolver fence)."""
    page = context.new_page()
    watch = Watch(page=page, base_url=base_url)
    page.add_init_script(CSP_LISTENER)

    def record(request: Any) -> None:
        if not _is_local(request.url):
            watch.outside.append(request.url)

    page.on("request", record)
    if guard_routes:

        def guard(route: Any) -> None:
            if _is_local(route.request.url):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", guard)

    def console(message: Any) -> None:
        watch.console.append(message.text)
        if message.type == "error":
            watch.console_errors.append(message.text)

    page.on("console", console)
    return watch


def check_accessible(page: Any) -> None:
    """axe-core (shipped inside axe-playwright-python) finds no serious or critical violation on ``page``."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        report = "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']}\n"
            + "\n".join(f"    {node['target']}: {node.get('failureSummary', '')}" for node in v["nodes"][:5])
            for v in blocking
        )
        raise AssertionError(
            f"axe-core: {len(blocking)} serious or critical violation(s) on {page.url}\n{report}"
        )


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as ``tests/browser/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def has_no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
