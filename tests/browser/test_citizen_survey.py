"""The citizen survey in Chromium at phone size (360 × 740), on the real server with the real city questionnaire.

A citizen completes the survey by QR code (keyboard on the first screen, skip logic, a reload in the middle, a switch
to English, a double tap on submit whose reply is lost, then "send again"): exactly one response is stored, with the
right answers and paradata. Screening ends politely and stores an excluded response; a server-side rejection is
shown beside its field; the matrix is one fieldset per row where the width available is narrow and a grid where it
is wide; the first load is at most 100 KB. Every screen is checked with axe-core and saved as a screenshot; no
request leaves 127.0.0.1 and the Content Security Policy is never violated.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import PHONE, Watch, check_accessible, has_no_horizontal_scroll, screenshot, watch_page
from service_helpers import PASSWORD, LiveServer

from survey_platform.questionnaire import load_questionnaire
from survey_platform.settings import Settings

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
CITY_SURVEY = load_questionnaire(QUESTIONNAIRES / "city_satisfaction.yaml").questionnaire
SURVEY = "/s/city-2026/wuxi"
SUBMIT = "**/api/v1/campaigns/city-2026/responses"
FIRST_LOAD_BUDGET = 100 * 1024  # bytes transferred (compressed), JavaScript included
CAMPAIGN_NAME = "2026 年城市消费者满意度测评"


@pytest.fixture(scope="module")
def survey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server with the repository's questionnaires and one open campaign of the city survey in Wuxi."""
    settings = Settings.from_env({}, data_dir=tmp_path_factory.mktemp("survey") / "data")
    server = LiveServer(settings, env={"QUESTIONNAIRES_DIR": str(QUESTIONNAIRES)})
    server.start()
    try:
        server.cli("user", "create", "admin", "--role", "admin")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            token = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).json()
            admin = {"Authorization": f"Bearer {token['token']}"}
            client.cookies.clear()
            version = client.get(
                "/api/v1/questionnaires", params={"questionnaire": "city_satisfaction"}
            ).json()
            city = {"code": "wuxi", "name_zh": "无锡", "name_en": "Wuxi"}
            assert client.post("/api/v1/cities", json=city, headers=admin).status_code == 201
            campaign = {
                "code": "city-2026",
                "name": CAMPAIGN_NAME,
                "questionnaire_version": version[-1]["id"],
                "cities": ["wuxi"],
            }
            assert client.post("/api/v1/campaigns", json=campaign, headers=admin).status_code == 201
            assert client.post("/api/v1/campaigns/city-2026/open", headers=admin).status_code == 200
            ended = {**campaign, "code": "city-2025", "name": "2025 年城市消费者满意度测评"}
            assert client.post("/api/v1/campaigns", json=ended, headers=admin).status_code == 201
            for step in ("open", "close"):
                assert client.post(f"/api/v1/campaigns/city-2025/{step}", headers=admin).status_code == 200
        server.admin = admin  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


@pytest.fixture
def citizen(phone: Any, survey_server: LiveServer) -> Iterator[Watch]:
    """A phone whose page may reach only 127.0.0.1, with its CSP reports and console watched."""
    watch = watch_page(phone, survey_server.url, guard_routes=True)
    uncaught: list[str] = []
    watch.page.on("pageerror", lambda error: uncaught.append(str(error)))
    yield watch
    watch.assert_clean()
    assert uncaught == [], f"uncaught errors in the page's scripts: {uncaught}"


def stored(server: LiveServer, response_id: str | None = None) -> list[dict[str, Any]]:
    """The stored responses (all, or the one with ``response_id``), read from the database file itself."""
    connection = sqlite3.connect(server.settings.sqlite_path, timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        query = "SELECT uuid, channel, city_code, status, status_reason, eligible, answers, paradata, duration_seconds FROM response"
        rows = connection.execute(
            query + (" WHERE uuid = ?" if response_id else ""), (response_id,) if response_id else ()
        )
        return [
            {
                **dict(row),
                "answers": json.loads(row["answers"]),
                "paradata": json.loads(row["paradata"] or "null"),
            }
            for row in rows
        ]
    finally:
        connection.close()


def items(matrix: str) -> list[str]:
    assert CITY_SURVEY is not None
    return [item.id for item in CITY_SURVEY.question(matrix).items]


def rate(page: Any, matrix: str, points: dict[str, int | str]) -> None:
    for item, point in points.items():
        page.locator(f"#in-{matrix}-{item}-{point}").check()


def choose(page: Any, question: str, code: str) -> None:
    page.locator(f"#q-{question} input[value='{code}']").check()


def next_button(page: Any) -> Any:
    return page.locator("#survey-next")


def check_screen(watch: Watch, name: str) -> None:
    page = watch.page
    assert has_no_horizontal_scroll(page), f"{name}: the page scrolls sideways"
    check_accessible(page)
    screenshot(page, f"survey-{name}")


def test_a_citizen_completes_the_city_survey_once_whatever_happens(
    citizen: Watch, phone: Any, survey_server: LiveServer
) -> None:
    page = citizen.page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.post_data or "") if r.method == "POST" else None)
    page.goto(citizen.url(f"{SURVEY}?via=qr"))
    assert page.locator("h1").inner_text() == CAMPAIGN_NAME
    assert page.get_by_text(
        "只收集：您的答案"
    ).is_visible()  # what is collected and why, before anything else
    check_screen(citizen, "intro-zh-CN")
    page.get_by_role("button", name="开始作答").click()

    # screening by keyboard alone: Tab to each group, Space to choose, type the number, Enter for "next"
    assert page.get_by_text("第 1 部分，共 6 部分").is_visible()
    next_button(page).click()  # nothing answered yet: the errors appear beside the questions
    assert page.locator("#err-q_resident_6m").inner_text() == "错误： 请回答此题。"
    assert page.locator("#err-q_offline_purchase").is_visible()
    assert not page.locator("#err-q_purchase_count").is_visible()  # optional
    check_screen(citizen, "screening-errors-zh-CN")
    page.locator("#section-heading").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "in-q_resident_6m-0"
    outline = page.evaluate("getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert outline == "solid"  # the focus is visible on the whole option
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type("600")
    page.keyboard.press("Enter")
    assert page.locator("#err-q_purchase_count").inner_text() == "错误： 请填写 1 到 500 之间的数。"
    page.fill("#in-q_purchase_count", "120")
    page.keyboard.press("Enter")  # the questionnaire's own constraint (at most 100), in its own words
    assert "一个月线下消费超过100次" in page.locator("#err-q_purchase_count").inner_text()
    page.fill("#in-q_purchase_count", "２４")  # full-width digits from a Chinese keyboard are digits
    page.keyboard.press("Enter")

    # supply: half of the grid, then a reload: the draft comes back on the same screen
    assert page.get_by_role("heading", name="消费供给").is_visible()
    supply = {item: 8 for item in items("supply_matrix")}
    supply["q_logistics"] = "dont_know"
    first_half = dict(list(supply.items())[:7])
    rate(page, "supply_matrix", first_half)
    check_screen(citizen, "supply-zh-CN")
    page.reload()
    assert page.get_by_text("已恢复您上次未完成的答案").is_visible()
    assert page.get_by_role("heading", name="消费供给").is_visible()
    assert page.locator("#in-supply_matrix-q_variety-8").is_checked()
    assert page.locator("#in-supply_matrix-q_logistics-dont_know").is_checked()
    next_button(page).click()  # the other half is missing: each row says so
    missing_rows = page.locator(".matrix-row.has-error")
    assert missing_rows.count() == len(supply) - 7
    assert missing_rows.first.locator(".field-error").inner_text() == "错误： 请为此项选择一个答案。"
    rate(page, "supply_matrix", dict(list(supply.items())[7:]))
    next_button(page).click()

    environment = {item: 7 for item in items("environment_matrix")}
    rate(page, "environment_matrix", environment)
    page.locator("#in-q_privacy_worry-3").check()
    check_screen(citizen, "environment-zh-CN")
    next_button(page).click()

    # rights: skip logic shows the complaint matrix only after "yes"
    rights = {item: 6 for item in items("rights_matrix")}
    rate(page, "rights_matrix", rights)
    assert page.locator("#q-dispute_matrix").is_hidden()
    page.locator("#in-q_had_dispute-0").check()
    assert page.locator("#q-dispute_matrix").is_visible()
    dispute = {"q_complaint_efficiency": 4, "q_complaint_result": 3}
    rate(page, "dispute_matrix", dispute)
    check_screen(citizen, "rights-zh-CN")
    assert phone.cookies() == []  # nothing set so far: no tracking cookie, no language cookie

    # the switch to English reloads the page: same draft, same screen, now in English
    page.get_by_role("link", name="English").click()
    page.wait_for_url(citizen.url(f"{SURVEY}?via=qr"))
    assert page.get_by_role("heading", name="Consumer rights protection").is_visible()
    assert page.locator("#in-dispute_matrix-q_complaint_result-3").is_checked()
    assert [c["name"] for c in phone.cookies()] == ["lang"]
    check_screen(citizen, "rights-en")
    next_button(page).click()

    page.locator("#in-q_overall-9").check()
    choose(page, "q_compared_last_year", "better")
    check_screen(citizen, "overall-en")
    next_button(page).click()
    demographics = {
        "q_sex": "female",
        "q_age_band": "35_44",
        "q_district_zone": "core",
        "q_hukou": "non_local",
        "q_education_level": "college",
        "q_income": "refused",
    }
    for question, code in demographics.items():
        choose(page, question, code)
    assert page.get_by_text("Part 6 of 6").is_visible()
    assert next_button(page).inner_text() == "Submit"
    assert page.locator("#q-q_interview_mode").count() == 0  # the interviewer's record is not asked
    check_screen(citizen, "demographics-en")

    # a double tap on "Submit", and the server's reply to the one request it makes is lost on the way back
    lost: list[int] = []

    def lose_the_reply(route: Any) -> None:
        if lost:
            route.fallback()
            return
        reply = route.fetch()  # the server stores it ...
        lost.append(reply.status)
        route.abort("connectionreset")  # ... and the phone never hears back

    page.route(SUBMIT, lose_the_reply)
    next_button(page).dblclick()
    retry = page.get_by_role("button", name="Send again")
    retry.wait_for()
    assert lost == [201] and len(posts) == 1
    assert page.get_by_text("Not delivered yet").is_visible()
    page.evaluate("getSelection().removeAllRanges()")  # (a desktop double click selects text; a tap does not)
    check_screen(citizen, "unsent-en")
    retry.click()
    page.get_by_role("heading", name="Thank you for taking part!").wait_for()
    assert len(posts) == 2 and posts[0] == posts[1]  # the same bytes: a re-send, not a new response
    check_screen(citizen, "thanks-en")
    page.reload()  # the thank-you stays; the answers are gone from the phone
    assert page.get_by_role("heading", name="Thank you for taking part!").is_visible()
    draft = page.evaluate("JSON.stringify(localStorage)")
    assert "q_overall" not in draft and "done" in draft

    rows = stored(survey_server)
    body = json.loads(posts[0])
    assert len(rows) == 1 and rows[0]["uuid"] == body["id"]
    row = rows[0]
    assert (row["channel"], row["city_code"], row["status"], row["eligible"]) == ("qr", "wuxi", "valid", 1)
    expected = {
        "q_resident_6m": True,
        "q_offline_purchase": True,
        "q_purchase_count": 24,
        "supply_matrix": supply,
        "environment_matrix": environment,
        "q_privacy_worry": 3,
        "rights_matrix": rights,
        "q_had_dispute": True,
        "dispute_matrix": dispute,
        "q_overall": 9,
        "q_compared_last_year": "better",
        **demographics,
    }
    assert row["answers"] == expected
    sections = row["paradata"]["sections"]
    assert set(sections) == {"screening", "supply", "environment", "rights", "overall", "demographics"}
    assert all(seconds > 0 for seconds in sections.values())
    assert sum(sections.values()) <= row["duration_seconds"] + 1
    assert row["duration_seconds"] > 0


def test_screening_ends_politely_and_stores_an_excluded_response(
    citizen: Watch, phone: Any, survey_server: LiveServer
) -> None:
    phone.add_cookies([{"name": "lang", "value": "en", "url": citizen.url("/")}])
    page = citizen.page
    page.goto(citizen.url(SURVEY))
    check_screen(citizen, "intro-en")
    page.get_by_role("button", name="Start").click()
    page.locator("#in-q_resident_6m-1").check()  # "No": the rest of the questionnaire falls away
    assert (
        page.locator("#q-q_offline_purchase").is_hidden() and page.locator("#q-q_purchase_count").is_hidden()
    )
    assert page.get_by_text("Part 1 of 1").is_visible()
    assert next_button(page).inner_text() == "Submit and finish"
    check_screen(citizen, "screened-question-en")
    next_button(page).click()
    page.get_by_role("heading", name="Thank you for your time").wait_for()
    assert page.get_by_text("This survey is for residents of at least 6 months.").is_visible()
    check_screen(citizen, "screened-end-en")
    response_id = json.loads(page.evaluate("Object.values(localStorage)[0]"))["done"]["id"]
    (row,) = stored(survey_server, response_id)
    assert (row["status"], row["status_reason"], row["eligible"], row["channel"]) == (
        "excluded",
        "screened_out",
        0,
        "online",
    )
    assert row["answers"] == {"q_resident_6m": False}
    assert set(row["paradata"]["sections"]) == {"screening"}


def test_a_rejection_by_the_server_is_shown_beside_its_field(
    citizen: Watch, survey_server: LiveServer
) -> None:
    """The browser checks what the server checks, so a rejection is forced: the request is altered on its way (the
    yes/no answer becomes the text "yes"), the real server answers 422 naming the field, and the page shows the
    server's words beside that question; sent again unaltered, the response is stored once."""
    page = citizen.page
    page.goto(citizen.url(SURVEY))
    page.get_by_role("button", name="开始作答").click()
    page.locator("#in-q_resident_6m-1").check()
    before = len(stored(survey_server))
    replies: list[int] = []

    def alter(route: Any) -> None:
        body = json.loads(route.request.post_data)
        body["answers"]["q_resident_6m"] = "yes"
        reply = route.fetch(post_data=json.dumps(body))
        replies.append(reply.status)
        route.fulfill(response=reply)

    page.route(SUBMIT, alter)
    next_button(page).click()
    error = page.locator("#err-q_resident_6m")
    error.wait_for()
    assert replies == [422]
    assert (
        error.inner_text() == "错误： 应为 true 或 false，而不是文本 'yes'"
    )  # the server's words, in Chinese
    assert page.locator("#in-q_resident_6m-0").get_attribute("aria-invalid") == "true"
    assert page.locator("#error-summary").inner_text().startswith("服务器没有接受这份答卷")
    assert page.evaluate("document.activeElement.id") == "in-q_resident_6m-0"
    assert len(stored(survey_server)) == before
    check_screen(citizen, "server-rejection-zh-CN")

    page.unroute(SUBMIT)
    next_button(page).click()  # unaltered this time
    page.get_by_role("heading", name="感谢您的时间").wait_for()
    assert page.get_by_text("本调查仅面向在本市居住满6个月的居民").is_visible()
    check_screen(citizen, "screened-end-zh-CN")
    rows = stored(survey_server)
    assert len(rows) == before + 1 and rows[-1]["status"] == "excluded"


def test_the_matrix_is_fieldsets_on_a_phone_and_a_grid_where_it_fits(
    browser: Any, survey_server: LiveServer
) -> None:
    for size, name in (({"width": 360, "height": 740}, "phone"), ({"width": 1280, "height": 800}, "desk")):
        context = browser.new_context(**{**PHONE, "viewport": size, "is_mobile": name == "phone"})
        try:
            watch = watch_page(context, survey_server.url, guard_routes=True)
            page = watch.page
            page.goto(watch.url(SURVEY))
            page.get_by_role("button", name="开始作答").click()
            page.locator("#in-q_resident_6m-0").check()
            page.locator("#in-q_offline_purchase-0").check()
            next_button(page).click()
            rows = page.locator("#q-supply_matrix fieldset.matrix-row")
            assert rows.count() == len(items("supply_matrix"))
            assert rows.first.locator("legend").inner_text() == "商品和服务的种类丰富程度"
            assert rows.first.locator("input[type=radio]").count() == 12  # 1–10, don't know, not applicable
            layout = page.evaluate(
                """() => {
                  const rows = [...document.querySelectorAll('#q-supply_matrix .matrix-row')];
                  const x = (row, value) => row.querySelector(`input[value="${value}"]`).getBoundingClientRect().x;
                  return {
                    display: getComputedStyle(rows[0]).display,
                    head: getComputedStyle(document.querySelector('#q-supply_matrix .matrix-head')).display,
                    sameColumn: rows.every((row) => Math.abs(x(row, '7') - x(rows[0], '7')) < 1),
                    oneLine: new Set(rows[0].querySelectorAll('.point')).size
                      === [...rows[0].querySelectorAll('.point')].filter(
                        (p) => Math.abs(p.getBoundingClientRect().top - rows[0].querySelector('.point').getBoundingClientRect().top) < 30).length,
                  };
                }"""
            )
            assert has_no_horizontal_scroll(page)
            if name == "phone":
                assert layout["display"] == "block" and layout["head"] == "none" and not layout["oneLine"]
            else:
                assert layout == {"display": "grid", "head": "grid", "sameColumn": True, "oneLine": True}
                # the width actually available decides, not the screen: a narrow column on this wide screen
                page.evaluate(
                    "document.querySelector('#q-supply_matrix .matrix-container').style.width = '22rem'"
                )
                narrowed = page.evaluate(
                    "getComputedStyle(document.querySelector('#q-supply_matrix .matrix-row')).display"
                )
                assert narrowed == "block"
                page.evaluate("document.querySelector('#q-supply_matrix .matrix-container').style.width = ''")
            rows.first.scroll_into_view_if_needed()
            check_accessible(page)
            screenshot(page, f"survey-matrix-{name}-zh-CN")
            watch.assert_clean()
        finally:
            context.close()


def test_the_first_load_is_small(browser: Any, survey_server: LiveServer) -> None:
    """Everything the first visit transfers (HTML, stylesheets, ES modules, icon), compressed, from the browser's
    own network events; measured without any cache."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        finished: dict[str, int] = {}
        urls: dict[str, str] = {}
        session.on(
            "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
        )
        session.on(
            "Network.loadingFinished",
            lambda e: finished.__setitem__(e["requestId"], int(e["encodedDataLength"])),
        )
        page.goto(survey_server.url + SURVEY + "?via=qr", wait_until="networkidle")
        page.get_by_role("button", name="开始作答").wait_for()
        total = sum(finished.values())
        loaded = sorted(urls[request].rsplit("/", 1)[-1].split("?")[0] for request in finished)
        for module in (
            "survey-page.js",
            "render.js",
            "logic.js",
            "expr.js",
            "drafts.js",
            "send.js",
            "survey.css",
        ):
            assert module in loaded, loaded
        print(f"first load of the survey: {total} bytes transferred in {len(finished)} requests: {loaded}")
        assert total <= FIRST_LOAD_BUDGET, f"{total} bytes > {FIRST_LOAD_BUDGET}: {loaded}"
    finally:
        context.close()


def test_the_city_list_the_end_of_a_campaign_and_the_poster(browser: Any, survey_server: LiveServer) -> None:
    phone = browser.new_context(**PHONE)
    try:
        watch = watch_page(phone, survey_server.url, guard_routes=True)
        page = watch.page
        page.goto(watch.url("/s/city-2026?via=qr"))  # a campaign link without its city: choose one
        link = page.get_by_role("link", name="无锡")
        assert link.get_attribute("href") == "/s/city-2026/wuxi?via=qr"
        check_screen(watch, "cities-zh-CN")
        page.goto(watch.url("/s/city-2025/wuxi"))
        assert page.get_by_text("本次调查已停止收集答卷").is_visible()
        assert page.locator("#survey-root").count() == 0
        check_screen(watch, "ended-zh-CN")
        watch.assert_clean()
    finally:
        phone.close()

    # the admin's poster, at desk size: one A4 page whose printed code reads back as the survey link
    desk = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", extra_http_headers=survey_server.admin
    )
    try:
        watch = watch_page(desk, survey_server.url, guard_routes=True)
        page = watch.page
        reply = page.goto(watch.url("/admin/qr/city-2026/poster?city=wuxi"))
        assert reply is not None and reply.status == 200
        assert page.locator("h1").inner_text() == CAMPAIGN_NAME
        check_accessible(page)
        shot = screenshot(page, "poster-zh-CN")
        assert decode_image(shot) == [f"{survey_server.url}/s/city-2026/wuxi?via=qr"]
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
        assert pages == 1, f"the poster prints on {pages} pages"
        assert boxes and all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in boxes)
        watch.assert_clean()
    finally:
        desk.close()


def decode_image(path: Path) -> list[str]:
    """The QR codes in an image, read by zxing-cpp."""
    import zxingcpp
    from PIL import Image

    return [result.text for result in zxingcpp.read_barcodes(Image.open(path).convert("L"))]


def test_a_staff_session_in_the_same_browser_stays_out_of_a_citizens_answer(
    citizen: Watch, survey_server: LiveServer
) -> None:
    """An admin signed in (session cookie) who answers the citizen survey answers as a citizen: the page sends no
    cookie, so the response is anonymous (no account, channel online), not a street interview."""
    page = citizen.page
    login = page.request.post(
        citizen.url("/api/v1/auth/login"), data={"username": "admin", "password": PASSWORD}
    )
    assert login.ok and any(c["name"] == "survey_session" for c in page.context.cookies())
    page.goto(citizen.url(SURVEY))
    page.get_by_role("button", name="开始作答").click()
    page.locator("#in-q_resident_6m-1").check()  # screened out: the shortest way to a stored response
    next_button(page).click()
    page.wait_for_function("Object.values(localStorage).some((v) => v.includes('\"done\"'))")
    response_id = json.loads(page.evaluate("Object.values(localStorage)[0]"))["done"]["id"]
    connection = sqlite3.connect(survey_server.settings.sqlite_path, timeout=30)
    try:
        channel, submitted_by = connection.execute(
            "SELECT channel, submitted_by FROM response WHERE uuid = ?", (response_id,)
        ).fetchone()
    finally:
        connection.close()
    assert (channel, submitted_by) == ("online", None)
