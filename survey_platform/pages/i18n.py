"""Interface strings in zh-CN and English: one catalogue per language, kept as JSON files in ``locales/``.

A language's catalogue is ``locales/<language>.json`` (the shared strings) plus every ``locales/<language>/*.json``
(one file per page area, e.g. ``survey.json``, ``desk.json``); a key may be defined only once per language.
Keys are flat, dotted names (``"home.title"``); values may hold ``{name}`` placeholders filled by
:func:`translate`. zh-CN is the default language; a visitor's choice is kept in the ``lang`` cookie (a functional
preference set by the language switch, never used for tracking).
"""

from __future__ import annotations

import functools
import json
import logging
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger("survey_platform.pages")

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


class CatalogError(ValueError):
    """A catalogue file cannot be used; the message names the file and the problem."""


@functools.cache
def catalog(language: str) -> Mapping[str, str]:
    """The strings of ``language`` (read once per process)."""
    if language not in LANGUAGES:
        raise CatalogError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    merged: dict[str, str] = {}
    paths = [LOCALES_DIR / f"{language}.json", *sorted((LOCALES_DIR / language).glob("*.json"))]
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise CatalogError(f"{path}: {error}") from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise CatalogError(f"{path}: expected one JSON object of string keys to string values")
        twice = sorted(set(data) & set(merged))
        if twice:
            raise CatalogError(f"{path}: keys defined in another file too: {', '.join(twice[:10])}")
        merged.update(data)
    return merged


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` placeholders of a catalogue string."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def normalise_language(value: str | None) -> str:
    """A supported language for a cookie or query value ("en", "zh-CN"); anything else gives the default."""
    if value:
        for language in LANGUAGES:
            if value.lower() == language.lower():
                return language
    return DEFAULT_LANGUAGE


def translate(language: str, key: str, **params: Any) -> str:
    """The string ``key`` in ``language`` with ``{name}`` placeholders filled from ``params``.

    A key missing from the catalogue (the tests prevent it) falls back to the default language, then to the key
    itself, and is logged: a page never fails over a missing string.
    """
    text = catalog(language).get(key)
    if text is None:
        logger.warning("missing interface string %r in %s", key, language)
        text = catalog(DEFAULT_LANGUAGE).get(key, key)
    if not params:
        return text
    try:
        return text.format_map(params)
    except (KeyError, IndexError, ValueError):
        logger.warning("interface string %r in %s does not fit parameters %s", key, language, sorted(params))
        return text


def other_language(language: str) -> str:
    """The language the switch offers (the two languages alternate)."""
    return LANGUAGES[1] if language == LANGUAGES[0] else LANGUAGES[0]
