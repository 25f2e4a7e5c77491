"""The field app in Chromium at phone size (360 × 740), on the real server with the repository's questionnaires.

Offline means offline for the page *and* its service worker (Playwright's offline mode plus a route aborting the
worker's own requests); the position comes from the browser context. An interviewer completes three interviews
offline, reloads the app offline, comes back online: three responses are stored once. An inspector completes two
audits with photos offline (one a large EXIF-rotated JPEG, one at a new venue), and the replies to a photo upload
and to the batch are lost on the way back: each audit, photo and venue is stored once and the large photo upright
and at most 2,000 px. A reviewer returns an audit: the inspector sees the comment, corrects it offline and sends
it again; the reviewer approves it. A draft is locked to one tab; signing out with unsent items warns and keeps
them; an expired session asks to sign in again and loses nothing; a follow-up visit starts from the venue's last
approved audit; the service worker sends the outbox by Background Sync with no page open. Every screen is checked
with axe-core and saved as a screenshot; no request leaves 127.0.0.1 and the CSP is never violated.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_helpers import PHONE, Watch, check_accessible, has_no_horizontal_scroll, screenshot, watch_page
from field_helpers import (
    FILL_SECTION,
    QUESTIONNAIRES,
    TAIYUAN,
    WUXI,
    Network,
    bearer,
    loads,
    lose_first_reply,
    rotated_jpeg,
    rows,
    seed,
    sign_in,
    small_jpeg,
    unsent,
)
from service_helpers import LiveServer

from survey_platform.settings import Settings

APP = "/field/"
TIMEOUT = 30_000


@pytest.fixture(scope="module")
def field_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = Settings.from_env({}, data_dir=tmp_path_factory.mktemp("field") / "data")
    server = LiveServer(settings, env={"QUESTIONNAIRES_DIR": str(QUESTIONNAIRES)})
    server.start()
    try:
        server.seeded = seed(server)  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("photos")
    large, small = folder / "IMG_0001.jpg", folder / "IMG_0002.jpg"
    large.write_bytes(rotated_jpeg())
    small.write_bytes(small_jpeg())
    return {"large": large, "small": small}


class Phone:
    """One phone: a browser context with the position, its network, and a watched page."""

    def __init__(
        self, browser: Any, server: LiveServer, where: dict[str, float], accuracy: float = 12
    ) -> None:
        self.context = browser.new_context(
            **PHONE, permissions=["geolocation"], geolocation={**where, "accuracy": accuracy}
        )
        self.network = Network(self.context)
        self.watch: Watch = watch_page(self.context, server.url, guard_routes=False)
        self.page = self.watch.page
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.server = server

    def open(self, path: str = APP) -> None:
        self.page.goto(self.server.url + path)

    def close(self) -> None:
        try:
            self.watch.assert_clean()
            assert self.errors == [], f"uncaught errors in the app's scripts: {self.errors}"
        finally:
            self.context.close()


@pytest.fixture
def phones(browser: Any, field_server: LiveServer) -> Iterator[list[Phone]]:
    made: list[Phone] = []
    yield made
    for phone in made:
        phone.close()


def new_phone(
    phones: list[Phone], browser: Any, server: LiveServer, where: dict[str, float], **kw: Any
) -> Phone:
    phone = Phone(browser, server, where, **kw)
    phones.append(phone)
    return phone


def check_screen(phone: Phone, name: str) -> None:
    page = phone.page
    assert has_no_horizontal_scroll(page), f"{name}: the page scrolls sideways"
    check_accessible(page)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky status bar at the top of the full-page picture
    screenshot(page, f"field-{name}")


def ready_offline(page: Any) -> None:
    page.locator("#ready-offline").wait_for(timeout=TIMEOUT)


def items(page: Any) -> list[dict[str, Any]]:
    """The items on the phone (IndexedDB), as the app keeps them."""
    return page.evaluate("self.FieldCore.all('items')")


def interview(page: Any, phone: Phone | None = None, shots: str | None = None) -> str:
    """Start an interview from the home screen and complete it; returns its client UUID."""
    page.locator("button.start-interview").click()
    page.locator("#survey-next").wait_for(timeout=TIMEOUT)
    for _ in range(20):
        page.evaluate(FILL_SECTION)
        if phone is not None and shots is not None:
            heading = page.locator("#section-heading").inner_text()
            if "访问记录" in heading:
                page.locator(".gps-status.gps-ok").wait_for(timeout=TIMEOUT)
                check_screen(phone, f"{shots}-interview-record")
            elif "消费供给" in heading:
                check_screen(phone, f"{shots}-matrix")
        page.locator("#survey-next").click()
        done = page.locator("#next-item")
        try:
            done.wait_for(timeout=300)
            break
        except Exception:
            continue
    page.locator("#next-item").wait_for(timeout=TIMEOUT)
    match = re.search(r"#/done/([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def test_an_interviewer_works_offline_and_each_interview_is_stored_once(
    browser: Any, field_server: LiveServer, phones: list[Phone]
) -> None:
    phone = new_phone(phones, browser, field_server, WUXI, accuracy=15)
    page = phone.page
    phone.open()
    page.locator("form.signin").wait_for(timeout=TIMEOUT)
    check_screen(phone, "signin-zh-CN")
    sign_in(page, "lily")
    ready_offline(page)
    assert page.get_by_text("可以离线工作").is_visible()
    check_screen(phone, "home-interviewer")

    phone.network.go_offline()
    page.locator("#connection.is-offline").wait_for(timeout=TIMEOUT)
    made = []
    for n in range(3):
        page.goto(field_server.url + APP + "#/")
        made.append(interview(page, phone, "interview" if n == 0 else None))
        if n == 0:
            check_screen(phone, "interview-saved")
        assert unsent(page) == f"未发送 {n + 1} 条"
    before = len(rows(field_server, "SELECT id FROM response"))

    page.reload()  # offline: the service worker serves the app, IndexedDB keeps the outbox
    page.locator("#unsent-count").wait_for(timeout=TIMEOUT)
    assert unsent(page) == "未发送 3 条"
    page.goto(field_server.url + APP + "#/items")
    page.locator("#item-list").wait_for(timeout=TIMEOUT)
    assert page.locator("#item-list .state-queued").count() == 3
    check_screen(phone, "items-offline")
    assert len(rows(field_server, "SELECT id FROM response")) == before == 0

    phone.network.go_online()  # the `online` event sends the outbox
    page.wait_for_function(
        "() => document.querySelectorAll('#item-list .state-sent').length === 3", timeout=TIMEOUT
    )
    assert unsent(page) == "未发送 0 条"
    check_screen(phone, "items-sent")

    stored = rows(field_server, "SELECT * FROM response ORDER BY id")
    assert sorted(r["uuid"] for r in stored) == sorted(made)
    lily = field_server.seeded["accounts"]["lily"]  # type: ignore[attr-defined]
    for row in stored:
        assert (row["channel"], row["city_code"], row["submitted_by"], row["status"]) == (
            "intercept",
            "wuxi",
            lily,
            "valid",
        )
        answers = loads(row["answers"])
        location = answers["q_interview_location"]
        assert (location["lat"], location["lon"], location["accuracy"]) == (
            WUXI["latitude"],
            WUXI["longitude"],
            15,
        )
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", location["time"])
        assert set(loads(row["paradata"])["sections"]) >= {"screening", "supply", "interview"}
    receipts = {item["id"]: item["receipt"] for item in items(page)}
    assert all(receipts[i]["http"] == 201 for i in made)


def audit_venue(page: Any) -> None:
    """The first section of the QR-code checklist (the venue and its category are prefilled)."""
    assert page.locator("#q-q_venue_category input:checked").count() == 1
    page.locator("#in-q_visit_time").fill("2026-11-27T10:30")
    page.locator("#q-q_undercover input").first.check()
    page.locator("#q-q_payment_ways input").nth(1).check()


def yes(page: Any, question: str) -> None:
    page.locator(f"#q-{question} input").first.check()


def no(page: Any, question: str) -> None:
    page.locator(f"#q-{question} input").nth(1).check()


def next_screen(page: Any) -> None:
    heading = page.locator("#section-heading").inner_text()
    page.locator("#survey-next").click()
    page.wait_for_function(
        "(before) => { const h = document.querySelector('#section-heading'); return !h || h.textContent !== before; }",
        arg=heading,
        timeout=TIMEOUT,
    )


def checklist(
    page: Any,
    *,
    counter_refused: bool,
    photo: Any = None,
    phone: Phone | None = None,
    shots: str | None = None,
) -> None:
    """The rest of the checklist: the counter check fails (a critical check: a photo is required) or passes."""
    yes(page, "chk_menu_available")
    if counter_refused:
        no(page, "chk_counter_available")
        page.locator("#q-ev_counter_available input[type=file]").set_input_files(photo)
        page.locator("#q-ev_counter_available .photo-thumb").wait_for(timeout=TIMEOUT)
    else:
        yes(page, "chk_counter_available")
    for question in ("chk_forced_follow", "chk_forced_miniprogram", "chk_forced_membership"):
        no(page, question)
    if page.locator("#q-chk_plate_binding").is_visible():  # asked at car parks only (skip logic)
        no(page, "chk_plate_binding")
    yes(page, "chk_elderly_friendly")
    page.locator("#in-q_steps_to_pay").fill("4")
    if phone is not None and shots:
        check_screen(phone, f"{shots}-payment")
    next_screen(page)
    for question in (
        "chk_phone_demanded",
        "chk_location_demanded",
        "chk_identity_demanded",
        "chk_default_consent",
    ):
        no(page, question)
    yes(page, "chk_privacy_notice")
    next_screen(page)
    no(page, "chk_popup_ads")
    for question in ("chk_amount_shown", "chk_pure_code", "chk_complaint_channel"):
        yes(page, question)
    next_screen(page)
    if phone is not None and shots:
        check_screen(phone, f"{shots}-closing")
    page.locator("#survey-next").click()
    page.locator("#next-item").wait_for(timeout=TIMEOUT)


def start_audit(page: Any, venue_name: str) -> None:
    page.locator("a.pick-venue").click()
    page.locator("#venue-list").wait_for(timeout=TIMEOUT)
    page.get_by_role("button", name=f"检查“{venue_name}”").click()
    page.locator("#survey-next").wait_for(timeout=TIMEOUT)


def test_an_inspector_audits_offline_and_lost_replies_store_nothing_twice(
    browser: Any, field_server: LiveServer, phones: list[Phone], photos: dict[str, Any]
) -> None:
    phone = new_phone(phones, browser, field_server, TAIYUAN, accuracy=150)
    page = phone.page
    phone.open()
    sign_in(page, "wang")
    ready_offline(page)
    check_screen(phone, "home-inspector")
    phone.network.go_offline()

    # audit 1: a listed venue, found nearby; the position is too coarse at first, then good enough
    page.locator("a.pick-venue").click()
    page.locator("#venue-list").wait_for(timeout=TIMEOUT)
    page.locator("#venue-nearby").click()
    page.locator(".venue-distance").first.wait_for(timeout=TIMEOUT)
    assert page.locator(".venue-name").first.inner_text() == "某茶饮店"  # the nearest
    check_screen(phone, "venues-nearby")
    page.get_by_role("button", name="检查“海底捞（柳巷店）”").click()
    page.locator(".gps-status.gps-warning").wait_for(timeout=TIMEOUT)
    assert "差于要求的 100 米" in page.locator(".gps-status").inner_text()
    check_screen(phone, "audit-gps-warning")
    phone.context.set_geolocation({**TAIYUAN, "accuracy": 8})
    page.locator(".gps-status.gps-ok").wait_for(timeout=TIMEOUT)
    audit_venue(page)
    check_screen(phone, "audit-venue")
    next_screen(page)
    checklist(page, counter_refused=True, photo=photos["large"], phone=phone, shots="audit")
    check_screen(phone, "audit-saved")

    # audit 2: a venue that is not on the list, added offline
    page.goto(field_server.url + APP + "#/campaign/qr-2026/add-venue")
    page.locator("#nv-name").wait_for(timeout=TIMEOUT)
    page.locator("#nv-position").get_by_text("将记录当前位置").wait_for(timeout=TIMEOUT)
    page.locator("#nv-name").fill("新开的奶茶店 <b>")
    page.locator("#nv-category").select_option("tea_fast_food")
    page.locator("#nv-address").fill("柳巷 12 号")
    check_screen(phone, "new-venue")
    page.get_by_role("button", name="保存并开始检查").click()
    page.locator("#survey-next").wait_for(timeout=TIMEOUT)
    assert page.locator(".venue-name").inner_text() == "新开的奶茶店 <b>"  # shown as text, never as markup
    audit_venue(page)
    next_screen(page)
    checklist(page, counter_refused=True, photo=photos["small"])
    assert unsent(page) == "未发送 2 条"
    assert rows(field_server, "SELECT id FROM audit") == []

    # online again; the replies to the first photo upload and to the first batch are lost on the way back
    lose_photo = lose_first_reply("/api/v1/photos")
    lose_batch = lose_first_reply("/api/v1/batch")
    phone.network.intercept = lambda route: lose_photo(route) or lose_batch(route)
    phone.network.go_online()
    page.wait_for_function("() => window.navigator.onLine", timeout=TIMEOUT)
    for _ in range(20):  # the app retries by itself on a timer; "send now" makes it at once
        if unsent(page) == "未发送 0 条":
            break
        page.locator("#send-now").click()
        page.wait_for_timeout(700)
    assert unsent(page) == "未发送 0 条"
    assert lose_photo.lost and lose_batch.lost  # type: ignore[attr-defined]

    audits = rows(field_server, "SELECT * FROM audit ORDER BY id")
    mine = [item for item in items(page) if item["kind"] == "audit"]
    assert sorted(a["uuid"] for a in audits) == sorted(item["id"] for item in mine)
    assert len(audits) == 2
    venue = rows(field_server, "SELECT * FROM venue WHERE client_id IS NOT NULL")
    assert (
        len(venue) == 1
        and venue[0]["name"] == "新开的奶茶店 <b>"
        and venue[0]["latitude"] == TAIYUAN["latitude"]
    )
    campaign = rows(field_server, "SELECT venue_ids FROM campaign WHERE code = 'qr-2026'")[0]
    assert venue[0]["id"] in loads(campaign["venue_ids"])
    assert {a["venue"] for a in audits} == {field_server.seeded["venues"][0], venue[0]["id"]}  # type: ignore[attr-defined]
    for audit in audits:
        answers = loads(audit["answers"])
        assert answers["q_venue"] == str(audit["venue"])
        assert (audit["latitude"], audit["longitude"], audit["accuracy_m"]) == (
            TAIYUAN["latitude"],
            TAIYUAN["longitude"],
            8,
        )
        assert answers["q_location"]["accuracy"] == 8 and "time" in answers["q_location"]

    stored_photos = rows(field_server, "SELECT * FROM photo")
    assert len(stored_photos) == 2
    referenced = {sha for audit in audits for sha in loads(audit["photos"])}
    assert referenced == {p["sha256"] for p in stored_photos}
    from PIL import Image

    sizes = {}
    for photo in stored_photos:
        data = (
            field_server.settings.photos_dir / photo["sha256"][:2] / photo["sha256"][2:4] / photo["sha256"]
        ).read_bytes()
        image = Image.open(io.BytesIO(data))
        sizes[image.size] = (photo, image)
    large_photo, large = sizes[(1500, 2000)]  # 3000 × 4000 upright, reduced to 2,000 px on the long side
    assert large.format == "JPEG" and large.getexif().get(0x0112) in (
        None,
        1,
    )  # upright pixels, no rotation left
    top, bottom = large.convert("RGB").getpixel((750, 100)), large.convert("RGB").getpixel((750, 1900))
    assert top[0] > 150 and top[2] < 90, top  # red at the top: upright
    assert bottom[2] > 150 and bottom[0] < 90, bottom  # blue at the bottom
    assert large_photo["captured_at"].startswith("2026-05-01 01:30:05")  # EXIF 09:30:05 +08:00
    assert large_photo["size"] < photos["large"].stat().st_size / 4
    assert (800, 600) in sizes  # small enough already: not enlarged

    page.goto(field_server.url + APP + "#/items")
    page.locator("#item-list .state-sent").first.wait_for(timeout=TIMEOUT)
    assert page.locator("#item-list .state-sent").count() == 2
    check_screen(phone, "items-inspector-sent")


def test_a_returned_audit_is_corrected_offline_and_approved(
    browser: Any, field_server: LiveServer, phones: list[Phone]
) -> None:
    phone = new_phone(phones, browser, field_server, TAIYUAN, accuracy=9)
    page = phone.page
    phone.open()
    sign_in(page, "zhao")
    ready_offline(page)
    start_audit(page, "长途汽车站停车场")
    page.locator(".gps-status.gps-ok").wait_for(timeout=TIMEOUT)
    audit_venue(page)
    next_screen(page)
    checklist(page, counter_refused=False)
    page.wait_for_function(
        "() => document.querySelector('#unsent-count strong').textContent === '未发送 0 条'", timeout=TIMEOUT
    )
    audit_id = re.search(r"#/done/([0-9a-f-]{36})", page.url).group(1)  # type: ignore[union-attr]

    with httpx.Client(base_url=field_server.url, timeout=30) as client:
        reviewer = bearer(client, "rev")
        comment = "付款步骤应为 6 步，请核实后修改 / the payment took 6 steps: please check and correct"
        reply = client.post(
            f"/api/v1/audits/{audit_id}/review",
            json={"action": "return", "comment": comment},
            headers=reviewer,
        )
        assert reply.status_code == 200, reply.text

    page.goto(field_server.url + APP + "#/")
    page.locator("#send-now").click()  # also fetches the reviewers' decisions
    page.locator(".notice.attention").wait_for(timeout=TIMEOUT)
    page.goto(field_server.url + APP + f"#/item/{audit_id}")
    page.locator("#review-comment").wait_for(timeout=TIMEOUT)
    assert comment in page.locator("#review-comment").inner_text()
    check_screen(phone, "item-returned")

    phone.network.go_offline()
    page.locator("#correct-item").click()
    page.locator("#survey-next").wait_for(timeout=TIMEOUT)
    assert comment in page.locator(".review-comment").inner_text()
    check_screen(phone, "correcting")
    next_screen(page)
    assert (
        page.locator("#in-q_steps_to_pay").input_value() == "4"
    )  # the answers sent before, back for correction
    page.locator("#in-q_steps_to_pay").fill("6")
    for _ in range(3):
        next_screen(page)
    page.locator("#survey-next").click()
    page.locator("#next-item").wait_for(timeout=TIMEOUT)
    assert unsent(page) == "未发送 1 条"

    phone.network.go_online()
    page.wait_for_function(
        "() => document.querySelector('#unsent-count strong').textContent === '未发送 0 条'", timeout=TIMEOUT
    )
    (audit,) = rows(field_server, "SELECT * FROM audit WHERE uuid = ?", audit_id)
    assert audit["review_state"] == "submitted" and loads(audit["answers"])["q_steps_to_pay"] == 6
    history = [
        r["action"]
        for r in rows(
            field_server, "SELECT action FROM audit_review WHERE audit = ? ORDER BY id", audit["id"]
        )
    ]
    assert history == ["submit", "return", "resubmit"]

    with httpx.Client(base_url=field_server.url, timeout=30) as client:
        reviewer = bearer(client, "rev")
        assert (
            client.post(
                f"/api/v1/audits/{audit_id}/review", json={"action": "approve"}, headers=reviewer
            ).status_code
            == 200
        )
    page.locator("#send-now").click()
    page.goto(field_server.url + APP + f"#/item/{audit_id}")
    page.wait_for_function("() => !!document.querySelector('.state-accepted')", timeout=TIMEOUT)
    check_screen(phone, "item-accepted")


def test_a_draft_is_open_in_one_tab_only(browser: Any, field_server: LiveServer, phones: list[Phone]) -> None:
    phone = new_phone(phones, browser, field_server, WUXI)
    page = phone.page
    phone.open()
    sign_in(page, "lily")
    ready_offline(page)
    page.locator("button.start-interview").click()
    page.locator("#survey-next").wait_for(timeout=TIMEOUT)
    page.evaluate(FILL_SECTION)
    next_screen(page)
    draft = re.search(r"#/item/([0-9a-f-]{36})", page.url).group(1)  # type: ignore[union-attr]

    second = phone.context.new_page()
    second.goto(field_server.url + APP + f"#/item/{draft}")
    second.get_by_text("此草稿已在另一个标签页中打开").wait_for(timeout=TIMEOUT)
    assert second.locator("#survey-root").count() == 0
    check_accessible(second)
    screenshot(second, "field-draft-locked")
    page.locator("a.editor-back").click()  # the first tab lets go of it
    page.locator("#all-items").wait_for(timeout=TIMEOUT)
    second.reload()
    second.locator("#survey-next").wait_for(timeout=TIMEOUT)
    assert second.locator(".notice").first.inner_text().startswith("已恢复")
    second.close()


def test_signing_out_warns_and_an_expired_session_loses_nothing(
    browser: Any, field_server: LiveServer, phones: list[Phone]
) -> None:
    phone = new_phone(phones, browser, field_server, WUXI)
    page = phone.page
    phone.open()
    sign_in(page, "lily")
    ready_offline(page)
    phone.network.go_offline()
    done = interview(page)
    page.goto(field_server.url + APP + "#/")
    page.locator("#sign-out").wait_for(timeout=TIMEOUT)

    messages: list[str] = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.locator("#sign-out").click()
    page.wait_for_timeout(300)
    assert messages and "1 条记录未发送" in messages[0]
    assert page.locator("#sign-out").is_visible()  # dismissed: still signed in
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#sign-out").click()
    page.locator("form.signin").wait_for(timeout=TIMEOUT)
    assert any(item["id"] == done and item["state"] == "queued" for item in items(page))  # kept on the phone

    phone.network.go_online()
    sign_in(page, "lily")
    page.wait_for_function(
        "() => document.querySelector('#unsent-count strong').textContent === '未发送 0 条'", timeout=TIMEOUT
    )
    assert len(rows(field_server, "SELECT id FROM response WHERE uuid = ?", done)) == 1

    # the session ends on the server while the phone is offline (an admin deactivates and reactivates the account)
    phone.network.go_offline()
    second = interview(page)
    with httpx.Client(base_url=field_server.url, timeout=30) as client:
        admin = bearer(client, "admin")
        lily = field_server.seeded["accounts"]["lily"]  # type: ignore[attr-defined]
        for active in (False, True):
            assert (
                client.patch(f"/api/v1/accounts/{lily}", json={"active": active}, headers=admin).status_code
                == 200
            )
    phone.network.go_online()
    page.locator(".field-status .expired").wait_for(timeout=TIMEOUT)
    check_screen(phone, "session-expired")
    assert unsent(page) == "未发送 1 条"
    page.locator(".field-status .expired a").click()
    page.locator("form.signin").wait_for(timeout=TIMEOUT)
    assert page.locator("#username").input_value() == "lily"
    check_screen(phone, "signin-again")
    sign_in(page, "lily")
    page.wait_for_function(
        "() => document.querySelector('#unsent-count strong').textContent === '未发送 0 条'", timeout=TIMEOUT
    )
    assert len(rows(field_server, "SELECT id FROM response WHERE uuid = ?", second)) == 1


def test_a_follow_up_visit_starts_from_the_venues_last_approved_audit(
    browser: Any, field_server: LiveServer, phones: list[Phone]
) -> None:
    venue = field_server.seeded["venues"][2]  # type: ignore[attr-defined]
    with httpx.Client(base_url=field_server.url, timeout=30) as client:
        inspector, reviewer = bearer(client, "zhao"), bearer(client, "rev")
        answers = {
            "q_venue": str(venue), "q_venue_category": "tea_fast_food", "q_location": {"lat": 37.871, "lon": 112.549, "accuracy": 6},
            "q_visit_time": "2026-06-01T10:00:00+08:00", "q_undercover": True, "q_payment_ways": ["qr_code"],
            "chk_menu_available": True, "chk_counter_available": True, "chk_forced_follow": False,
            "chk_forced_miniprogram": False, "chk_forced_membership": False, "chk_elderly_friendly": True,
            "q_steps_to_pay": 5, "chk_phone_demanded": False, "chk_location_demanded": True, "chk_identity_demanded": False,
            "chk_privacy_notice": False, "chk_default_consent": False, "chk_popup_ads": False, "chk_amount_shown": True,
            "chk_pure_code": True, "chk_complaint_channel": True,
        }  # fmt: skip
        earlier = {"id": str(uuid.uuid4()), "venue": venue, "answers": answers, "campaign": "qr-2026"}
        sent = client.post("/api/v1/batch", json={"audits": [earlier]}, headers=inspector).json()
        assert sent["audits"][0]["status"] == 201, sent
        approved = client.post(
            f"/api/v1/audits/{earlier['id']}/review", json={"action": "approve"}, headers=reviewer
        )
        assert approved.status_code == 200

    phone = new_phone(phones, browser, field_server, TAIYUAN, accuracy=9)
    page = phone.page
    phone.open()
    sign_in(page, "wang")
    ready_offline(page)
    phone.network.go_offline()  # the follow-up was fetched with the venue list
    page.locator("a.pick-venue").click()
    page.get_by_role("button", name="回头看“某茶饮店”").click()
    page.locator("details.followup").wait_for(timeout=TIMEOUT)
    panel = page.locator("details.followup").inner_text()
    assert "是否要求授权位置信息" in panel and "收集个人信息前" in panel and "较重" in panel
    assert page.locator("#q-q_venue .venue-name").inner_text() == "某茶饮店"
    check_screen(phone, "follow-up")


def test_the_service_worker_sends_the_outbox_with_no_page_open(
    browser: Any, field_server: LiveServer, phones: list[Phone]
) -> None:
    phone = new_phone(phones, browser, field_server, WUXI)
    page = phone.page
    phone.open()
    sign_in(page, "lily")
    ready_offline(page)
    phone.network.go_offline()
    made = interview(page)
    page.close()  # no page of the app is open any more
    phone.network.go_online()
    elsewhere = phone.context.new_page()
    elsewhere.goto(field_server.url + "/privacy")  # outside the app's scope: the app does not run here
    page = elsewhere
    session = phone.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    session.on(
        "ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"])
    )
    session.send("ServiceWorker.enable")
    page.wait_for_timeout(300)
    (registration,) = [r for r in registrations if r["scopeURL"].endswith(APP)]
    session.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": field_server.url,
            "registrationId": registration["registrationId"],
            "tag": "field-outbox",
            "lastChance": False,
        },
    )
    for _ in range(100):
        if rows(field_server, "SELECT id FROM response WHERE uuid = ?", made):
            break
        page.wait_for_timeout(100)
    assert len(rows(field_server, "SELECT id FROM response WHERE uuid = ?", made)) == 1
    assert any(
        from_worker and url.endswith("/api/v1/batch") for _, url, from_worker in phone.network.requests
    )


def test_a_tab_killed_while_the_camera_is_open_keeps_the_draft_and_its_photos(
    browser: Any, field_server: LiveServer, phones: list[Phone], photos: dict[str, Any]
) -> None:
    phone = new_phone(phones, browser, field_server, TAIYUAN, accuracy=9)
    page = phone.page
    phone.open()
    sign_in(page, "zhao")
    ready_offline(page)
    phone.network.go_offline()
    start_audit(page, "某茶饮店")
    page.locator(".gps-status.gps-ok").wait_for(timeout=TIMEOUT)
    audit_venue(page)
    next_screen(page)
    yes(page, "chk_menu_available")
    no(page, "chk_counter_available")
    evidence = page.locator("#q-ev_counter_available input[type=file]")
    evidence.set_input_files(photos["small"])
    page.locator("#q-ev_counter_available .photo-thumb").wait_for(timeout=TIMEOUT)
    no(page, "chk_forced_follow")
    draft = re.search(r"#/item/([0-9a-f-]{36})", page.url).group(1)  # type: ignore[union-attr]
    with page.expect_file_chooser():  # the camera app opens...
        page.locator("#q-ev_counter_available label.photo-take").click()
    page.close(run_before_unload=False)  # ...and the browser kills the tab behind it

    again = phone.context.new_page()
    again.goto(field_server.url + APP + f"#/item/{draft}")
    again.locator("#survey-next").wait_for(timeout=TIMEOUT)
    assert again.locator(".notice").first.inner_text().startswith("已恢复")
    assert again.locator("#section-heading").inner_text() == "点单与付款"
    assert again.locator("#q-ev_counter_available .photo-thumb").count() == 1
    assert again.locator("#q-chk_forced_follow input:checked").get_attribute("value") == "false"
    (item,) = [i for i in again.evaluate("self.FieldCore.all('items')") if i["id"] == draft]
    assert item["state"] == "draft" and len(item["draft"]["answers"]["ev_counter_available"]) == 1
    again.close()


def test_the_app_in_english(browser: Any, field_server: LiveServer, phones: list[Phone]) -> None:
    phone = new_phone(phones, browser, field_server, TAIYUAN)
    page = phone.page
    phone.open()
    page.locator("form.signin").wait_for(timeout=TIMEOUT)
    page.get_by_role("link", name="English").click()
    page.locator("html[lang=en] form.signin").wait_for(timeout=TIMEOUT)
    check_screen(phone, "signin-en")
    sign_in(page, "wang")
    ready_offline(page)
    assert page.get_by_text("Ready to work offline").is_visible()
    check_screen(phone, "home-en")
    page.get_by_role("link", name="Pick a venue and start an audit").click()
    page.get_by_role("button", name="Audit “某茶饮店”").click()  # venue names stay as registered
    page.locator(".gps-status.gps-ok").wait_for(timeout=TIMEOUT)
    assert page.locator(".gps-status").inner_text().startswith("Located: accurate to ±12 m")
    audit_venue(page)
    next_screen(page)
    assert page.locator("#q-chk_counter_available .severity").inner_text() == "critical"
    assert "a photo is required if it fails" in page.locator("#q-chk_counter_available legend").inner_text()
    check_screen(phone, "audit-payment-en")
