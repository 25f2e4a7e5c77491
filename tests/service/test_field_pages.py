"""The field app over HTTP: the shell (the same for everyone: no account data, no cookie, no CSRF token), its web
app manifest and icons, and the service worker (its scope, and a precache list that names every file the app loads
by its hashed URL, each of which answers)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image
from service_helpers import headers_for

from survey_platform.pages.field import precache_urls, ui_strings
from survey_platform.pages.i18n import LANGUAGES, catalog

pytestmark = pytest.mark.usefixtures("client")
FIELD_JS = Path(__file__).resolve().parents[2] / "survey_platform" / "pages" / "static" / "js" / "field"


def data_block(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="field-data">(.*?)</script>', html, re.S)
    assert match, "no data block"
    return json.loads(match.group(1))


async def test_the_shell_is_the_same_for_everyone_and_may_use_position_and_camera(
    client: AsyncTestClient[Litestar],
) -> None:
    anonymous = await client.get("/field/")
    assert anonymous.status_code == 200 and anonymous.headers["content-type"].startswith("text/html")
    assert "set-cookie" not in anonymous.headers
    policy = anonymous.headers["permissions-policy"]
    assert "geolocation=(self)" in policy and "camera=(self)" in policy and "microphone=()" in policy
    assert "script-src 'self'" in anonymous.headers["content-security-policy"]
    html = anonymous.text
    assert '<link rel="manifest" href="/field/manifest.webmanifest">' in html
    assert "<script>" not in html and " style=" not in html
    data = data_block(html)
    assert data["lang"] == "zh-CN" and data["worker"] == "/field/sw.js"
    strings = data["strings"]
    assert isinstance(strings, dict)
    assert strings["field.status.send_now"] == "立即发送" and "survey.ui.next" in strings
    assert not any(key.startswith(("home.", "desk.")) for key in strings)

    inspector = await headers_for(client, "inspector")
    client.cookies.set("survey_session", inspector["Authorization"].split()[1])
    signed_in = await client.get("/field/")
    client.cookies.clear()
    assert 'name="csrf-token"' not in signed_in.text  # the app uses a bearer token, never the cookie
    assert data_block(signed_in.text) == data

    client.cookies.set("lang", "en")
    english = await client.get("/field/")
    client.cookies.clear()
    assert '<html lang="en">' in english.text
    assert data_block(english.text)["strings"]["field.status.send_now"] == "Send now"  # type: ignore[index]
    redirected = await client.get("/field", follow_redirects=False)
    assert redirected.status_code == 308 and redirected.headers["location"] == "/field/"


async def test_the_manifest_makes_the_app_installable(client: AsyncTestClient[Litestar]) -> None:
    reply = await client.get("/field/manifest.webmanifest")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/manifest+json")
    manifest = reply.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/field/",
        "/field/",
        "standalone",
    )
    assert manifest["name"] == "消协外勤：访问与体察" and manifest["lang"] == "zh-CN"
    client.cookies.set("lang", "en")
    english = (await client.get("/field/manifest.webmanifest")).json()
    client.cookies.clear()
    assert english["name"] == "Consumer association field app" and english["lang"] == "en"
    sizes = {}
    for icon in manifest["icons"]:
        image = await client.get(icon["src"])
        assert image.status_code == 200 and image.headers["content-type"] == icon["type"]
        assert "immutable" in image.headers["cache-control"]
        if icon["type"] == "image/png":
            width, height = Image.open(io.BytesIO(image.content)).size
            assert f"{width}x{height}" == icon["sizes"]
            sizes[(icon["purpose"], width)] = True
        else:
            assert image.content.startswith(b"<svg") and icon["sizes"] == "any"
    assert {("any", 192), ("any", 512), ("maskable", 512)} <= set(sizes)


async def test_the_worker_precaches_every_file_the_app_loads(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    reply = await client.get("/field/sw.js")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/javascript")
    assert (
        reply.headers["service-worker-allowed"] == "/field/" and reply.headers["cache-control"] == "no-cache"
    )
    first_line = reply.text.split("\n", 1)[0]
    config = json.loads(first_line.removeprefix("self.FIELD_SW = ").removesuffix(";"))
    assets = app.state.assets
    assert config["version"] == assets.version and config["cache"] == f"field-shell-{assets.version}"
    assert config["precache"] == precache_urls(assets) and config["core"] == assets.url("js/field/core.js")
    precached = set(config["precache"])
    modules = {p.name for p in FIELD_JS.glob("*.js")} - {"sw.js"}
    assert {assets.url(f"js/field/{name}") for name in modules} <= precached
    assert assets.url("js/field/sw.js") not in precached
    html = (await client.get("/field/")).text
    loaded = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html))
    assert loaded <= precached, sorted(loaded - precached)
    for url in precached:  # every one answers (a missing file would fail the worker's install)
        assert (await client.get(url)).status_code == 200, url
    # every relative import between the app's modules stays among the precached files
    for url in precached:
        if url.endswith(".js"):
            text = (await client.get(url)).text
            for target in re.findall(r"""(?:import|from)\s*['"](\.{1,2}/[^'"]+)['"]""", text):
                resolved = str(Path(url).parent / target).replace("/./", "/")
                while "/../" in resolved:
                    resolved = re.sub(r"/[^/]+/\.\./", "/", resolved, count=1)
                assert resolved in precached, (url, target)


def test_every_string_the_apps_scripts_use_exists_in_both_languages() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in FIELD_JS.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""['"`](field\.[a-z_.]+[a-z_])['"`]""", text))
        prefixes |= set(re.findall(r"`(field\.[a-z_.]+\.)\$\{", text))
    assert len(used) > 100
    for language in LANGUAGES:
        strings = ui_strings(language)
        assert sorted(used - set(strings)) == [], language
        for prefix in prefixes:  # computed keys (states, severities, roles...) have their values
            assert any(key.startswith(prefix) for key in strings), (language, prefix)
    states = {"draft", "correcting", "queued", "sent", "accepted", "returned", "rejected"}
    for language in LANGUAGES:
        assert {f"field.state.{s}" for s in states} | {f"field.state_long.{s}" for s in states} <= set(
            catalog(language)
        )
