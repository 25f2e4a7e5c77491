"""The home page and the page foundation in Chromium at phone size, in both languages."""

from __future__ import annotations

import re
from typing import Any

from browser_helpers import Watch, check_accessible, has_no_horizontal_scroll, screenshot, watch_page
from service_helpers import LiveServer

from survey_platform.pages.security import CONTENT_SECURITY_POLICY


def test_home_in_chinese_then_english_remembered_across_a_reload(watched: Watch) -> None:
    page = watched.page
    response = page.goto(watched.url("/"))
    assert response is not None and response.status == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "消费者满意度测评与体察平台"
    cards = page.locator(".card-title")
    assert cards.all_inner_texts() == [
        "2025 年城市消费者满意度测评",
        "2026 年城市消费者满意度测评",
        '扫码消费体察 <script>window.__xss=1</script> & "纯净码"',
    ]
    assert page.evaluate("window.__xss") is None  # the campaign name is text, not a script
    assert page.get_by_text("未公开的草稿活动").count() == 0
    assert has_no_horizontal_scroll(page)
    check_accessible(page)
    screenshot(page, "home-zh-CN")

    page.get_by_role("link", name="English").click()
    page.wait_for_url(watched.url("/"))
    assert page.locator("html").get_attribute("lang") == "en"
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Consumer satisfaction and inspection platform"
    assert page.get_by_role("heading", name="Published results").count() == 1
    assert has_no_horizontal_scroll(page)
    check_accessible(page)
    screenshot(page, "home-en")

    page.get_by_role("link", name="中文").click()
    page.wait_for_url(watched.url("/"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    watched.assert_clean()


def test_skip_link_is_the_first_stop_and_focus_is_visible(watched: Watch) -> None:
    page = watched.page
    page.goto(watched.url("/"))
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return [e.className, s.outlineStyle, s.outlineWidth, e.getBoundingClientRect().top]; })()"
    )
    assert focused[0] == "skip-link" and focused[1] == "solid" and focused[2] == "3px" and focused[3] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_privacy_and_error_pages_at_phone_size(watched: Watch, phone: Any) -> None:
    page = watched.page
    page.goto(watched.url("/privacy"))
    assert page.get_by_text("lang：记住您选择的界面语言").count() == 1
    check_accessible(page)
    screenshot(page, "privacy-zh-CN")
    phone.add_cookies([{"name": "lang", "value": "en", "url": watched.url("/")}])
    response = page.goto(watched.url("/no/such/page"))
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    check_accessible(page)
    screenshot(page, "error-404-en")


def test_the_csp_blocks_injected_inline_script_and_the_watch_sees_it(
    phone: Any, live_server: LiveServer
) -> None:
    watch = watch_page(phone, live_server.url, guard_routes=True)
    watch.page.goto(watch.url("/"))
    watch.page.evaluate(
        "document.body.insertAdjacentHTML('beforeend',"
        ' \'<img alt="" src="/static/img/icon.svg" onload="window.__ran=1">'
        '<div style="color:red">x</div>\')'
    )
    # the image loads (its blocked onload handler reports) and the blocked style attribute reports
    watch.page.wait_for_function(
        "() => window.__cspViolations.length >= 2 && document.querySelector('img[alt=\"\"]').complete"
    )
    assert watch.page.evaluate("window.__ran") is None
    messages = watch.csp_messages()
    assert any("script-src" in m for m in messages), messages
    assert any("style-src" in m for m in messages), messages


def test_hashed_static_files_come_from_the_cache_on_the_next_page(
    phone: Any, live_server: LiveServer
) -> None:
    watch = watch_page(phone, live_server.url, guard_routes=False)  # routing would switch the HTTP cache off
    page = watch.page
    session = phone.new_cdp_session(page)
    session.send("Network.enable")
    events: list[tuple[str, Any]] = []
    for name in ("Network.requestWillBeSent", "Network.requestServedFromCache", "Network.responseReceived"):
        session.on(name, lambda params, name=name: events.append((name, params)))
    first = page.goto(watch.url("/"))
    assert first is not None
    stylesheet = page.locator('link[rel="stylesheet"]').get_attribute("href")
    assert stylesheet is not None and re.fullmatch(r"/static/[0-9a-f]{12}/css/site\.css", stylesheet)
    css = page.request.get(watch.url(stylesheet))
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"

    events.clear()
    page.goto(watch.url("/privacy"))
    ids = {
        p["requestId"]
        for n, p in events
        if n == "Network.requestWillBeSent" and p["request"]["url"].endswith(stylesheet)
    }
    assert ids, "the second page asks for the stylesheet"
    cached = {p["requestId"] for n, p in events if n == "Network.requestServedFromCache"}
    from_disk = {
        p["requestId"]
        for n, p in events
        if n == "Network.responseReceived"
        and (p["response"].get("fromDiskCache") or p["response"].get("fromMemoryCache"))
    }
    assert ids <= cached | from_disk, "the hashed stylesheet was fetched again instead of read from the cache"
    watch.assert_clean()


def test_es_modules_load_from_hashed_urls_under_the_policy(watched: Watch) -> None:
    page = watched.page
    page.goto(watched.url("/"))
    stylesheet = page.locator('link[rel="stylesheet"]').get_attribute("href")
    module = stylesheet.replace("css/site.css", "js/expr.js")
    version = page.evaluate("async (url) => (await import(url)).AST_VERSION", module)
    assert version == 1


def test_the_home_page_prints_on_a4(watched: Watch) -> None:
    page = watched.page
    page.goto(watched.url("/"))
    pdf = page.pdf(prefer_css_page_size=True, print_background=False)
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert boxes and all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in boxes), boxes
