"""What the desk's browser tests share: a desk-sized window, a seeded server (through the API, as clients do),
signing in through the form, and the hostile text an inspector or a citizen might type."""

from __future__ import annotations

import datetime
import random
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
from service_helpers import PASSWORD, LiveServer

DESK: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
QUESTIONNAIRES = Path(__file__).resolve().parent / "desk_questionnaires"
T0 = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC)

# What a hostile inspector or citizen might type: none of it may run, and no javascript: link may appear.
SCRIPT = "<script>window.__xss=1</script>"
IMG = '"><img src=x onerror="window.__xss=1">'
JS_LINK = "javascript:window.__xss=1"
HOSTILE = f"{SCRIPT} {IMG} {JS_LINK}"


def png(width: int = 320, height: int = 200) -> bytes:
    """A gradient PNG (hand-encoded: signature, IHDR, one IDAT, IEND), large enough to see in a screenshot."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 160))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def city_answers(rng: random.Random, comment: str = "") -> dict[str, Any]:
    """A valid, eligible answer set of ``desk_city.yaml``."""
    answers: dict[str, Any] = {
        "q_resident": True,
        "supply_matrix": {
            k: rng.randint(4, 10) for k in ("q_variety", "q_brands", "q_shop_access", "q_hours")
        },
        "environment_matrix": {
            k: rng.randint(3, 10)
            for k in ("q_price_level", "q_price_marking", "q_payment_safety", "q_privacy")
        },
        "q_overall": rng.randint(5, 10),
        "q_sex": rng.choice(["male", "female"]),
        "q_age_band": rng.choice(["18_24", "25_34", "35_44", "45_54", "55_64", "65_plus"]),
        "q_district_zone": rng.choice(["core", "main_other", "new_area"]),
    }
    if comment:
        answers["q_comment"] = comment
    return answers


def interview(rng: random.Random, city: str, minutes: float, **extra: Any) -> dict[str, Any]:
    start = T0 + datetime.timedelta(minutes=rng.randint(0, 600))
    return {
        "id": str(uuid.uuid4()),
        "city": city,
        "answers": city_answers(rng),
        "started_at": start.isoformat(),
        "submitted_at": (start + datetime.timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


class Api:
    """The seeded server's API, as an admin (bearer token)."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.url, timeout=60)
        self.admin = self.token("admin")

    def token(self, username: str) -> dict[str, str]:
        reply = self.client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        self.client.cookies.clear()
        return {"Authorization": f"Bearer {reply.json()['token']}"}

    def call(
        self, method: str, path: str, *, status: int | tuple[int, ...] = (200, 201), **kwargs: Any
    ) -> Any:
        kwargs.setdefault("headers", self.admin)
        reply = self.client.request(method, path, **kwargs)
        self.client.cookies.clear()
        expected = (status,) if isinstance(status, int) else status
        assert reply.status_code in expected, f"{method} {path}: {reply.status_code} {reply.text[:500]}"
        return reply.json() if reply.content and "json" in reply.headers.get("content-type", "") else None

    def account(self, username: str, role: str, display_name: str = "") -> int:
        body = {"username": username, "password": PASSWORD, "role": role, "display_name": display_name}
        return self.call("POST", "/api/v1/accounts", json=body)["id"]

    def version(self, questionnaire: str) -> int:
        return self.call("GET", "/api/v1/questionnaires", params={"questionnaire": questionnaire})[0]["id"]


def seed(server: LiveServer) -> dict[str, Any]:
    """Accounts, cities, venues, an open inspection with four audits (one with a photo) and an open city survey
    with an honest interviewer, a fabricating one and citizens; hostile text in names, notes and answers."""
    server.cli("user", "create", "admin", "--role", "admin")
    api = Api(server)
    ids = {
        "rita": api.account("rita", "reviewer", "王审核"),
        "ivan": api.account("ivan", "inspector", "李检查"),
        "ann": api.account("ann", "interviewer", "张访员"),
        "bob": api.account("bob", "interviewer", "赵访员"),
    }
    for code, name, population in (
        ("wuxi", "无锡", 7_490_000),
        ("suzhou", "苏州", 12_910_000),
        ("taiyuan", f"太原{IMG}", 5_430_000),
    ):
        body = {"code": code, "name_zh": name, "province": "江苏", "population": population}
        api.call("POST", "/api/v1/cities", json=body)
    venues = []
    for name, category, address in (
        (f"海底捞{IMG}", "restaurant", JS_LINK),
        ("太原长途汽车站停车场", "car_park", "迎泽大街 1 号"),
        (f"{SCRIPT}茶饮", "tea_shop", ""),
    ):
        body = {"name": name, "category": category, "city": "taiyuan", "address": address}
        venues.append(api.call("POST", "/api/v1/venues", json=body)["id"])
    inspection = {
        "code": "qr-2026",
        "name": "2026 年扫码消费体察",
        "questionnaire_version": api.version("desk_inspection"),
        "venues": venues,
    }
    api.call("POST", "/api/v1/campaigns", json=inspection)
    api.call("PUT", "/api/v1/campaigns/qr-2026/inspectors", json={"inspectors": [ids["ivan"]]})
    api.call("PUT", "/api/v1/campaigns/qr-2026/reviewers", json={"reviewers": [ids["rita"]]})
    api.call("POST", "/api/v1/campaigns/qr-2026/open")
    ivan = api.token("ivan")
    photo = api.call("POST", "/api/v1/photos", content=png(), headers={**ivan, "content-type": "image/png"})[
        "sha256"
    ]
    audits = {}
    for key, venue, answers, accuracy in (
        ("refused", venues[0], {"chk_counter": False, "ev_counter": [photo], "chk_phone": True}, 12.0),
        ("fine", venues[1], {"chk_counter": True, "chk_phone": False, "chk_menu": True}, 8.0),
        ("phone", venues[2], {"chk_counter": True, "chk_phone": True}, 250.0),
        ("again", venues[1], {"chk_counter": True, "chk_phone": False}, 5.0),
    ):
        audit = {
            "id": str(uuid.uuid4()),
            "venue": venue,
            "answers": {**answers, "q_notes": f"收银员说只能扫码。{HOSTILE}"},
            "location": {"latitude": 37.8706, "longitude": 112.5489, "accuracy": accuracy},
            "started_at": T0.isoformat(),
            "submitted_at": (T0 + datetime.timedelta(minutes=12)).isoformat(),
        }
        api.call("POST", "/api/v1/campaigns/qr-2026/audits", json=audit, headers=ivan)
        audits[key] = audit["id"]
    rita = api.token("rita")
    api.call(
        "POST",
        f"/api/v1/audits/{audits['phone']}/review",
        json={"action": "reject", "comment": f"不符合要求 {HOSTILE}"},
        headers=rita,
    )
    survey = {
        "code": "city-2026",
        "name": "2026 年城市消费者满意度测评",
        "questionnaire_version": api.version("desk_city"),
        "cities": ["wuxi", "suzhou"],
    }
    api.call("POST", "/api/v1/campaigns", json=survey)
    api.call(
        "PUT", "/api/v1/campaigns/city-2026/interviewers", json={"interviewers": [ids["ann"], ids["bob"]]}
    )
    api.call("PUT", "/api/v1/campaigns/city-2026/reviewers", json={"reviewers": [ids["rita"]]})
    api.call("POST", "/api/v1/campaigns/city-2026/open")
    rng = random.Random(2026)
    honest = [interview(rng, "wuxi", rng.uniform(8, 14)) for _ in range(19)] + [interview(rng, "wuxi", 1.5)]
    made_up = [interview(rng, "suzhou", 1.0) for _ in range(6)] + [
        interview(rng, "suzhou", rng.uniform(8, 12)) for _ in range(4)
    ]
    for items, who in ((honest, "ann"), (made_up, "bob")):
        batch = {"responses": [{**item, "campaign": "city-2026"} for item in items]}
        assert api.call("POST", "/api/v1/batch", json=batch, headers=api.token(who))["created"] == len(items)
    # the hostile citizens answered in a minute and a half: flagged, so their answers reach the reviewer's queue
    for comment, minutes in ((HOSTILE, 1.5), ("服务很好", 10), (f"{JS_LINK} 价格偏高", 1.5)):
        citizen = interview(rng, "wuxi", minutes, channel="qr")
        citizen["answers"]["q_comment"] = comment
        api.call("POST", "/api/v1/campaigns/city-2026/responses", json=citizen, headers={})
    screened = interview(rng, "wuxi", 2, channel="qr")
    screened["answers"] = {"q_resident": False}
    api.call("POST", "/api/v1/campaigns/city-2026/responses", json=screened, headers={})
    return {
        "ids": ids,
        "venues": venues,
        "audits": audits,
        "photo": photo,
        "bob_speeders": {item["id"] for item in made_up[:6]},
        "ann_speeder": honest[-1]["id"],
    }


def sign_in(page: Any, base_url: str, username: str) -> None:
    """Fill in the sign-in form the page shows (the page is at /login)."""
    assert "/login" in page.url, page.url
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
