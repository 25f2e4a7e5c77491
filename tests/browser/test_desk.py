"""The reviewer's desk and the admin's room in Chromium at 1280 × 800: signing in and out and back after a session
ended, reviewing audits, deciding on flagged interviews (and the next release leaving the excluded one out),
running a campaign from the admin's room, and nothing an inspector or a citizen typed ever running on a desk page.

The server is seeded through the API as clients do (``desk_helpers.seed``); axe-core checks every page; each page's
screenshot is saved; no request may leave 127.0.0.1 and no Content Security Policy violation may occur.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import Watch, check_accessible, screenshot, watch_page
from desk_helpers import DESK, HOSTILE, IMG, JS_LINK, QUESTIONNAIRES, SCRIPT, Api, interview, seed, sign_in
from service_helpers import LiveServer

from survey_platform.settings import Settings


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    settings = Settings.from_env({}, data_dir=tmp_path_factory.mktemp("desk") / "data")
    server = LiveServer(settings, env={"QUESTIONNAIRES_DIR": str(QUESTIONNAIRES)})
    server.start()
    try:
        yield server, seed(server)
    finally:
        server.stop()


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    """A fresh desk-sized browser context (no cookies), zh-CN."""
    context = browser.new_context(**DESK)
    yield context
    context.close()


@pytest.fixture
def watched(desk: Any, desk_server: tuple[LiveServer, dict[str, Any]]) -> Iterator[Watch]:
    watch = watch_page(desk, desk_server[0].url, guard_routes=True)
    yield watch
    watch.assert_clean()


def _open_signed_in(watched: Watch, path: str, username: str) -> Any:
    """Open ``path``; the desk sends the person to sign in, and back to ``path`` afterwards."""
    page = watched.page
    page.goto(watched.url(path))
    sign_in(page, watched.base_url, username)
    assert page.url == watched.url(path), page.url
    return page


def test_sign_in_an_ended_session_and_sign_out(
    watched: Watch, desk: Any, desk_server: tuple[LiveServer, dict[str, Any]]
) -> None:
    server, seeded = desk_server
    page = watched.page
    target = "/desk/audits?campaign=qr-2026&state=submitted"
    page.goto(watched.url(target))
    assert page.url == watched.url("/login?" + urllib.parse.urlencode({"next": target}))
    check_accessible(page)
    screenshot(page, "desk-signin")
    page.get_by_label("用户名").fill("rita")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().count("用户名或密码错误") == 1
    screenshot(page, "desk-signin-error")
    sign_in(page, watched.base_url, "rita")
    assert page.url == watched.url(target)
    assert page.get_by_role("heading", level=1).inner_text() == "检查记录"
    cookie = next(c for c in desk.cookies() if c["name"] == "survey_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # the session ends on the server (as when it expires): the next page asks to sign in, then comes back
    api = Api(server)
    rita = seeded["ids"]["rita"]
    api.call("PATCH", f"/api/v1/accounts/{rita}", json={"active": False})
    api.call("PATCH", f"/api/v1/accounts/{rita}", json={"active": True})
    page.get_by_role("link", name="审核台").click()
    page.wait_for_url(re.compile(r".*/login\?next=%2Fdesk&ended=1$"))
    assert page.get_by_role("status").inner_text().startswith("您的登录已过期或已结束")
    check_accessible(page)
    screenshot(page, "desk-signin-ended")
    sign_in(page, watched.base_url, "rita")
    assert page.url == watched.url("/desk")

    # signing out ends the session: its cookie opens nothing any more, and the desk asks to sign in again
    session = next(c for c in desk.cookies() if c["name"] == "survey_session")["value"]
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(watched.url("/login?signed_out=1"))
    assert page.get_by_role("status").inner_text() == "您已退出登录。"
    assert not [c for c in desk.cookies() if c["name"] == "survey_session" and c["value"]]
    reply = api.client.get("/api/v1/auth/me", headers={"cookie": f"survey_session={session}"})
    api.client.cookies.clear()
    assert reply.status_code == 401
    page.goto(watched.url("/desk"))
    assert page.url == watched.url("/login?next=%2Fdesk")


def test_a_reviewer_returns_an_audit_with_a_comment_and_approves_another(
    watched: Watch, desk_server: tuple[LiveServer, dict[str, Any]]
) -> None:
    server, seeded = desk_server
    audits = seeded["audits"]
    page = _open_signed_in(watched, "/desk", "rita")
    assert page.get_by_text("已登录：rita（审核员）").count() == 1
    check_accessible(page)
    screenshot(page, "desk-home")
    page.get_by_role("link", name="待审核的检查记录").click()
    page.wait_for_url(watched.url("/desk/audits?state=submitted"))
    rows = page.locator("table.audits tbody tr")
    assert rows.count() == 3  # the rejected one is not waiting
    check_accessible(page)
    screenshot(page, "desk-audits")

    # the audit with a refused counter payment: checks with severity and legal basis, the photo, the position
    page.locator(f'a[href="/desk/audits/{audits["refused"]}"]').click()
    page.wait_for_url(watched.url(f"/desk/audits/{audits['refused']}"))
    answers = page.locator("table.answers")
    assert "能否在柜台付款（未被拒绝）？" in answers.inner_text() and "不合规" in answers.inner_text()
    assert "消费者权益保护法 第九条" in answers.inner_text() and "严重" in answers.inner_text()
    photo = page.locator("a.photo img").first
    photo.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('a.photo img').naturalWidth === 320")
    assert page.locator("a.photo").first.get_attribute("href") == f"/api/v1/photos/{seeded['photo']}"
    facts = page.locator("section", has=page.get_by_role("heading", name="地点与时间")).inner_text()
    assert "37.870600, 112.548900" in facts and "12 米" in facts
    check_accessible(page)
    screenshot(page, "desk-audit")

    # returning needs a comment: the error stands beside the comment field, in Chinese
    page.get_by_label("退回修改（须说明）").check()
    page.get_by_role("button", name="记录审核决定").click()
    comment = page.get_by_label("给检查员的说明")
    assert comment.get_attribute("aria-invalid") == "true"
    error_id = comment.get_attribute("aria-describedby")
    assert page.locator(f"#{error_id}").inner_text() == "⚠ 退回须说明需要修改什么" or page.locator(
        f"#{error_id}"
    ).inner_text().endswith("退回须说明需要修改什么")
    assert page.get_by_label("退回修改（须说明）").is_checked()  # the choice was kept
    check_accessible(page)
    screenshot(page, "desk-audit-comment-required")
    comment.fill("请补拍收银台的提示牌。")
    page.get_by_role("button", name="记录审核决定").click()
    page.wait_for_url(watched.url(f"/desk/audits/{audits['refused']}?done=return"))
    assert page.get_by_role("status").inner_text() == "已退回检查员修改。"
    assert "请补拍收银台的提示牌。" in page.locator("ol.history").inner_text()

    # the same page in English, chosen with the language switch
    page.get_by_role("link", name="English").click()
    page.wait_for_url(watched.url(f"/desk/audits/{audits['refused']}?done=return"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Answers and checks").count() == 1
    assert "Consumer Rights Protection Law Art. 9" in page.locator("table.answers").inner_text()
    assert "Signed in as rita (reviewer)" in page.locator(".staff-who").inner_text()
    check_accessible(page)
    screenshot(page, "desk-audit-en")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url(watched.url(f"/desk/audits/{audits['refused']}?done=return"))

    # another audit is approved
    page.goto(watched.url(f"/desk/audits/{audits['fine']}"))
    page.get_by_label("通过").check()
    page.get_by_role("button", name="记录审核决定").click()
    page.wait_for_url(watched.url(f"/desk/audits/{audits['fine']}?done=approve"))
    api = Api(server)
    detail = api.call("GET", f"/api/v1/audits/{audits['refused']}")
    assert (
        detail["review_state"] == "returned" and detail["history"][-1]["comment"] == "请补拍收银台的提示牌。"
    )
    assert api.call("GET", f"/api/v1/audits/{audits['fine']}")["review_state"] == "approved"

    # the rest of a filtered list is approved at once
    page.goto(watched.url("/desk/audits?campaign=qr-2026&state=submitted"))
    assert page.locator("table.audits tbody tr").count() == 1
    page.get_by_label("选择本页全部待审核记录").check()
    page.get_by_role("button", name="通过所选记录").click()
    page.wait_for_url(
        re.compile(r".*/desk/audits\?campaign=qr-2026&state=submitted&page=1&approved=1&refused=0$")
    )
    assert page.get_by_role("status").inner_text().startswith("已通过 1 条")
    assert api.call("GET", f"/api/v1/audits/{audits['again']}")["review_state"] == "approved"


def test_a_flagged_interview_is_excluded_and_the_next_release_leaves_it_out(
    watched: Watch, desk_server: tuple[LiveServer, dict[str, Any]]
) -> None:
    server, seeded = desk_server
    page = _open_signed_in(watched, "/desk/campaigns/city-2026/flagged", "rita")
    # the fabricating interviewer stands out; the honest one, with one fast interview, does not
    interviewers = page.locator("table.interviewers tbody tr")
    first = interviewers.first.inner_text()
    assert "赵访员" in first and "明显偏高" in first and "60.0%" in first
    honest = page.locator("table.interviewers tbody tr", has_text="张访员").inner_text()
    assert "正常范围" in honest
    assert page.locator("ol.queue > li").count() == 9  # 6 + 1 fast interviews, 2 fast citizens
    check_accessible(page)
    screenshot(page, "desk-flagged")

    page.get_by_label("访员", exact=True).select_option(label="赵访员")
    page.get_by_role("button", name="筛选").last.click()
    items = page.locator("ol.queue > li")
    assert items.count() == 6
    target = items.first.get_attribute("id").removeprefix("item-")
    assert target in seeded["bob_speeders"]
    item = items.first
    item.get_by_role("radio", name="排除").check()
    item.get_by_role("button", name="记录决定").click()  # no reason: refused beside the reason field
    item = page.locator(f"#item-{target}")
    reason = item.get_by_label("理由（排除时必填）")
    assert reason.get_attribute("aria-invalid") == "true"
    assert "请说明排除理由" in item.locator(".field-error").inner_text()
    screenshot(page, "desk-flagged-reason-required")
    reason.fill("6 分钟内连续完成多份，录音缺失")
    item.get_by_role("button", name="记录决定").click()
    page.wait_for_url(re.compile(r".*done=exclude#queue$"))
    assert page.get_by_role("status").inner_text() == "已排除该访问，下一次发布不会采用它。"
    assert page.locator(f"#item-{target}").count() == 0  # no longer waiting
    keep = page.locator("ol.queue > li").first
    kept = keep.get_attribute("id").removeprefix("item-")
    keep.get_by_role("radio", name="保留").check()
    keep.get_by_role("button", name="记录决定").click()
    page.wait_for_url(re.compile(r".*done=keep#queue$"))

    # the admin closes the campaign and publishes a release through the service: the excluded one is out
    api = Api(server)
    api.call("POST", "/api/v1/campaigns/city-2026/close")
    release = api.call("POST", "/api/v1/campaigns/city-2026/releases", json={"seed": 7})["release"]
    suzhou = api.call("GET", f"/api/v1/releases/{release}/cities/suzhou")
    exclusions = suzhou["exclusions"]
    assert (exclusions["collected"], exclusions["excluded_by_review"], exclusions["valid"]) == (10, 1, 9)
    assert exclusions["flagged_kept"] >= 1  # the one kept still counts, flagged or not
    rankings = {c["city"]: c for c in api.call("GET", f"/api/v1/releases/{release}/rankings")["cities"]}
    assert rankings["suzhou"]["n"] == 9 and rankings["wuxi"]["n"] == 23
    decided = api.call("GET", "/api/v1/campaigns/city-2026/flagged", params={"state": "decided"})
    assert {(i["id"], i["decision"]["decision"]) for i in decided["items"]} == {
        (target, "exclude"),
        (kept, "keep"),
    }


def test_an_admin_imports_cities_runs_a_campaign_and_watches_progress(
    watched: Watch, tmp_path: Any, desk_server: tuple[LiveServer, dict[str, Any]]
) -> None:
    server = desk_server[0]
    api = Api(server)
    page = _open_signed_in(watched, "/admin/places", "admin")
    check_accessible(page)
    screenshot(page, "admin-places")
    bad = tmp_path / "cities.csv"
    bad.write_text(
        "code,name_zh,province,population,margins\n"
        'hangzhou,杭州,浙江,12376000,"{""q_sex"": {""male"": 0.51, ""female"": 0.49}}"\n'
        "nanjing,南京,江苏,many,\n"
        "ningbo,宁波,浙江,9618000,\n",
        encoding="utf-8",
    )
    page.get_by_label("城市（含加权边际）").check()
    page.get_by_label("文件", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="预览").click()
    page.wait_for_url(watched.url("/admin/places/import"))
    assert "文件有问题，未写入任何内容" in page.get_by_role("alert").inner_text()
    bad_row = page.locator("table.preview tbody tr.row-fail")
    assert (
        bad_row.count() == 1 and "population" in bad_row.inner_text() and "应为整数" in bad_row.inner_text()
    )
    assert page.get_by_role("button", name=re.compile("确认导入")).count() == 0
    check_accessible(page)
    screenshot(page, "admin-import-refused")
    codes = {c["code"] for c in api.call("GET", "/api/v1/cities")}
    assert not codes & {"hangzhou", "nanjing", "ningbo"}  # nothing was written

    bad.write_text(bad.read_text(encoding="utf-8").replace("many", "9423000"), encoding="utf-8")
    page.goto(watched.url("/admin/places"))
    page.get_by_label("文件", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="预览").click()
    assert page.get_by_role("status").inner_text().startswith("3 行均无问题")
    screenshot(page, "admin-import-preview")
    assert not {c["code"] for c in api.call("GET", "/api/v1/cities")} & {"hangzhou", "nanjing", "ningbo"}
    page.get_by_role("button", name="确认导入 3 行").click()
    page.wait_for_url(watched.url("/admin/places?imported=cities&created=3&updated=0"))
    cities = {c["code"]: c for c in api.call("GET", "/api/v1/cities")}
    assert cities["hangzhou"]["margins"] == {"q_sex": {"male": 0.51, "female": 0.49}}
    assert cities["nanjing"]["population"] == 9_423_000

    # a new campaign over the imported cities: an error first, beside its field
    page.get_by_role("link", name="活动", exact=True).click()
    page.get_by_role("link", name="新建活动").click()
    page.get_by_label("活动代码").fill("Watch 2026")
    page.get_by_label("活动名称").fill("2026 年长三角测评")
    version = page.locator("#questionnaire_version option", has_text="desk_city").get_attribute("value")
    page.get_by_label("问卷（已登记的版本）").select_option(version)
    for name in ("杭州", "南京", "宁波"):
        page.get_by_role("checkbox", name=re.compile(name)).check()
    page.get_by_label("开始日期").fill("2026-05-01")
    page.get_by_label("结束日期").fill("2026-06-30")
    page.get_by_role("button", name="创建活动（草稿）").click()
    code_field = page.get_by_label("活动代码")
    assert code_field.get_attribute("aria-invalid") == "true"
    assert page.get_by_role("checkbox", name=re.compile("杭州")).is_checked()  # what was chosen is kept
    check_accessible(page)
    screenshot(page, "admin-campaign-form-error")
    code_field.fill("watch-2026")
    page.get_by_role("button", name="创建活动（草稿）").click()
    page.wait_for_url(watched.url("/admin/campaigns/watch-2026?done=created"))
    people = page.locator("form", has=page.get_by_text("访员", exact=True))
    people.get_by_role("checkbox", name=re.compile("张访员")).check()
    people.get_by_role("button", name=re.compile("保存访员分配")).click()
    page.wait_for_url(re.compile(r".*done=assigned#people$"))
    page.get_by_role("button", name="开放活动").click()
    page.wait_for_url(watched.url("/admin/campaigns/watch-2026?done=open"))
    assert page.get_by_role("status").inner_text() == "活动已开放。"
    check_accessible(page)
    screenshot(page, "admin-campaign")

    # progress moves by itself while interviews arrive
    page.get_by_role("link", name="现场进度").first.click()
    page.wait_for_url(watched.url("/admin/campaigns/watch-2026/progress"))
    valid = page.locator('[data-field="valid"]')
    assert valid.inner_text() == "0"
    check_accessible(page)
    screenshot(page, "admin-progress-empty")
    import random

    rng = random.Random(5)
    batch = {"responses": [{**interview(rng, "hangzhou", 10), "campaign": "watch-2026"} for _ in range(12)]}
    api.call("POST", "/api/v1/batch", json=batch, headers=api.token("ann"))
    page.wait_for_function(
        "() => document.querySelector('[data-field=\"valid\"]').textContent === '12'", timeout=20_000
    )
    hangzhou = page.locator("table.progress-cities tbody tr", has_text="杭州")
    assert re.search(r"12\s+538\s+2\.2%", hangzhou.inner_text())
    assert "张访员" in page.locator('tbody[data-rows="interviewers"]').inner_text()
    citizen = {**interview(rng, "nanjing", 9, channel="qr")}
    api.call("POST", "/api/v1/campaigns/watch-2026/responses", json=citizen, headers={})
    page.wait_for_function(
        "() => document.querySelector('[data-field=\"channels.qr\"]').textContent === '1'", timeout=20_000
    )
    assert page.locator('[data-field="valid"]').inner_text() == "13"
    page.wait_for_function(
        "() => document.querySelector('[data-field=\"quality.judged\"]').textContent === '13'", timeout=20_000
    )
    check_accessible(page)
    screenshot(page, "admin-progress")

    page.goto(watched.url("/admin/campaigns/watch-2026"))
    page.get_by_role("button", name="结束活动").click()
    page.wait_for_url(watched.url("/admin/campaigns/watch-2026?done=close"))
    assert api.call("GET", "/api/v1/campaigns/watch-2026")["status"] == "closed"
    assert page.get_by_role("button", name="发布结果").count() == 1


def test_nothing_an_inspector_or_a_citizen_typed_runs_on_any_desk_page(
    watched: Watch, desk_server: tuple[LiveServer, dict[str, Any]]
) -> None:
    seeded = desk_server[1]
    page = watched.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _open_signed_in(watched, "/desk", "admin")
    audits = seeded["audits"]
    pages = {  # path: (screenshot, hostile text shown on it as text)
        "/desk": ("desk", None),
        "/desk/audits": ("desk-audits", f"海底捞{IMG}"),
        f"/desk/audits/{audits['refused']}": ("desk-audit-notes", HOSTILE),
        f"/desk/audits/{audits['phone']}": ("desk-audit-comment", f"不符合要求 {HOSTILE}"),
        "/desk/campaigns/city-2026/flagged?state=all": ("desk-flagged-answers", None),
        "/admin": ("admin", None),
        "/admin/campaigns/qr-2026": ("admin-campaign", None),
        "/admin/new-campaign": ("admin-new-campaign", f"{SCRIPT}茶饮"),
        "/admin/campaigns/city-2026/progress": ("admin-progress-survey", None),
        "/admin/campaigns/qr-2026/progress": ("admin-progress-inspection", None),
        "/admin/people": ("admin-people", None),
        "/admin/places": ("admin-places", f"太原{IMG}"),
    }
    for path, (name, shown) in pages.items():
        page.goto(watched.url(path))
        if path.startswith("/desk/campaigns"):
            for details in page.locator("details").all():
                details.locator("summary").click()
            assert page.get_by_text(HOSTILE).count() >= 1  # a citizen's comment, shown as text
            assert page.get_by_text(f"{JS_LINK} 价格偏高").count() >= 1
        if shown is not None:
            assert page.get_by_text(shown, exact=False).count() >= 1, path
        _assert_inert(page, path)
        check_accessible(page)
        screenshot(page, f"xss-{name}")
    # the import preview shows hostile cells as text too
    hostile_cell = (SCRIPT + IMG).replace('"', '""')
    csv = f'code,name_zh\nxss,"{hostile_cell}"\n'
    page.goto(watched.url("/admin/places"))
    page.get_by_label("文件", exact=True).set_input_files(
        files=[{"name": "cities.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="预览").click()
    assert page.get_by_text(f"{SCRIPT}{IMG}", exact=False).count() >= 1
    _assert_inert(page, "/admin/places/import")
    assert dialogs == []


def _assert_inert(page: Any, where: str) -> None:
    """No hostile text ran or became markup: no flag set, no inline script or handler, no javascript: URL."""
    assert page.evaluate("window.__xss") is None, where
    found = page.evaluate(
        """() => ({
            inline: document.querySelectorAll('script:not([src])').length,
            handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover],[onfocus]').length,
            js: Array.from(document.querySelectorAll('[href],[src],[action],[formaction]')).filter(e =>
                ['href', 'src', 'action', 'formaction'].some(a =>
                    (e.getAttribute(a) || '').replace(/\\s/g, '').toLowerCase().startsWith('javascript:'))).length,
        })"""
    )
    assert found == {"inline": 0, "handlers": 0, "js": 0}, (where, found)
    assert (
        "javascript:"
        not in re.sub(
            r"\s", "", " ".join(re.findall(r'(?:href|src|action)="([^"]*)"', page.content()))
        ).lower()
    )
