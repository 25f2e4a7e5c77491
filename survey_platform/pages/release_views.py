"""What the release pages show, as pure functions over a frozen release (no I/O, no web framework).

The page handlers (``pages/releases.py``) read a release once and pass its results here: sorting and filtering the
rankings, the honest wording of ranks, labels in the page's language, the trend of a city over releases, the
column documentation of the open-data files. Everything here is deterministic for its arguments.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from survey_platform.publishing.model import (
    CityDetail,
    CityRankingRow,
    ReleaseResults,
    TreeNode,
)
from survey_platform.storage.errors import BadRequest

Translate = Callable[..., str]

#: the rankings' sort keys and the order each starts with (best first, or A to Z)
SORT_DEFAULT_ORDER: Mapping[str, str] = {
    "rank": "asc",
    "score": "desc",
    "change": "desc",
    "n": "desc",
    "name": "asc",
}
ORDERS = ("asc", "desc")


# ------------------------------------------------------------------------------------------------- language


def bilingual(text: str | None, language: str) -> str:
    """One side of a ``"中文 / English"`` text from the release (a reason, a note, a campaign name): the Chinese part
    for zh-CN, the English part otherwise; a text that is not such a pair is shown whole."""
    if not text:
        return ""
    parts = text.split(" / ")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        return text
    return parts[0].strip() if language == "zh-CN" else parts[1].strip()


def label(zh: str, en: str | None, language: str) -> str:
    """A name in the page's language (English falls back to Chinese when the release has no English name)."""
    return zh if language == "zh-CN" or not en else en


def city_name(row: CityRankingRow | CityDetail, language: str) -> str:
    return label(row.name_zh, row.name_en, language)


def node_labels(tree: Sequence[TreeNode], language: str) -> dict[str, str]:
    """Node id → its label in ``language`` (root, dimensions, indicators and items)."""
    return {node.id: label(node.label_zh, node.label_en, language) for node in tree}


def dimension_ids(tree: Sequence[TreeNode]) -> list[str]:
    """The index's dimensions in the questionnaire's order."""
    return [node.id for node in tree if node.level == "dimension"]


# ------------------------------------------------------------------------------------------------- ranks


def rank_set(low: int | None, high: int | None) -> str:
    """A rank confidence set as written on the pages: ``"2–6"``, or ``"3"`` when it is a single rank."""
    if low is None or high is None:
        return ""
    return str(low) if low == high else f"{low}–{high}"


def rank_wording(rank: int | None, low: int | None, high: int | None, t: Translate) -> str:
    """A rank never written without its set: "第 3 名（可能为第 2–6 名）" / "rank 3 (plausible 2–6)"."""
    if rank is None:
        return t("rank.not_ranked")
    if low == high == rank:
        return t("rank.exact", rank=rank)
    return t("rank.with_set", rank=rank, set=rank_set(low, high))


# ------------------------------------------------------------------------------------------------- rankings


@dataclasses.dataclass(frozen=True, slots=True)
class RankingsQuery:
    """The rankings page's query: sort key, order and province filter ("" for all), already checked."""

    sort: str = "rank"
    order: str = "asc"
    province: str = ""

    def params(self, **changes: str) -> dict[str, str]:
        """The query parameters of this view with ``changes``; defaults left out so that URLs stay short."""
        merged = {**dataclasses.asdict(self), **changes}
        out: dict[str, str] = {}
        if merged["sort"] != "rank":
            out["sort"] = merged["sort"]
        if merged["order"] != SORT_DEFAULT_ORDER[merged["sort"]]:
            out["order"] = merged["order"]
        if merged["province"]:
            out["province"] = merged["province"]
        return out

    def toggled(self, key: str) -> dict[str, str]:
        """The parameters a column header links to: that column, its default order, or the other order when
        it is the current column."""
        if key == self.sort:
            return self.params(sort=key, order="desc" if self.order == "asc" else "asc")
        return self.params(sort=key, order=SORT_DEFAULT_ORDER[key])


def rankings_query(
    sort: str | None, order: str | None, province: str | None, provinces: Iterable[str]
) -> RankingsQuery:
    """Check the rankings page's query parameters; a bad one is a :class:`BadRequest` naming it and what
    was expected (the page answers 400)."""
    sort = sort or "rank"
    if sort not in SORT_DEFAULT_ORDER:
        raise BadRequest(
            f"排序参数 sort={sort!r} 无效，可用 {', '.join(SORT_DEFAULT_ORDER)} / query parameter sort={sort!r} is "
            f"not one of {', '.join(SORT_DEFAULT_ORDER)}"
        )
    order = order or SORT_DEFAULT_ORDER[sort]
    if order not in ORDERS:
        raise BadRequest(f"排序方向 order 无效 / query parameter order={order!r} must be asc or desc")
    province = (province or "").strip()
    known = set(provinces)
    if province and province not in known:
        raise BadRequest(
            f"本发布没有省份 {province} / query parameter province={province!r} is not a province of this release"
        )
    return RankingsQuery(sort, order, province)


def _sort_value(row: CityRankingRow, key: str, language: str, changes: Mapping[str, float]) -> Any:
    if key == "rank":
        return row.rank
    if key == "score":
        return row.score
    if key == "change":
        return changes.get(row.city)
    if key == "n":
        return row.n
    return city_name(row, language).casefold() if language == "en" else row.city


def sorted_rows(
    rows: Sequence[CityRankingRow],
    query: RankingsQuery,
    language: str,
    changes: Mapping[str, float] | None = None,
) -> list[CityRankingRow]:
    """The rankings' rows filtered by province and sorted by ``query``; rows without a value for the key (unranked
    cities when sorting by rank, cities without a change…) come last in either order, by city code. Names sort by
    their English spelling in English and by city code (pinyin) in Chinese."""
    changes = changes or {}
    chosen = [r for r in rows if not query.province or r.province == query.province]
    present = [r for r in chosen if _sort_value(r, query.sort, language, changes) is not None]
    missing = sorted((r for r in chosen if r not in present), key=lambda r: r.city)
    present.sort(key=lambda r: r.city)  # ties by code, stably
    present.sort(key=lambda r: _sort_value(r, query.sort, language, changes), reverse=query.order == "desc")
    return present + missing


def province_names(rows: Iterable[CityRankingRow]) -> list[str]:
    """The provinces of the rankings' cities, in a stable (code point) order."""
    return sorted({r.province for r in rows if r.province})


def changes_by_city(results: ReleaseResults) -> dict[str, float]:
    """City code → change of its score since the previous release (cities with a change only)."""
    return {c.city: c.change.difference for c in results.cities if c.change is not None}


# ------------------------------------------------------------------------------------------------- trend


@dataclasses.dataclass(frozen=True, slots=True)
class ReleaseRef:
    """A release as the trend sees it: code, campaign, questionnaire id, status, when it was made."""

    release: str
    campaign: str
    questionnaire: str
    status: str
    created_at: datetime.datetime


def trend_releases(current: ReleaseRef, releases: Iterable[ReleaseRef]) -> list[ReleaseRef]:
    """The releases a city's trend is drawn from, oldest campaign first: for every campaign of the same
    questionnaire whose first release came no later than ``current``, its current release (for ``current``'s own
    campaign, ``current`` itself, so that a superseded release shows the trend it was published with)."""
    first: dict[str, datetime.datetime] = {}
    latest: dict[str, ReleaseRef] = {}
    for ref in releases:
        if ref.questionnaire != current.questionnaire:
            continue
        first[ref.campaign] = min(first.get(ref.campaign, ref.created_at), ref.created_at)
        if ref.status == "current":
            latest[ref.campaign] = ref
    latest[current.campaign] = current
    first.setdefault(current.campaign, current.created_at)
    chosen = [
        ref
        for campaign, ref in latest.items()
        if first[campaign] <= current.created_at or campaign == current.campaign
    ]
    return sorted(chosen, key=lambda ref: (first[ref.campaign], ref.campaign))


def short_labels(codes: Sequence[str]) -> list[str]:
    """Distinguishing labels for campaign codes: the ``-``-separated words they all share at the start are left
    out (``city-2024``, ``city-2025`` → ``2024``, ``2025``); a single code is kept whole."""
    if len(codes) < 2:
        return list(codes)
    words = [code.split("-") for code in codes]
    shared = 0
    while all(len(w) > shared + 1 for w in words) and len({w[shared] for w in words}) == 1:
        shared += 1
    labels = ["-".join(w[shared:]) for w in words]
    return labels if len(set(labels)) == len(labels) else list(codes)


# ------------------------------------------------------------------------------------------------- open data


@dataclasses.dataclass(frozen=True, slots=True)
class FieldDoc:
    name: str
    type: str
    description: str


@dataclasses.dataclass(frozen=True, slots=True)
class ResourceDoc:
    """One file of a data package with its columns documented (descriptions in the page's language)."""

    name: str
    path: str
    format: str
    description: str
    fields: list[FieldDoc]


def datapackage_docs(descriptor: bytes, language: str) -> tuple[str, list[ResourceDoc]]:
    """The package's description and every resource's columns from a release's ``datapackage.json``."""
    try:
        package = json.loads(descriptor)
    except ValueError as error:
        raise ValueError(f"datapackage.json is not JSON: {error}") from None
    resources = []
    for resource in package.get("resources", []):
        fields = [
            FieldDoc(
                name=str(f.get("name", "")),
                type=str(f.get("type", "")),
                description=bilingual(str(f.get("description", "")), language),
            )
            for f in (resource.get("schema") or {}).get("fields", [])
        ]
        resources.append(
            ResourceDoc(
                name=str(resource.get("name", "")),
                path=str(resource.get("path", "")),
                format=str(resource.get("format", "")),
                description=bilingual(str(resource.get("description", "")), language),
                fields=fields,
            )
        )
    return str(package.get("description", "")), resources


def human_size(size: int) -> str:
    """``1536`` → ``"1.5 KiB"``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} MiB"  # pragma: no cover - the loop returns


__all__ = [
    "ORDERS",
    "SORT_DEFAULT_ORDER",
    "FieldDoc",
    "RankingsQuery",
    "ReleaseRef",
    "ResourceDoc",
    "bilingual",
    "changes_by_city",
    "city_name",
    "datapackage_docs",
    "dimension_ids",
    "human_size",
    "label",
    "node_labels",
    "province_names",
    "rank_set",
    "rank_wording",
    "rankings_query",
    "short_labels",
    "sorted_rows",
    "trend_releases",
]
