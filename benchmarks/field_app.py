"""The field app: what its shell weighs, and how long the outbox takes to empty once the network returns.

Starts `survey-platform serve` (one worker, SQLite) with the repository's questionnaires, the field accounts and
campaigns of the browser tests, and drives Debian's Chromium (Playwright) at phone size:

1. the app shell's transferred size: what the service worker downloads at install (the /field/ page, the manifest
   and every hashed script, stylesheet and icon of the precache list), gzip-compressed as browsers ask for it;
2. 50 interviews queued offline (one completed through the app, 49 copies of its body under new client UUIDs put in
   the same outbox), then "online": the time until the outbox is empty (the status bar says 0 not yet sent);
3. 10 audits with photos queued offline (one completed through the app with a 3000 × 4000 EXIF-rotated camera JPEG,
   reduced on the phone; 9 copies, each with its own photo: the same image plus one byte, so each is uploaded),
   then "online": the time until the outbox is empty.

Timings are compared with a reference measured in the same run: the same requests sent straight from Python
(httpx, one keep-alive connection: the photos one by one, then one batch), so the ratio is the app's own cost
(IndexedDB, the sync loop, the browser) on top of the server's. Machines differ; ratios travel better.

    .venv/bin/python benchmarks/field_app.py --repeat 3 --write
"""

# ruff: noqa: E402  (the test helpers are imported after their folders are put on the path)
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests" / "service")]

import httpx
from browser_helpers import PHONE
from field_helpers import (
    FILL_SECTION,
    QUESTIONNAIRES,
    TAIYUAN,
    WUXI,
    Network,
    bearer,
    rotated_jpeg,
    seed,
    sign_in,
)
from service_helpers import LiveServer

from survey_platform.settings import Settings

README = Path(__file__).with_name("README.md")
SECTION = "## The field app (benchmarks/field_app.py)"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TIMEOUT = 120_000

CLONE_INTERVIEWS = """
async (count) => {
  const core = self.FieldCore;
  const [first] = (await core.all('items')).filter((item) => item.state === 'queued');
  for (let i = 0; i < count; i += 1) {
    const id = crypto.randomUUID();
    await core.put('items', Object.assign({}, first, { id, body: Object.assign({}, first.body, { id }) }));
  }
  return (await core.all('items')).filter((item) => item.state === 'queued').length;
}
"""

CLONE_AUDITS = """
async (count) => {
  const core = self.FieldCore;
  const [first] = (await core.all('items')).filter((item) => item.state === 'queued');
  const photo = await core.get('photos', first.photos[0]);
  const hex = async (blob) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())))
    .map((b) => b.toString(16).padStart(2, '0')).join('');
  for (let i = 0; i < count; i += 1) {
    const blob = new Blob([photo.blob, new Uint8Array([i + 1])], { type: 'image/jpeg' });
    const sha = await hex(blob);
    await core.put('photos', Object.assign({}, photo, { sha256: sha, blob, size: blob.size, uploaded: false, attempts: 0 }));
    const id = crypto.randomUUID();
    const answers = Object.assign({}, first.body.answers, { ev_counter_available: [sha] });
    await core.put('items', Object.assign({}, first, { id, photos: [sha], body: Object.assign({}, first.body, { id, answers }) }));
  }
  return (await core.all('items')).filter((item) => item.state === 'queued').length;
}
"""

OUTBOX = """
async () => {
  const core = self.FieldCore;
  const items = (await core.all('items')).filter((item) => item.state === 'queued');
  const photos = {};
  for (const item of items) for (const sha of item.photos || []) {
    const p = await core.get('photos', sha);
    photos[sha] = { type: p.media_type, data: Array.from(new Uint8Array(await p.blob.arrayBuffer())) };
  }
  return { bodies: items.map((item) => item.body), kinds: items.map((item) => item.kind), photos };
}
"""


def shell_size(base: str) -> dict[str, int]:
    """Bytes on the wire (gzip where the server compresses) of everything the worker precaches, by kind."""
    with httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}, timeout=30) as client:
        worker = client.get("/field/sw.js")
        config = json.loads(worker.text.split("\n", 1)[0].removeprefix("self.FIELD_SW = ").removesuffix(";"))
        sizes: dict[str, int] = {}
        for url in ["/field/sw.js", *config["precache"]]:
            with client.stream("GET", url) as reply:
                raw = b"".join(reply.iter_raw())
            kind = "page" if url in ("/field/", "/field/manifest.webmanifest") else url.rsplit(".", 1)[-1]
            kind = "worker" if url == "/field/sw.js" else kind
            sizes[kind] = sizes.get(kind, 0) + len(raw)
    sizes["total"] = sum(sizes.values())
    return sizes


def emptied(page: Any) -> None:
    page.wait_for_function(
        "() => document.querySelector('#unsent-count strong') && /^未发送 0 条$/.test(document.querySelector('#unsent-count strong').textContent)",
        timeout=TIMEOUT,
    )


def one_interview(page: Any) -> None:
    page.locator("button.start-interview").click()
    for _ in range(20):
        page.locator("#survey-next").wait_for(timeout=TIMEOUT)
        page.evaluate(FILL_SECTION)
        page.locator("#survey-next").click()
        with contextlib.suppress(Exception):
            page.locator("#next-item").wait_for(timeout=400)
            return
    raise RuntimeError("the interview did not finish")


def one_audit(page: Any, photo: Path) -> None:
    page.locator("a.pick-venue").click()
    page.get_by_role("button", name="检查“海底捞（柳巷店）”").click()
    page.locator(".gps-status.gps-ok").wait_for(timeout=TIMEOUT)
    page.locator("#in-q_visit_time").fill("2026-11-27T10:30")
    for question, choice in (("q_undercover", 0), ("q_payment_ways", 1)):
        page.locator(f"#q-{question} input").nth(choice).check()
    page.locator("#survey-next").click()
    page.locator("#q-chk_menu_available input").first.check()
    page.locator("#q-chk_counter_available input").nth(1).check()
    page.locator("#q-ev_counter_available input[type=file]").set_input_files(str(photo))
    page.locator("#q-ev_counter_available .photo-thumb").wait_for(timeout=TIMEOUT)
    for question, choice in (
        ("chk_forced_follow", 1),
        ("chk_forced_miniprogram", 1),
        ("chk_forced_membership", 1),
        ("chk_elderly_friendly", 0),
    ):
        page.locator(f"#q-{question} input").nth(choice).check()
    page.locator("#in-q_steps_to_pay").fill("4")
    page.locator("#survey-next").click()
    for question, choice in (
        ("chk_phone_demanded", 1),
        ("chk_location_demanded", 1),
        ("chk_identity_demanded", 1),
        ("chk_privacy_notice", 0),
        ("chk_default_consent", 1),
    ):
        page.locator(f"#q-{question} input").nth(choice).check()
    page.locator("#survey-next").click()
    for question, choice in (
        ("chk_popup_ads", 1),
        ("chk_amount_shown", 0),
        ("chk_pure_code", 0),
        ("chk_complaint_channel", 0),
    ):
        page.locator(f"#q-{question} input").nth(choice).check()
    page.locator("#survey-next").click()
    page.locator("#survey-next").click()
    page.locator("#next-item").wait_for(timeout=TIMEOUT)


def direct(base: str, username: str, outbox: dict[str, Any]) -> float:
    """The reference: the same photos and items sent straight from Python under new ids (seconds)."""
    photos: dict[str, tuple[bytes, str]] = {}  # new photos too (one more byte), so each upload stores a file
    for sha, photo in outbox["photos"].items():
        data = bytes(photo["data"]) + uuid.uuid4().bytes
        photos[sha] = (data, hashlib.sha256(data).hexdigest())
    bodies = []
    for body in outbox["bodies"]:
        answers = {
            key: [photos[v][1] if v in photos else v for v in value] if isinstance(value, list) else value
            for key, value in body["answers"].items()
        }
        bodies.append({**body, "id": str(uuid.uuid4()), "answers": answers})
    with httpx.Client(base_url=base, timeout=60) as client:
        headers = bearer(client, username)
        started = time.perf_counter()
        for sha, photo in outbox["photos"].items():
            data, new_sha = photos[sha]
            reply = client.post(
                "/api/v1/photos",
                content=data,
                headers={**headers, "Content-Type": photo["type"], "X-Content-SHA256": new_sha},
            )
            assert reply.status_code == 201, reply.text
        responses = [b for b, k in zip(bodies, outbox["kinds"], strict=True) if k == "response"]
        audits = [b for b, k in zip(bodies, outbox["kinds"], strict=True) if k == "audit"]
        reply = client.post("/api/v1/batch", json={"responses": responses, "audits": audits}, headers=headers)
        elapsed = time.perf_counter() - started
        result = reply.json()
        assert result["failed"] == 0 and result["audits_failed"] == 0, result
    return elapsed


def run_case(
    browser: Any, server: LiveServer, kind: str, count: int, photo: Path
) -> tuple[float, float, float]:
    """(app seconds from "online" to an empty outbox, reference seconds, mean photo bytes) for ``count`` queued
    items."""
    where, username = (WUXI, "lily") if kind == "response" else (TAIYUAN, "wang")
    context = browser.new_context(**PHONE, permissions=["geolocation"], geolocation={**where, "accuracy": 8})
    try:
        network = Network(context)
        page = context.new_page()
        page.goto(server.url + "/field/")
        sign_in(page, username)
        page.locator("#ready-offline").wait_for(timeout=TIMEOUT)
        network.go_offline()
        if kind == "response":
            one_interview(page)
            queued = page.evaluate(CLONE_INTERVIEWS, count - 1)
        else:
            one_audit(page, photo)
            queued = page.evaluate(CLONE_AUDITS, count - 1)
        assert queued == count, queued
        outbox = page.evaluate(OUTBOX)
        page.goto(server.url + "/field/#/items")
        page.locator("#item-list").wait_for(timeout=TIMEOUT)
        started = time.perf_counter()
        network.go_online()  # the `online` event starts sending
        emptied(page)
        app = time.perf_counter() - started
    finally:
        context.close()
    sizes = [len(p["data"]) for p in outbox["photos"].values()]
    return app, direct(server.url, username, outbox), statistics.mean(sizes) if sizes else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing (the median is reported)")
    parser.add_argument("--interviews", type=int, default=50)
    parser.add_argument("--audits", type=int, default=10)
    parser.add_argument("--write", action="store_true", help="write the results into benchmarks/README.md")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="field-bench-"))
    photos = [work / f"IMG_{n:04d}.jpg" for n in range(args.repeat)]
    for n, path in enumerate(photos):  # another photo in each run: nothing is on the server before
        path.write_bytes(rotated_jpeg(seed=n))
    photo = photos[0]
    settings = Settings.from_env({}, data_dir=work / "data")
    server = LiveServer(settings, env={"QUESTIONNAIRES_DIR": str(QUESTIONNAIRES)})
    server.start()
    try:
        seed(server)
        sizes = shell_size(server.url)
        timings: dict[str, list[tuple[float, float, float]]] = {"response": [], "audit": []}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for n in range(args.repeat):
                timings["response"].append(run_case(browser, server, "response", args.interviews, photos[n]))
                timings["audit"].append(run_case(browser, server, "audit", args.audits, photos[n]))
            browser.close()
    finally:
        server.stop()

    def median(kind: str, index: int) -> float:
        return statistics.median(t[index] for t in timings[kind])

    kb = {key: value / 1024 for key, value in sizes.items()}
    lines = [
        SECTION,
        "",
        f"Command: `.venv/bin/python benchmarks/field_app.py --repeat {args.repeat} --write` (Chromium "
        f"{CHROMIUM}, SQLite, one server worker, 127.0.0.1, 2 cores shared with other jobs; median of {args.repeat}).",
        "",
        "App shell: what the service worker downloads at install (gzip where the server compresses: text over 1 KiB).",
        "",
        "| part | KiB transferred |",
        "|---|---:|",
        *(f"| {key} | {kb[key]:.1f} |" for key in ("page", "js", "css", "svg", "png", "worker") if key in kb),
        f"| **total** | **{kb['total']:.1f}** |",
        "",
        'From "online" to an empty outbox (the `online` event starts the sending; the reference sends the same '
        "requests straight from Python over one connection):",
        "",
        "| outbox | app (s) | reference (s) | app / reference |",
        "|---|---:|---:|---:|",
        f"| {args.interviews} interviews | {median('response', 0):.2f} | {median('response', 1):.2f} | "
        f"{median('response', 0) / median('response', 1):.1f} |",
        f"| {args.audits} audits, one photo each (a {photo.stat().st_size // 1024} KiB 3000 × 4000 camera JPEG, "
        f"sent as {median('audit', 2) / 1024:.0f} KiB at 1500 × 2000) | "
        f"{median('audit', 0):.2f} | {median('audit', 1):.2f} | {median('audit', 0) / median('audit', 1):.1f} |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        current = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
        start = current.find(SECTION)
        if start >= 0:
            end = current.find("\n## ", start + len(SECTION))
            current = current[:start] + current[end + 1 :] if end >= 0 else current[:start]
        README.write_text(current.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
