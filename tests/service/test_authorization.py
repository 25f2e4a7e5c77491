"""The authorisation matrix: every endpoint × anonymous / inspector / other inspector / interviewer / reviewer /
admin (the reviewer is assigned to the inspection campaign; the interviewer to nothing).

"allowed" means the request got past authorisation (any status but 401/403; e.g. 404 for a missing campaign);
a refused principal gets 401 (anonymous) or 403. An inspector asking for another inspector's audit gets 404.
The test also checks that the matrix names every route of the application, so a new route cannot be missed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import PNG, headers_for, inspection_setup, upload

ALL = {"inspector", "other", "interviewer", "reviewer", "admin", "anonymous"}
SIGNED_IN = ALL - {"anonymous"}
STAFF = {"reviewer", "admin"}
ADMIN = {"admin"}


@dataclass(frozen=True)
class Multipart:
    """A multipart/form-data body: text fields and (name, (filename, bytes, content type)) files."""

    data: dict[str, str]
    files: list[tuple[str, tuple[str, bytes, str]]]


def matrix(ctx: dict[str, Any]) -> list[tuple[str, str, Any, set[str], dict[str, int]]]:
    """(method, path, JSON body, bytes or Multipart, allowed principals, exact statuses for some principals)."""
    audit, sha, venue = ctx["audit"], ctx["sha"], ctx["venue"]
    city = {"code": "x", "name_zh": "某市"}
    venue_body = {"name": "店", "category": "restaurant", "city": "taiyuan"}
    new_audit = {"id": str(uuid.uuid4()), "venue": venue, "answers": {"counter_payment": True}}
    answers = {"counter_payment": False, "counter_photo": [sha]}
    with_photo = {"id": str(uuid.uuid4()), "venue": venue, "answers": answers}
    multipart = Multipart({"audit": json.dumps(with_photo)}, [("photos", ("counter.png", PNG, "image/png"))])
    field_venue = {
        "client_id": str(uuid.uuid4()),
        "campaign": "qr-2026",
        "name": "新店",
        "category": "retail",
    }
    field_venue.update(city="taiyuan")
    return [
        ("GET", "/health", None, ALL, {}),
        # public pages (the language switch without its query parameter is a 400 page; a 64-hex static path a 404)
        ("GET", "/", None, ALL, {"anonymous": 200, "admin": 200}),
        ("GET", "/privacy", None, ALL, {"anonymous": 200}),
        ("GET", "/lang", None, ALL, {"anonymous": 400}),
        ("GET", "/releases", None, ALL, {name: 200 for name in ALL}),
        ("GET", "/releases/nope", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/releases/nope/rankings", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/releases/nope/cities/nope", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/releases/nope/provinces/nope", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/releases/nope/inspections", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/releases/nope/methodology", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/releases/nope/data", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/static/" + "0" * 64, None, ALL, {"anonymous": 404}),
        # the citizen survey is public (an inspection campaign has none); its QR codes and posters are for admins
        ("GET", "/s/qr-2026", None, ALL, {"anonymous": 404, "admin": 404}),
        ("GET", "/s/nope/taiyuan", None, ALL, {"anonymous": 404}),
        ("GET", "/admin/qr/qr-2026.png", None, ADMIN, {"anonymous": 303, "admin": 404}),
        ("GET", "/admin/qr/qr-2026/poster", None, ADMIN, {"anonymous": 303, "admin": 404}),
        # staff pages: without a session a page sends the person to sign in (303), a role that may not see it
        # gets the 403 page; forms sent empty are refused by the service (422, 409) or name nothing (404)
        ("GET", "/login", None, ALL, {"anonymous": 200, "admin": 303}),
        ("POST", "/login", None, ALL, {name: 422 for name in ALL}),
        ("POST", "/logout", None, ALL, {name: 303 for name in ALL}),
        ("GET", "/desk", None, STAFF, {"anonymous": 303, "reviewer": 200}),
        ("GET", "/desk/audits", None, STAFF, {"anonymous": 303, "reviewer": 200}),
        ("POST", "/desk/audits/approve", None, STAFF, {"anonymous": 303, "reviewer": 303}),
        ("GET", f"/desk/audits/{audit}", None, STAFF, {"anonymous": 303, "reviewer": 200}),
        ("POST", f"/desk/audits/{audit}/review", None, STAFF, {"anonymous": 303, "reviewer": 422}),
        ("GET", "/desk/campaigns/nope/flagged", None, STAFF, {"anonymous": 303, "admin": 404}),
        ("POST", f"/desk/campaigns/nope/flagged/{audit}", None, STAFF, {"anonymous": 303, "admin": 404}),
        ("GET", "/admin", None, ADMIN, {"anonymous": 303, "admin": 200}),
        ("GET", "/admin/new-campaign", None, ADMIN, {"anonymous": 303, "admin": 200}),
        ("POST", "/admin/new-campaign", None, ADMIN, {"anonymous": 303, "admin": 422}),
        ("GET", "/admin/campaigns/qr-2026", None, ADMIN, {"anonymous": 303, "admin": 200}),
        ("GET", "/admin/campaigns/nope/edit", None, ADMIN, {"anonymous": 303, "admin": 404}),
        ("POST", "/admin/campaigns/nope/edit", None, ADMIN, {"anonymous": 303, "admin": 404}),
        ("POST", "/admin/campaigns/nope/status", None, ADMIN, {"anonymous": 303, "admin": 404}),
        ("POST", "/admin/campaigns/nope/publish", None, ADMIN, {"anonymous": 303, "admin": 404}),
        ("POST", "/admin/campaigns/nope/assignments", None, ADMIN, {"anonymous": 303, "admin": 404}),
        ("GET", "/admin/campaigns/qr-2026/progress", None, ADMIN, {"anonymous": 303, "admin": 200}),
        ("GET", "/admin/people", None, ADMIN, {"anonymous": 303, "admin": 200}),
        ("POST", "/admin/people", None, ADMIN, {"anonymous": 303, "admin": 422}),
        ("POST", "/admin/people/999999", None, ADMIN, {"anonymous": 303, "admin": 404}),
        ("GET", "/admin/places", None, ADMIN, {"anonymous": 303, "admin": 200}),
        ("POST", "/admin/places/import", None, ADMIN, {"anonymous": 303, "admin": 422}),
        ("POST", "/admin/places/import/confirm", None, ADMIN, {"anonymous": 303, "admin": 409}),
        # the field app's shell, manifest and service worker are public (the app signs in through the API);
        # (/field is sent on to /field/ with a permanent redirect; redirects are not followed here)
        ("GET", "/field", None, ALL, {"anonymous": 308, "inspector": 308}),
        ("GET", "/field/manifest.webmanifest", None, ALL, {"anonymous": 200}),
        ("GET", "/field/sw.js", None, ALL, {"anonymous": 200, "admin": 200}),
        ("POST", "/api/v1/auth/login", {"username": "nobody", "password": "wrong-password"}, set(), {}),
        ("POST", "/api/v1/auth/logout", None, SIGNED_IN, {}),
        ("GET", "/api/v1/auth/me", None, SIGNED_IN, {}),
        (
            "POST",
            "/api/v1/auth/password",
            {"old_password": "not-the-password", "new_password": "another-long-one"},
            SIGNED_IN,
            {name: 422 for name in SIGNED_IN},
        ),
        ("GET", "/api/v1/accounts", None, ADMIN, {}),
        ("POST", "/api/v1/accounts", {"username": "x", "password": "short", "role": "boss"}, ADMIN, {}),
        ("GET", "/api/v1/accounts/1", None, ADMIN, {}),
        ("PATCH", "/api/v1/accounts/999999", {"display_name": "x"}, ADMIN, {}),
        ("GET", "/api/v1/audit-log", None, ADMIN, {}),
        ("GET", "/api/v1/cities", None, ALL, {}),
        ("GET", "/api/v1/cities/taiyuan", None, ALL, {}),
        ("POST", "/api/v1/cities", {**city, "code": "taiyuan"}, ADMIN, {"admin": 409}),
        ("PUT", "/api/v1/cities/nowhere", {**city, "code": "nowhere"}, ADMIN, {"admin": 404}),
        ("GET", "/api/v1/venues", None, ALL, {}),
        ("GET", f"/api/v1/venues/{venue}", None, ALL, {}),
        ("POST", "/api/v1/venues", {**venue_body, "city": "atlantis"}, ADMIN, {"admin": 422}),
        ("PUT", "/api/v1/venues/999999", venue_body, ADMIN, {"admin": 404}),
        ("GET", "/api/v1/campaigns", None, ALL, {}),
        ("GET", "/api/v1/campaigns/qr-2026", None, ALL, {}),
        ("POST", "/api/v1/campaigns", {"code": "y", "name": "y", "questionnaire_version": 999999}, ADMIN, {}),
        ("PATCH", "/api/v1/campaigns/nope", {"name": "z"}, ADMIN, {"admin": 404}),
        ("POST", "/api/v1/campaigns/nope/open", None, ADMIN, {"admin": 404}),
        ("POST", "/api/v1/campaigns/nope/close", None, ADMIN, {"admin": 404}),
        ("POST", "/api/v1/campaigns/nope/releases", {}, ADMIN, {"admin": 404}),
        ("GET", "/api/v1/releases", None, ALL, {}),
        ("GET", "/api/v1/releases/nope", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/api/v1/releases/nope/rankings", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/api/v1/releases/nope/cities/nope", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/api/v1/releases/nope/provinces/nope", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/api/v1/releases/nope/inspections", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/api/v1/releases/nope/files", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/api/v1/releases/nope/files/cities.csv", None, ALL, {name: 404 for name in ALL}),
        ("GET", "/api/v1/campaigns/qr-2026/export", None, ADMIN, {"admin": 200}),
        ("GET", "/api/v1/campaigns/qr-2026/progress", None, ADMIN, {"admin": 200}),
        ("GET", "/api/v1/campaigns/nope/flagged", None, STAFF, {"admin": 404, "reviewer": 404}),
        (
            "POST",
            f"/api/v1/responses/{audit}/review",
            {"decision": "keep"},
            STAFF,
            {"admin": 404, "reviewer": 404},
        ),
        ("PUT", "/api/v1/campaigns/nope/inspectors", {"inspectors": []}, ADMIN, {"admin": 404}),
        ("GET", "/api/v1/campaigns/qr-2026/inspectors", None, STAFF, {}),
        ("PUT", "/api/v1/campaigns/nope/interviewers", {"interviewers": []}, ADMIN, {"admin": 404}),
        ("GET", "/api/v1/campaigns/qr-2026/interviewers", None, STAFF, {}),
        ("PUT", "/api/v1/campaigns/nope/reviewers", {"reviewers": []}, ADMIN, {"admin": 404}),
        ("GET", "/api/v1/campaigns/qr-2026/reviewers", None, STAFF, {}),
        ("GET", "/api/v1/questionnaires", None, ALL, {}),
        ("GET", "/api/v1/questionnaires/1", None, ALL, {}),
        # responses: anyone anonymous; signed in, only admins and assigned field staff (an inspection campaign
        # then refuses them with 409, which is past authorisation)
        (
            "POST",
            "/api/v1/campaigns/qr-2026/responses",
            {"id": str(uuid.uuid4()), "answers": {}},
            {"anonymous", "admin", "inspector"},
            {"anonymous": 409, "admin": 409, "inspector": 409},
        ),
        ("POST", "/api/v1/batch", {"responses": []}, SIGNED_IN, {}),
        (
            "POST",
            "/api/v1/campaigns/qr-2026/audits",
            new_audit,
            {"inspector", "admin"},
            {"inspector": 201, "other": 403},
        ),
        (
            "POST",
            "/api/v1/campaigns/qr-2026/audits/multipart",
            multipart,
            {"inspector", "admin"},
            {"inspector": 201, "other": 403},
        ),
        ("GET", "/api/v1/audits", None, SIGNED_IN, {}),
        (
            "GET",
            f"/api/v1/audits/{audit}",
            None,
            {"inspector", "reviewer", "admin"},
            {"other": 404, "interviewer": 404},
        ),
        ("PUT", f"/api/v1/audits/{audit}", {"answers": {}}, {"inspector"}, {"inspector": 422, "other": 404}),
        ("POST", f"/api/v1/audits/{audit}/review", {"action": "bogus"}, STAFF, {"reviewer": 422}),
        ("POST", "/api/v1/photos", PNG, {"inspector", "other", "admin"}, {}),
        # the field app: what a field account works on; an inspection's venues, new venues and follow-ups for its
        # assigned inspectors (the other inspector is refused by the assignment) and admins
        ("GET", "/api/v1/field/assignments", None, {"inspector", "other", "interviewer", "admin"}, {}),
        (
            "GET",
            "/api/v1/field/campaigns/qr-2026/venues",
            None,
            {"inspector", "admin"},
            {"inspector": 200, "admin": 200},
        ),
        (
            "POST",
            "/api/v1/field/venues",
            field_venue,
            {"inspector", "admin"},
            {"inspector": 201, "admin": 200},
        ),
        (
            "GET",
            f"/api/v1/field/venues/{venue}/last-audit",
            None,
            {"inspector", "admin"},
            {"inspector": 404, "admin": 404},
        ),
        # the photo is held by the multipart audit above: its inspector, the campaign's reviewer and admins may
        # read it; to others it looks missing
        (
            "GET",
            f"/api/v1/photos/{sha}/meta",
            None,
            SIGNED_IN,
            {"inspector": 200, "admin": 200, "reviewer": 200, "other": 404, "interviewer": 404},
        ),
        (
            "GET",
            f"/api/v1/photos/{sha}",
            None,
            SIGNED_IN,
            {"inspector": 200, "admin": 200, "reviewer": 200, "other": 404, "interviewer": 404},
        ),
    ]


def _template(path: str) -> str:
    """Turn a concrete test path back into the route template's shape for the coverage check."""
    parts = []
    for part in path.split("/"):
        if (
            part.isdigit()
            or len(part) in (36, 64)
            or part in {"taiyuan", "nowhere", "nope", "qr-2026", "qr-2026.png", "cities.csv", "999999"}
        ):
            parts.append("{}")
        else:
            parts.append(part)
    return "/".join(parts)


async def test_every_endpoint_for_every_principal(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    ctx["sha"] = (await upload(client, ctx["inspector"], PNG)).json()["sha256"]
    audit = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": {"counter_payment": True}}
    assert (
        await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    ).status_code == 201
    ctx["audit"] = audit["id"]
    ctx["interviewer"] = await headers_for(client, "interviewer")
    names = ("inspector", "other", "interviewer", "reviewer", "admin")
    headers = {"anonymous": {}, **{name: ctx[name] for name in names}}
    failures = []
    rows = matrix(ctx)
    for method, path, body, allowed, exact in rows:
        for principal in ("anonymous", *names):
            if path == "/api/v1/auth/logout":
                continue  # would end the session used by later rows; covered below
            kwargs: dict[str, Any] = {"headers": dict(headers[principal])}
            if isinstance(body, Multipart):
                kwargs["data"], kwargs["files"] = body.data, body.files
            elif isinstance(body, bytes):
                kwargs["content"] = body
                kwargs["headers"]["content-type"] = "image/png"
            elif body is not None:
                kwargs["json"] = body
            reply = await client.request(method, path, follow_redirects=False, **kwargs)
            client.cookies.clear()
            status = reply.status_code
            if principal in exact:
                ok = status == exact[principal]
            elif principal in allowed:
                ok = status not in (401, 403) and status < 500
            else:
                ok = status == (401 if principal == "anonymous" else 403) or (method, path) == (
                    "POST",
                    "/api/v1/auth/login",
                )
            if not ok:
                failures.append(f"{method} {path} as {principal}: {status} {reply.text[:120]}")
    assert not failures, "\n".join(failures)
    assert (await client.post("/api/v1/auth/logout")).status_code == 401
    assert (await client.post("/api/v1/auth/logout", headers=ctx["other"])).status_code == 204

    covered = {(method, _template(path)) for method, path, *_ in rows}
    routes = {
        (method, "/".join("{}" if p.startswith("{") else p for p in route.path.split("/")))
        for route in app.routes
        for method in getattr(route, "methods", set())
        if method not in {"HEAD", "OPTIONS"} and not route.path.startswith("/schema")
    }
    assert routes <= covered, f"routes missing from the matrix: {sorted(routes - covered)}"
