"""The citizen survey page and the QR codes over HTTP: what the page holds, which links exist, who may print codes,
what the codes say (read back with an independent decoder), and the ``survey-platform qr`` command."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image
from service_helpers import headers_for, insert_questionnaire_version, open_campaign

from survey_platform.app import create_app
from survey_platform.campaigns.links import channel_of, survey_path, survey_url
from survey_platform.cli import main
from survey_platform.pages.security import CONTENT_SECURITY_POLICY
from survey_platform.pages.survey import asked_count, minutes_needed, ui_strings
from survey_platform.questionnaire import load_questionnaire
from survey_platform.settings import Settings

CITY_SURVEY = Path(__file__).resolve().parents[2] / "questionnaires" / "city_satisfaction.yaml"
HOSTILE = '</script><script>window.__x=1</script> & "测评"'


def decode_png(data: bytes) -> list[str]:
    """The texts of the QR codes in a PNG, read by zxing-cpp (not by segno, which drew them)."""
    image = Image.open(io.BytesIO(data)).convert("L")
    return [result.text for result in zxingcpp.read_barcodes(image)]


def data_block(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="survey-data">(.*?)</script>', page, re.S)
    assert match is not None, "the page has its data block"
    return json.loads(match.group(1))


async def _admin_and_campaign(client: AsyncTestClient[Litestar], name: str = "测试") -> dict[str, str]:
    await open_campaign(client)
    admin = await headers_for(client, "admin")
    if name != "测试":
        # a draft with the same questionnaire and a hostile name, then opened
        versions = (await client.get("/api/v1/questionnaires", params={"questionnaire": "mini_city"})).json()
        body = {
            "code": "hostile",
            "name": name,
            "questionnaire_version": versions[0]["id"],
            "cities": ["wuxi"],
        }
        assert (await client.post("/api/v1/campaigns", json=body, headers=admin)).status_code == 201
        assert (await client.post("/api/v1/campaigns/hostile/open", headers=admin)).status_code == 200
    return admin


async def test_the_survey_page_carries_its_questionnaire_and_sets_no_cookie(
    client: AsyncTestClient[Litestar],
) -> None:
    await _admin_and_campaign(client, HOSTILE)
    page = await client.get("/s/hostile/wuxi", params={"via": "qr"})
    assert page.status_code == 200, page.text
    assert "set-cookie" not in page.headers and page.cookies == {}
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-cache"
    text = page.text
    assert text.count("</script>") == text.count("<script")  # the name cannot close the data block
    assert "window.__x=1</script>" not in text and "&lt;/script&gt;" in text
    data = data_block(text)
    assert data["questionnaire"]["id"] == "mini_city" and data["lang"] == "zh-CN"
    assert data["fields"]["city"] == "wuxi" and data["fields"]["channel"] == "qr"
    assert data["submit_url"] == "/api/v1/campaigns/hostile/responses"
    assert data["draft_key"].startswith("survey:hostile:wuxi:")
    assert data["strings"]["survey.ui.next"] == "下一步"
    assert "城市：无锡" in text and "我们收集什么、为什么" in text
    assert re.search(r'<script type="module" src="/static/[0-9a-f]{12}/js/survey-page\.js"></script>', text)

    plain = data_block((await client.get("/s/hostile/wuxi")).text)
    assert plain["fields"]["channel"] == "online"
    other = data_block((await client.get("/s/hostile/wuxi", params={"via": "wechat"})).text)
    assert other["fields"]["channel"] == "online"
    english = await client.get("/s/hostile/wuxi", headers={"cookie": "lang=en"})
    assert data_block(english.text)["strings"]["survey.ui.next"] == "Next"
    assert "What we collect and why" in english.text and '<html lang="en">' in english.text


async def test_links_that_lead_nowhere_are_404_pages_and_ended_campaigns_say_so(
    client: AsyncTestClient[Litestar],
) -> None:
    admin = await _admin_and_campaign(client)
    version = await insert_questionnaire_version(client, "inspection-x", kind="inspection")
    await client.post(
        "/api/v1/campaigns",
        json={"code": "insp", "name": "体察", "questionnaire_version": version},
        headers=admin,
    )
    await client.post("/api/v1/campaigns/insp/open", headers=admin)
    mini = (await client.get("/api/v1/questionnaires", params={"questionnaire": "mini_city"})).json()[0]["id"]
    draft = {"code": "draft", "name": "草稿", "questionnaire_version": mini, "cities": ["wuxi"]}
    assert (await client.post("/api/v1/campaigns", json=draft, headers=admin)).status_code == 201
    nowhere = ["/s/nope", "/s/draft/wuxi", "/s/insp", "/s/mini-2026/shanghai", "/s/Bad!Code/wuxi"]
    for path in nowhere:
        reply = await client.get(path)
        assert reply.status_code == 404, path
        assert reply.headers["content-type"].startswith("text/html") and "找不到页面" in reply.text

    chooser = await client.get("/s/mini-2026", params={"via": "qr"})
    assert chooser.status_code == 200
    assert '<a href="/s/mini-2026/wuxi?via=qr">无锡</a>' in chooser.text

    assert (await client.post("/api/v1/campaigns/mini-2026/close", headers=admin)).status_code == 200
    ended = await client.get("/s/mini-2026/wuxi")
    assert ended.status_code == 200 and "本次调查已停止收集答卷" in ended.text
    assert "survey-data" not in ended.text


async def test_only_admins_get_the_codes_and_the_codes_say_the_link(
    client: AsyncTestClient[Litestar],
) -> None:
    admin = await _admin_and_campaign(client)
    reviewer = await headers_for(client, "reviewer")
    for path in ("/admin/qr/mini-2026.svg", "/admin/qr/mini-2026.png", "/admin/qr/mini-2026/poster"):
        anonymous = await client.get(path, follow_redirects=False)  # a staff page: off to sign in, then back
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
        assert (await client.get(path, headers=reviewer)).status_code == 403
        assert (await client.get(path, headers=admin)).status_code == 200

    png = await client.get("/admin/qr/mini-2026.png", params={"city": "wuxi"}, headers=admin)
    assert png.headers["content-type"] == "image/png" and png.headers["cache-control"] == "private, no-cache"
    assert decode_png(png.content) == ["http://testserver.local/s/mini-2026/wuxi?via=qr"]
    assert decode_png((await client.get("/admin/qr/mini-2026.png", headers=admin)).content) == [
        "http://testserver.local/s/mini-2026?via=qr"
    ]
    svg = await client.get("/admin/qr/mini-2026.svg", params={"city": "wuxi"}, headers=admin)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<?xml") and "<title>测试</title>" in svg.text and "<script" not in svg.text

    poster = await client.get("/admin/qr/mini-2026/poster", params={"city": "wuxi"}, headers=admin)
    assert poster.status_code == 200 and '<html lang="zh-CN">' in poster.text
    assert "http://testserver.local/s/mini-2026/wuxi</span>" in poster.text  # the link to type: no ?via=qr
    assert (
        poster.text.count("<svg") == 1 and "无锡" in poster.text and "扫码参与消费者满意度调查" in poster.text
    )
    assert "No tracking cookies or third-party scripts" in poster.text

    for path, params in (
        ("/admin/qr/mini-2026.gif", {}),
        ("/admin/qr/.png", {}),
        ("/admin/qr/nope.png", {}),
        ("/admin/qr/mini-2026.png", {"city": "shanghai"}),
        ("/admin/qr/mini-2026/poster", {"city": "shanghai"}),
    ):
        assert (await client.get(path, params=params, headers=admin)).status_code == 404, (path, params)


async def test_a_configured_public_address_goes_into_the_codes(settings: Settings) -> None:
    configured = Settings.from_env(
        {}, **{**_fields(settings), "public_url": "https://survey.example.org/cca/"}
    )
    async with AsyncTestClient(app=create_app(configured)) as client:
        admin = await _admin_and_campaign(client)
        png = await client.get("/admin/qr/mini-2026.png", params={"city": "wuxi"}, headers=admin)
        assert decode_png(png.content) == ["https://survey.example.org/cca/s/mini-2026/wuxi?via=qr"]


def _fields(settings: Settings) -> dict[str, Any]:
    import dataclasses

    return {field.name: getattr(settings, field.name) for field in dataclasses.fields(settings)}


def test_links_and_channels() -> None:
    assert survey_path("2026-city", "wuxi") == "/s/2026-city/wuxi" and survey_path("c") == "/s/c"
    assert survey_url("https://a.org/x/", "c", "wuxi") == "https://a.org/x/s/c/wuxi?via=qr"
    assert survey_url("https://a.org", "c", via_qr=False) == "https://a.org/s/c"
    assert [channel_of(v) for v in ("qr", None, "QR", "")] == ["qr", "online", "online", "online"]


def test_the_time_estimate_counts_what_a_citizen_answers() -> None:
    survey = load_questionnaire(CITY_SURVEY).questionnaire
    assert survey is not None
    rows = sum(len(q.items) for q in survey.questions if q.type == "matrix")
    others = [
        q.id
        for s in survey.sections
        if s.filled_by != "interviewer"
        for q in s.questions
        if q.type != "matrix"
    ]
    assert asked_count(survey) == rows + len(others) == 37 + 13
    assert minutes_needed(survey) == 6  # 50 answers × 7 s


def test_every_interface_string_of_the_script_exists_in_both_languages() -> None:
    script = (
        Path(__file__).resolve().parents[2] / "survey_platform/pages/static/js/survey/render.js"
    ).read_text()
    used = set(re.findall(r"'(survey\.ui\.[a-z_.]+)'", script))
    assert len(used) > 30
    for language in ("zh-CN", "en"):
        assert sorted(used - set(ui_strings(language))) == [], language


def test_the_qr_command_writes_codes_and_posters(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("QUESTIONNAIRES_DIR", str(settings.questionnaires_dir))
    monkeypatch.delenv("SURVEY_PUBLIC_URL", raising=False)
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    cities = tmp_path / "cities.csv"
    cities.write_text("code,name_zh\nwuxi,无锡\nsuzhou,苏州\n", encoding="utf-8")
    assert main(["import", "cities", str(cities)]) == 0
    create = ["campaign", "create", "city-26", "--name", "城市测评", "--questionnaire", "mini_city"]
    assert main([*create, "--cities", "wuxi,suzhou"]) == 0
    assert main(["campaign", "create", "bare", "--name", "无城市", "--questionnaire", "mini_city"]) == 0
    assert main(["campaign", "create", "insp", "--name", "体察", "--questionnaire", "mini_inspection"]) == 0
    capsys.readouterr()

    out = tmp_path / "codes"
    assert main(["qr", "city-26", "-o", str(out), "--base-url", "https://survey.example.org"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "city-26-suzhou-poster.html",
        "city-26-suzhou.png",
        "city-26-suzhou.svg",
        "city-26-wuxi-poster.html",
        "city-26-wuxi.png",
        "city-26-wuxi.svg",
    ]
    for city, name in (("wuxi", "无锡"), ("suzhou", "苏州")):
        assert decode_png((out / f"city-26-{city}.png").read_bytes()) == [
            f"https://survey.example.org/s/city-26/{city}?via=qr"
        ]
        poster = (out / f"city-26-{city}-poster.html").read_text(encoding="utf-8")
        assert "<style>" in poster and "@page" in poster and "<link" not in poster  # one self-contained file
        assert name in poster and f"https://survey.example.org/s/city-26/{city}</span>" in poster
        assert (out / f"city-26-{city}.svg").read_text(encoding="utf-8").startswith("<?xml")

    monkeypatch.setenv("SURVEY_PUBLIC_URL", "https://cca.example.org")
    one = tmp_path / "one"
    assert main(["qr", "city-26", "--city", "wuxi", "-o", str(one)]) == 0
    assert decode_png((one / "city-26-wuxi.png").read_bytes()) == [
        "https://cca.example.org/s/city-26/wuxi?via=qr"
    ]
    assert main(["qr", "bare", "-o", str(one)]) == 0
    assert decode_png((one / "bare.png").read_bytes()) == ["https://cca.example.org/s/bare?via=qr"]
    capsys.readouterr()

    failures = [
        (["qr", "city-26", "--city", "shanghai", "-o", str(one)], 1, "city 'shanghai' is not in campaign"),
        (["qr", "nope", "-o", str(one)], 1, "campaign 'nope' not found"),
        (["qr", "insp", "-o", str(one)], 1, "is an inspection"),
        (["qr", "city-26", "--base-url", "survey.example.org", "-o", str(one)], 2, "--base-url"),
        (["qr", "city-26", "-o", str(one / "bare.png")], 1, "not a directory"),
    ]
    for argv, code, words in failures:
        assert main(argv) == code, argv
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and words in error and "Traceback" not in error, error
    monkeypatch.delenv("SURVEY_PUBLIC_URL")
    assert main(["qr", "city-26", "-o", str(one)]) == 2
    assert "SURVEY_PUBLIC_URL" in capsys.readouterr().err
