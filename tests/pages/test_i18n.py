"""The interface catalogues: both languages have every key, and every key the templates use exists."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jinja2 import nodes

from survey_platform.campaigns.lifecycle import STATUSES
from survey_platform.pages import i18n
from survey_platform.pages.assets import load_assets
from survey_platform.pages.errors import error_kind
from survey_platform.pages.public import HOME_ORDER
from survey_platform.pages.rendering import TEMPLATES_DIR, make_environment
from survey_platform.questionnaire.spec import KINDS


def _template_keys() -> Iterator[tuple[str, str | None, nodes.Call]]:
    """(template, literal key or None for a computed one, call) for every ``t(...)`` call in the templates."""
    environment = make_environment(load_assets())
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        name = path.relative_to(TEMPLATES_DIR).as_posix()
        tree = environment.parse(path.read_text(encoding="utf-8"), name=name)
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "t":
                first = call.args[0] if call.args else None
                yield name, first.value if isinstance(first, nodes.Const) else None, call


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    zh, en = i18n.catalog("zh-CN"), i18n.catalog("en")
    assert sorted(set(zh) - set(en)) == [], "keys missing from en.json"
    assert sorted(set(en) - set(zh)) == [], "keys missing from zh-CN.json"
    for key in zh:
        assert zh[key].strip() and en[key].strip(), f"{key} is empty"
        assert i18n.placeholders(zh[key]) == i18n.placeholders(en[key]), f"{key}: placeholders differ"


def test_every_literal_key_used_in_templates_exists_with_its_placeholders() -> None:
    catalog = i18n.catalog(i18n.DEFAULT_LANGUAGE)
    literal = [(name, key, call) for name, key, call in _template_keys() if key is not None]
    assert len(literal) > 30, "the scan finds the templates' strings"
    for name, key, call in literal:
        assert key in catalog, f"{name}: t({key!r}) is not in the catalogue"
        given = {kw.key for kw in call.kwargs}
        assert given == i18n.placeholders(catalog[key]), f"{name}: t({key!r}) fills {sorted(given)}"


def test_computed_keys_exist_for_every_value_they_can_take() -> None:
    computed = {name for name, key, _ in _template_keys() if key is None}
    assert computed == {"home.html", "error.html"}, "a new computed key needs its values listed in this test"
    catalog = i18n.catalog("en")
    expected = [f"campaign.status.{s}" for s in STATUSES if s != "draft"]
    expected += [f"campaign.status_group.{s}" for s in HOME_ORDER]
    expected += [f"campaign.kind.{kind}" for kind in KINDS]
    kinds = {error_kind(status) for status in range(400, 600)}
    expected += [f"error.{kind}.{part}" for kind in kinds for part in ("title", "message")]
    assert [key for key in expected if key not in catalog] == []


def test_translate_fills_placeholders_and_falls_back() -> None:
    assert i18n.translate("en", "home.campaign.cities", n=3) == "3 cities"
    assert i18n.translate("zh-CN", "home.campaign.cities", n=3) == "3 个城市"
    assert i18n.translate("en", "no.such.key") == "no.such.key"
    # a missing parameter leaves the text as written instead of failing the page
    assert i18n.translate("en", "home.campaign.cities") == "{n} cities"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("en", "en"), ("EN", "en"), ("zh-cn", "zh-CN"), ("zh-CN", "zh-CN"), ("fr", "zh-CN"), (None, "zh-CN")],
)
def test_language_values_are_normalised(value: str | None, expected: str) -> None:
    assert i18n.normalise_language(value) == expected


def test_a_broken_catalogue_names_its_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "en.json").write_text('{"a": 1}', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(i18n.CatalogError, match=r"en\.json: expected one JSON object of string"):
            i18n.catalog("en")
    finally:
        i18n.catalog.cache_clear()
