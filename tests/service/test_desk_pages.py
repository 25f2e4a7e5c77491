"""The staff pages over HTTP: sign-in and sign-out, the way back after a session ends, forms with CSRF tokens,
errors beside their fields in the visitor's language, the reviewer's desk and the admin's room (both databases)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from markupsafe import escape
from service_helpers import (
    PASSWORD,
    field_account,
    in_app,
    inspection_setup,
    make_account,
    open_campaign,
    submission,
)

from survey_platform.accounts.sessions import COOKIE_NAME

EN = {"cookie": "lang=en"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([0-9a-f]{64})">')


async def sign_in(client: AsyncTestClient[Litestar], username: str, next_page: str = "") -> str:
    """Sign in through the form (cookies kept by the client); returns the CSRF token the pages carry."""
    client.cookies.clear()
    reply = await client.post(
        "/login", data={"username": username, "password": PASSWORD, "next": next_page}, follow_redirects=False
    )
    assert reply.status_code == 303, reply.text
    page = await client.get("/desk" if next_page == "" else next_page)
    match = CSRF_META.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def _main(page: str) -> str:
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


async def test_sign_in_goes_where_the_person_was_going_and_only_on_this_site(
    client: AsyncTestClient[Litestar],
) -> None:
    await make_account(client, "reviewer", "rita")
    away = await client.get("/desk/audits?state=submitted", follow_redirects=False)
    assert (
        away.status_code == 303
        and away.headers["location"] == "/login?next=%2Fdesk%2Faudits%3Fstate%3Dsubmitted"
    )
    form = await client.get(away.headers["location"])
    assert form.status_code == 200 and 'name="next" value="/desk/audits?state=submitted"' in form.text
    assert 'autocomplete="current-password"' in form.text
    wrong = await client.post("/login", data={"username": "rita", "password": "not-it", "next": "/desk"})
    assert (
        wrong.status_code == 401 and "用户名或密码错误" in wrong.text and "wrong username" not in wrong.text
    )
    wrong_en = await client.post("/login", data={"username": "rita", "password": "x"}, headers=EN)
    assert "wrong username or password" in wrong_en.text and "用户名或密码错误" not in wrong_en.text
    empty = await client.post("/login", data={"username": "", "password": ""})
    assert empty.status_code == 422
    assert 'id="username-error-1">请输入用户名<' in empty.text and 'aria-invalid="true"' in empty.text
    reply = await client.post(
        "/login",
        data={"username": "rita", "password": PASSWORD, "next": "/desk/audits?state=submitted"},
        follow_redirects=False,
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/desk/audits?state=submitted"
    cookie = reply.cookies.get(COOKIE_NAME)
    assert cookie and "httponly" in reply.headers["set-cookie"].lower()
    assert (await client.get("/desk/audits?state=submitted")).status_code == 200
    # signed in already: the sign-in page goes straight on; a next pointing elsewhere is ignored
    assert (await client.get("/login?next=/desk", follow_redirects=False)).headers["location"] == "/desk"
    client.cookies.clear()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        elsewhere = await client.post(
            "/login", data={"username": "rita", "password": PASSWORD, "next": target}, follow_redirects=False
        )
        assert elsewhere.headers["location"] == "/", target
        client.cookies.clear()


async def test_a_sign_in_form_from_another_site_is_refused(client: AsyncTestClient[Litestar]) -> None:
    await make_account(client, "reviewer", "rita")
    forged = await client.post(
        "/login",
        data={"username": "rita", "password": PASSWORD},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and COOKIE_NAME not in forged.cookies


async def test_an_ended_session_goes_to_sign_in_and_back(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    await make_account(client, "reviewer", "rita")
    await sign_in(client, "rita")
    assert (await client.get("/desk/audits?city=wuxi")).status_code == 200
    await in_app(client, app.state.sessions.store.delete_all)  # every session expires
    away = await client.get("/desk/audits?city=wuxi", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"] == "/login?next=%2Fdesk%2Faudits%3Fcity%3Dwuxi&ended=1"
    assert (
        'survey_session=""' in away.headers["set-cookie"] or "max-age=0" in away.headers["set-cookie"].lower()
    )
    page = await client.get(away.headers["location"])
    assert "您的登录已过期或已结束" in page.text
    reply = await client.post(
        "/login",
        data={"username": "rita", "password": PASSWORD, "next": "/desk/audits?city=wuxi"},
        follow_redirects=False,
    )
    assert reply.headers["location"] == "/desk/audits?city=wuxi"


async def test_a_form_sent_after_the_session_ended_returns_to_its_page(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    ctx = await inspection_setup(client)
    audit = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": {"counter_payment": True}}
    assert (
        await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    ).status_code == 201
    name, _ = await make_account(client, "admin")
    token = await sign_in(client, name)
    await in_app(client, app.state.sessions.store.delete_all)
    page = f"/desk/audits/{audit['id']}"
    reply = await client.post(
        f"{page}/review",
        data={"action": "approve", "csrf_token": token},
        headers={"referer": f"http://testserver.local{page}"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == f"/login?next={page.replace('/', '%2F')}&ended=1"


async def test_sign_out_needs_the_token_and_ends_the_session(client: AsyncTestClient[Litestar]) -> None:
    await make_account(client, "reviewer", "rita")
    token = await sign_in(client, "rita")
    session = client.cookies.get(COOKIE_NAME)
    assert (await client.post("/logout", follow_redirects=False)).status_code == 403  # no CSRF token
    out = await client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?signed_out=1"
    client.cookies.clear()
    me = await client.get("/api/v1/auth/me", headers={"cookie": f"{COOKIE_NAME}={session}"})
    assert me.status_code == 401  # the old cookie opens nothing any more
    assert (await client.get("/login?signed_out=1")).text.count("您已退出登录") == 1


async def test_roles_and_forged_forms(client: AsyncTestClient[Litestar]) -> None:
    await make_account(client, "inspector", "ivan")
    await make_account(client, "reviewer", "rita")
    await sign_in(client, "ivan", "/login")
    denied = await client.get("/desk")
    assert (
        denied.status_code == 403
        and "无权访问" in denied.text
        and "requires role admin or reviewer" not in denied.text
    )
    token = await sign_in(client, "rita")
    assert (await client.get("/admin")).status_code == 403
    assert (await client.get("/admin/people")).status_code == 403
    forged = await client.post(
        "/desk/audits/approve", data={"audit": str(uuid.uuid4())}, follow_redirects=False
    )
    assert forged.status_code == 403  # the session cookie without the form's token
    cross = await client.post(
        "/desk/audits/approve",
        data={"csrf_token": token},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross.status_code == 403
    nul = await client.post("/desk/audits/approve", data={"csrf_token": token, "back": "a\x00b"})
    assert nul.status_code == 400 and "文本不能包含 NUL 字符" in nul.text


async def test_reviewing_audits_on_the_desk(client: AsyncTestClient[Litestar]) -> None:
    ctx = await inspection_setup(client)
    ids = []
    for notes in ("第一次", "第二次", "第三次"):
        audit = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": {"counter_payment": True}}
        reply = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
        assert reply.status_code == 201, notes
        ids.append(audit["id"])
    reviewer = (await client.get("/api/v1/auth/me", headers=ctx["reviewer"])).json()["username"]
    token = await sign_in(client, reviewer)
    listing = await client.get("/desk/audits", params={"campaign": "qr-2026", "state": "submitted"})
    assert listing.status_code == 200 and all(f'value="{i}"' in listing.text for i in ids)
    assert "某停车场" in listing.text and "待审核 (3)" in listing.text
    page = f"/desk/audits/{ids[0]}"
    detail = await client.get(page)
    assert detail.status_code == 200
    assert "可在柜台付款" in detail.text and "较重" in detail.text  # the check and its severity
    undecided = await client.post(f"{page}/review", data={"comment": "x", "csrf_token": token})
    assert undecided.status_code == 422 and 'id="action-error-1">请选择通过、退回或驳回</p>' in undecided.text
    no_comment = await client.post(
        f"{page}/review", data={"action": "return", "comment": " ", "csrf_token": token}
    )
    assert no_comment.status_code == 422
    assert re.search(
        r'id="comment-error-1">退回须说明需要修改什么</p>\s*<textarea id="comment"', no_comment.text
    )
    assert 'aria-describedby="comment-error-1"' in no_comment.text
    returned = await client.post(
        f"{page}/review",
        data={"action": "return", "comment": "照片不清晰 <b>", "csrf_token": token},
        follow_redirects=False,
    )
    assert returned.status_code == 303 and returned.headers["location"] == f"{page}?done=return"
    after = await client.get(returned.headers["location"])
    assert "已退回检查员修改" in after.text and str(escape("照片不清晰 <b>")) in after.text
    again = await client.post(f"{page}/review", data={"action": "approve", "csrf_token": token})
    assert again.status_code == 409 and "cannot approve" not in again.text and "不能" in again.text
    bulk = await client.post(
        "/desk/audits/approve",
        data={
            "audit": [ids[0], ids[1], ids[2], "not-a-uuid"],
            "back": "campaign=qr-2026&page=1&evil=1",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert bulk.headers["location"] == "/desk/audits?campaign=qr-2026&page=1&approved=2&refused=1"
    states = [
        (await client.get(f"/api/v1/audits/{i}", headers=ctx["reviewer"])).json()["review_state"] for i in ids
    ]
    assert states == ["returned", "approved", "approved"]
    assert "已通过 2 条；1 条未改变" in (await client.get(bulk.headers["location"])).text


async def test_the_flagged_queue_page_keeps_and_excludes(client: AsyncTestClient[Litestar]) -> None:
    await open_campaign(client)
    interviewer, _ = await field_account(client, "mini-2026")
    _, reviewer_id = await field_account(client, "mini-2026", "reviewer")
    import datetime

    from service_helpers import T0

    items = [{**submission(), "campaign": "mini-2026"} for _ in range(9)]
    fast = {
        **submission(submitted_at=(T0 + datetime.timedelta(minutes=1)).isoformat()),
        "campaign": "mini-2026",
    }
    reply = await client.post("/api/v1/batch", json={"responses": [*items, fast]}, headers=interviewer)
    assert reply.json()["created"] == 10
    reviewer = (await client.get("/api/v1/accounts/" + str(reviewer_id), headers=await _admin(client))).json()
    token = await sign_in(client, reviewer["username"])
    queue = await client.get("/desk/campaigns/mini-2026/flagged")
    assert queue.status_code == 200 and f'id="item-{fast["id"]}"' in queue.text and "答题过快" in queue.text
    form = f"/desk/campaigns/mini-2026/flagged/{fast['id']}"
    no_reason = await client.post(
        form, data={"decision": "exclude", "reason": "", "back": "state=pending", "csrf_token": token}
    )
    assert no_reason.status_code == 422
    assert f'id="reason-{fast["id"]}-error-1">请说明排除理由</p>' in no_reason.text
    undecided = await client.post(form, data={"reason": "x", "back": "state=pending", "csrf_token": token})
    assert (
        undecided.status_code == 422
        and f'id="decision-{fast["id"]}-error-1">请选择保留或排除</p>' in undecided.text
    )
    done = await client.post(
        form,
        data={"decision": "exclude", "reason": "一分钟", "back": "state=pending", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/desk/campaigns/mini-2026/flagged?state=pending&done=exclude#queue"
    pending = await client.get("/desk/campaigns/mini-2026/flagged?state=pending")
    assert f'id="item-{fast["id"]}"' not in pending.text and "已排除该访问" not in pending.text
    decided = await client.get("/desk/campaigns/mini-2026/flagged?state=decided")
    assert f'id="item-{fast["id"]}"' in decided.text and "一分钟" in decided.text
    assert (await client.get("/desk/campaigns/nope/flagged")).status_code == 404


async def _admin(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    from service_helpers import headers_for

    return await headers_for(client, "admin")


async def test_an_admin_creates_opens_closes_and_cannot_publish_an_empty_campaign(
    client: AsyncTestClient[Litestar],
) -> None:
    admin = await _admin(client)
    await client.post("/api/v1/cities", json={"code": "wuxi", "name_zh": "无锡"}, headers=admin)
    name, _ = await make_account(client, "admin")
    token = await sign_in(client, name)
    form = await client.get("/admin/new-campaign")
    version = re.search(r'<option value="(\d+)"[^>]*>[^<]*mini_city', form.text)
    assert version, form.text
    values: dict[str, Any] = {
        "code": "Bad Code",
        "name": "<i>2026</i>",
        "questionnaire_version": version.group(1),
        "cities": ["wuxi", "atlantis"],
        "min_sample_per_city": "538",
        "starts_on": "2026-05-01",
        "ends_on": "2026-06-30",
        "csrf_token": token,
    }
    bad = await client.post("/admin/new-campaign", data=values)
    assert bad.status_code == 422 and 'id="code-error-1">活动代码应为 1–80 个小写字母' in bad.text
    assert 'value="&lt;i&gt;2026&lt;/i&gt;"' in bad.text  # what was typed comes back, escaped
    client.cookies.set("lang", "en")
    unknown = await client.post("/admin/new-campaign", data={**values, "code": "c-2026"})
    client.cookies.delete("lang")
    assert (
        unknown.status_code == 422 and 'id="cities-error-1">unknown city &#39;atlantis&#39;' in unknown.text
    )
    good = {**values, "code": "c-2026", "cities": ["wuxi"], "city_weighting": "population_and_sales"}
    share = await client.post("/admin/new-campaign", data={**good, "sales_share": "2"})
    assert (
        share.status_code == 422
        and 'id="method-error-1">城市权重应为' in share.text
        and 'aria-invalid="true"' in share.text
    )
    created = await client.post(
        "/admin/new-campaign", data={**good, "sales_share": "0.3"}, follow_redirects=False
    )
    assert created.headers["location"] == "/admin/campaigns/c-2026?done=created"
    campaign = (await client.get("/api/v1/campaigns/c-2026", headers=admin)).json()
    assert (campaign["status"], campaign["cities"], campaign["starts_on"], campaign["method"]) == (
        "draft",
        ["wuxi"],
        "2026-05-01",
        {"city_weighting": "population_and_sales", "sales_share": 0.3},
    )
    shown = await client.get("/admin/campaigns/c-2026")
    assert "<dd>常住人口与零售额 (零售额占 30%)</dd>" in shown.text
    edit = await client.get("/admin/campaigns/c-2026/edit")
    assert '<option value="population_and_sales" selected>' in edit.text and 'value="0.3"' in edit.text
    await client.patch(  # a setting declared through the API stays when the form is saved
        "/api/v1/campaigns/c-2026",
        json={"method": {**campaign["method"], "problem_rule": "any_critical"}},
        headers=admin,
    )
    saved = await client.post(
        "/admin/campaigns/c-2026/edit",
        data={**good, "city_weighting": "population", "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    method = (await client.get("/api/v1/campaigns/c-2026", headers=admin)).json()["method"]
    assert method == {"city_weighting": "population", "problem_rule": "any_critical"}
    for action, status in (("open", "open"), ("close", "closed")):
        reply = await client.post(
            "/admin/campaigns/c-2026/status",
            data={"action": action, "csrf_token": token},
            follow_redirects=False,
        )
        assert reply.status_code == 303
        assert (await client.get("/api/v1/campaigns/c-2026", headers=admin)).json()["status"] == status
    twice = await client.post("/admin/campaigns/c-2026/status", data={"action": "close", "csrf_token": token})
    assert twice.status_code == 409 and "活动状态为 closed" in twice.text
    page = await client.get("/admin/campaigns/c-2026")
    assert "/admin/qr/c-2026.svg" in page.text and "/admin/qr/c-2026/poster" in page.text


async def test_people_are_created_and_deactivated_from_the_admin_room(
    client: AsyncTestClient[Litestar],
) -> None:
    name, _ = await make_account(client, "admin")
    token = await sign_in(client, name)
    short = await client.post(
        "/admin/people",
        data={"username": "ivan", "role": "interviewer", "password": "short", "csrf_token": token},
    )
    assert short.status_code == 422 and 'id="password-error-1"' in short.text
    made = await client.post(
        "/admin/people",
        data={
            "username": "ivan",
            "display_name": "伊万",
            "role": "interviewer",
            "password": "a-long-pass-phrase-7",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert made.headers["location"] == "/admin/people?done=created"
    client.cookies.clear()
    login = await client.post(
        "/api/v1/auth/login", json={"username": "ivan", "password": "a-long-pass-phrase-7"}
    )
    ivan = {"Authorization": f"Bearer {login.json()['token']}"}
    account_id = login.json()["account"]["user_id"]
    token = await sign_in(client, name)
    listed = await client.get("/admin/people")
    assert f'id="account-{account_id}"' in listed.text and "伊万" in listed.text
    off = await client.post(
        f"/admin/people/{account_id}",
        data={"role": "interviewer", "active": "0", "display_name": "伊万", "csrf_token": token},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert (await client.get("/api/v1/auth/me", headers=ivan)).status_code == 401  # the session ended at once


CITIES_BAD = (
    "code,name_zh,province,population,margins\n"
    'wuxi,无锡,江苏,7490000,"{""sex"": {""m"": 0.5, ""f"": 0.5}}"\n'
    "suzhou,苏州,江苏,lots,\n"
)
CITIES_GOOD = CITIES_BAD.replace("lots", "12910000")


async def test_a_city_import_writes_nothing_until_every_row_is_fixed(
    client: AsyncTestClient[Litestar],
) -> None:
    name, _ = await make_account(client, "admin")
    token = await sign_in(client, name)
    refused = await client.post(
        "/admin/places/import",
        data={"kind": "cities", "csrf_token": token},
        files={"file": ("cities.csv", CITIES_BAD.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    main = _main(refused.text)
    assert "未写入任何内容" in main and "应为整数" in main and 'name="token"' not in main
    assert (await client.get("/api/v1/cities")).json() == []  # nothing written, not even the good row
    preview = await client.post(
        "/admin/places/import",
        data={"kind": "cities", "csrf_token": token},
        files={"file": ("cities.csv", CITIES_GOOD.encode(), "text/csv")},
    )
    assert preview.status_code == 200
    pending = re.search(r'name="token" value="([^"]+)"', preview.text)
    assert pending and (await client.get("/api/v1/cities")).json() == []
    done = await client.post(
        "/admin/places/import/confirm",
        data={"token": pending.group(1), "csrf_token": token},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/admin/places?imported=cities&created=2&updated=0"
    cities = {c["code"]: c for c in (await client.get("/api/v1/cities")).json()}
    assert cities["suzhou"]["population"] == 12_910_000 and cities["wuxi"]["margins"] == {
        "sex": {"m": 0.5, "f": 0.5}
    }
    used = await client.post(
        "/admin/places/import/confirm", data={"token": pending.group(1), "csrf_token": token}
    )
    assert used.status_code == 409  # a confirmation is used once


async def test_venues_import_from_xlsx(client: AsyncTestClient[Litestar]) -> None:
    import io

    import openpyxl

    name, _ = await make_account(client, "admin")
    admin = await _admin(client)
    await client.post("/api/v1/cities", json={"code": "taiyuan", "name_zh": "太原"}, headers=admin)
    workbook = openpyxl.Workbook()
    for row in (
        ["name", "category", "city", "address", "latitude", "longitude"],
        ["某停车场", "car_park", "taiyuan", "迎泽大街", 37.87, 112.55],
    ):
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    token = await sign_in(client, name)
    preview = await client.post(
        "/admin/places/import",
        data={"kind": "venues", "csrf_token": token},
        files={"file": ("venues.xlsx", buffer.getvalue(), "application/octet-stream")},
    )
    pending = re.search(r'name="token" value="([^"]+)"', preview.text)
    assert preview.status_code == 200 and pending, preview.text[:2000]
    done = await client.post(
        "/admin/places/import/confirm",
        data={"token": pending.group(1), "csrf_token": token},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/admin/places?imported=venues&created=1&updated=0"
    (venue,) = (await client.get("/api/v1/venues")).json()
    assert (venue["name"], venue["city"], venue["latitude"]) == ("某停车场", "taiyuan", 37.87)


async def test_an_assignment_form_with_an_unknown_role_is_refused_beside_it(
    client: AsyncTestClient[Litestar],
) -> None:
    from service_helpers import open_campaign

    await open_campaign(client)
    name, _ = await make_account(client, "admin")
    token = await sign_in(client, name, "/admin")
    reply = await client.post(
        "/admin/campaigns/mini-2026/assignments",
        data={"role": "boss", "account": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert reply.status_code == 422, reply.text[:300]  # a form's bad value, not a server error
    assert "interviewer" in reply.text
