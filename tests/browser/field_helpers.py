"""Helpers of the field app's browser tests and benchmark: a live server with field campaigns, a phone that goes
offline (the page and its service worker), filling the city questionnaire, large EXIF-rotated photos."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from service_helpers import PASSWORD, LiveServer

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
ACCOUNTS = (
    ("admin", "admin"),
    ("lily", "interviewer"),
    ("wang", "inspector"),
    ("zhao", "inspector"),
    ("rev", "reviewer"),
)
VENUES = (
    {"name": "海底捞（柳巷店）", "category": "restaurant", "city": "taiyuan", "address": "柳巷 8 号", "latitude": 37.8680, "longitude": 112.5600},
    {"name": "长途汽车站停车场", "category": "car_park", "city": "taiyuan", "address": "迎泽大街", "latitude": 37.8560, "longitude": 112.5750},
    {"name": "某茶饮店", "category": "tea_fast_food", "city": "taiyuan", "address": "桥东街", "latitude": 37.8710, "longitude": 112.5490},
)  # fmt: skip
TAIYUAN = {"latitude": 37.8706, "longitude": 112.5489}
WUXI = {"latitude": 31.4912, "longitude": 120.3119}

# Answers every question shown in the survey renderer with a valid answer, the way a person would click: the n-th
# point of each matrix row, the 7th point of a scale, the first choice of a choice question (yes, for the
# screening questions), 3 for a number. Returns how many answers it gave (0: the screen was already complete).
FILL_SECTION = """
() => {
  const root = document.getElementById('survey-root');
  const questions = Array.from(root.querySelectorAll('.question')).filter((q) => !q.hidden);
  let acted = 0;
  const click = (input) => { input.click(); acted += 1; };
  questions.forEach((q) => {
    if (q.classList.contains('matrix')) {
      q.querySelectorAll('fieldset.matrix-row').forEach((row, n) => {
        if (!row.querySelector('input:checked')) click(row.querySelectorAll('.points input[type=radio]')[(n * 3 + 5) % 10]);
      });
      return;
    }
    const radios = q.querySelectorAll('input[type=radio]');
    if (radios.length && !q.querySelector('input[type=radio]:checked')) click(q.classList.contains('likert') ? radios[6] : radios[0]);
    const boxes = q.querySelectorAll('input[type=checkbox]');
    if (boxes.length && !q.querySelector('input[type=checkbox]:checked')) click(boxes[0]);
    q.querySelectorAll('input.input-number').forEach((input) => {
      if (!input.value) {
        input.value = '3';
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
        acted += 1;
      }
    });
  });
  return acted;
}
"""


def seed(server: LiveServer) -> dict[str, Any]:
    """Accounts (password ``PASSWORD``), Wuxi and Taiyuan, three venues, an open survey campaign (city-2026, the
    repository's city questionnaire, Wuxi; interviewer lily) and an open inspection (qr-2026, the QR-code checklist
    over the three venues; inspectors wang and zhao, reviewer rev)."""
    for name, role in ACCOUNTS:
        server.cli("user", "create", name, "--role", role)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = bearer(client, "admin")
        ids = {row["username"]: row["id"] for row in client.get("/api/v1/accounts", headers=admin).json()}
        for city in (
            {"code": "wuxi", "name_zh": "无锡", "name_en": "Wuxi"},
            {"code": "taiyuan", "name_zh": "太原", "name_en": "Taiyuan"},
        ):
            assert client.post("/api/v1/cities", json=city, headers=admin).status_code == 201
        venues = [client.post("/api/v1/venues", json=v, headers=admin).json()["id"] for v in VENUES]
        versions = {
            name: client.get("/api/v1/questionnaires", params={"questionnaire": name}).json()[-1]["id"]
            for name in ("city_satisfaction", "qr_code_inspection")
        }
        campaigns = (
            {"code": "city-2026", "name": "2026 年城市消费者满意度测评", "questionnaire_version": versions["city_satisfaction"], "cities": ["wuxi"]},
            {"code": "qr-2026", "name": "太原扫码消费体察", "questionnaire_version": versions["qr_code_inspection"], "venues": venues},
        )  # fmt: skip
        for campaign in campaigns:
            assert client.post("/api/v1/campaigns", json=campaign, headers=admin).status_code == 201
        assignments = (
            ("city-2026", "interviewers", [ids["lily"]]),
            ("qr-2026", "inspectors", [ids["wang"], ids["zhao"]]),
            ("qr-2026", "reviewers", [ids["rev"]]),
        )
        for code, role, accounts in assignments:
            reply = client.put(f"/api/v1/campaigns/{code}/{role}", json={role: accounts}, headers=admin)
            assert reply.status_code == 200, reply.text
        for code in ("city-2026", "qr-2026"):
            assert client.post(f"/api/v1/campaigns/{code}/open", headers=admin).status_code == 200
    return {"venues": venues, "accounts": ids, "versions": versions}


def bearer(client: httpx.Client, username: str) -> dict[str, str]:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def rows(server: LiveServer, query: str, *args: object) -> list[dict[str, Any]]:
    """Rows of the live server's SQLite database, read from the file itself."""
    connection = sqlite3.connect(server.settings.sqlite_path, timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(query, args)]
    finally:
        connection.close()


def loads(value: str | None) -> Any:
    return json.loads(value) if value else None


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form.signin button[type=submit]").click()


def unsent(page: Any) -> str:
    return page.locator("#unsent-count strong").inner_text()


class Network:
    """A phone's connection: offline means the page *and* its service worker get no answer (Playwright's offline
    mode does not stop a worker's own requests, so those are aborted by a route); ``intercept`` sees every request
    that reaches the network while online (e.g. to lose a reply)."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.offline = False
        self.requests: list[tuple[str, str, bool]] = []  # (method, url, from the service worker)
        self.intercept: Callable[[Any], bool] | None = None
        context.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        request = route.request
        from_worker = request.service_worker is not None
        self.requests.append((request.method, request.url, from_worker))
        if self.offline:
            route.abort("internetdisconnected")
            return
        if self.intercept is not None and self.intercept(route):
            return
        route.continue_()

    def go_offline(self) -> None:
        self.offline = True
        self.context.set_offline(True)

    def go_online(self) -> None:
        self.offline = False
        self.context.set_offline(False)


def lose_first_reply(pattern: str, method: str = "POST") -> Callable[[Any], bool]:
    """An interceptor: the first ``method`` request whose URL contains ``pattern`` reaches the server (which
    answers) but its reply never reaches the phone; later ones pass."""
    lost: list[str] = []

    def intercept(route: Any) -> bool:
        request = route.request
        if lost or request.method != method or pattern not in request.url:
            return False
        route.fetch()  # the server stores it and answers...
        route.abort("connectionreset")  # ...but the phone never hears back
        lost.append(request.url)
        return True

    intercept.lost = lost  # type: ignore[attr-defined]
    return intercept


def rotated_jpeg(width: int = 3000, height: int = 4000, seed: int = 7) -> bytes:
    """A large camera JPEG written sideways: the stored pixels are the upright picture turned a quarter left, with
    EXIF orientation 6 (turn right to show) and a capture time with its offset. Upright, the top fifth is red and
    the bottom fifth blue; noise makes it as heavy as a real photo (several MB); another ``seed``, another photo."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.normal(200, 40, size=(height, width, 3)), 0, 255).astype(np.uint8)
    pixels[: height // 5] = np.clip(pixels[: height // 5] * [1.0, 0.1, 0.1] + [40, 0, 0], 0, 255)
    pixels[-height // 5 :] = np.clip(pixels[-height // 5 :] * [0.1, 0.1, 1.0] + [0, 0, 40], 0, 255)
    upright = Image.fromarray(pixels, "RGB")
    stored = upright.rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    details = exif.get_ifd(0x8769)
    details[0x9003] = "2026:05:01 09:30:05"
    details[0x9011] = "+08:00"
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def small_jpeg() -> bytes:
    """A small photo (800 × 600, already under the limit)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (30, 150, 60))
    ImageDraw.Draw(image).ellipse((200, 100, 600, 500), fill=(250, 250, 250))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
