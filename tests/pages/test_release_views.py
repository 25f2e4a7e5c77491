"""The release pages' pure helpers: bilingual texts, rank wording, the rankings' sort and filter, trend releases."""

from __future__ import annotations

import datetime

import pytest

from survey_platform.pages.i18n import translate
from survey_platform.pages.release_views import (
    RankingsQuery,
    ReleaseRef,
    bilingual,
    datapackage_docs,
    rank_wording,
    rankings_query,
    short_labels,
    sorted_rows,
    trend_releases,
)
from survey_platform.publishing.model import CityRankingRow
from survey_platform.storage.errors import BadRequest


def _row(code: str, rank: int | None, score: float | None, n: int, province: str = "甲省") -> CityRankingRow:
    return CityRankingRow(
        city=code, name_zh=code.upper(), name_en=code.title(), province=province, n=n, score=score, se=None,
        ci_low=None, ci_high=None, rank=rank, rank_low=rank, rank_high=rank, rank_sim_low=rank,
        rank_sim_high=rank, tier=1 if rank else None, ranked=rank is not None, reason=None if rank else "x / y",
        dimensions={},
    )  # fmt: skip


ROWS = [
    _row("b", 2, 80.0, 600),
    _row("a", 1, 85.0, 550, "乙省"),
    _row("z", None, None, 12),  # not ranked, no estimate
    _row("c", 3, 75.0, 700),
]


def test_bilingual_picks_a_side_only_of_a_clean_pair() -> None:
    assert bilingual("样本量 9 低于最低样本量 20 / sample size 9 below the minimum 20", "en") == (
        "sample size 9 below the minimum 20"
    )
    assert bilingual("样本量 9 低于最低样本量 20 / sample size 9 below the minimum 20", "zh-CN") == (
        "样本量 9 低于最低样本量 20"
    )
    assert bilingual("层级：root/dimension/indicator / level of the tree", "en") == "level of the tree"
    assert bilingual("a / b / c", "en") == "a / b / c"  # not a pair: shown whole
    assert bilingual("只有中文", "en") == "只有中文"
    assert bilingual(None, "en") == ""


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_rank_is_never_written_without_its_set(language: str) -> None:
    def t(key: str, **params: object) -> str:
        return translate(language, key, **params)

    with_set = rank_wording(3, 2, 6, t)
    assert ("2–6" in with_set) and ("3" in with_set)
    assert with_set == ("第 3 名（可能为第 2–6 名）" if language == "zh-CN" else "rank 3 (plausible 2–6)")
    assert rank_wording(1, 1, 1, t) == ("第 1 名" if language == "zh-CN" else "rank 1")
    assert rank_wording(None, None, None, t) == ("未排名" if language == "zh-CN" else "not ranked")


def test_rows_sort_with_missing_values_last_in_either_order() -> None:
    by_rank = sorted_rows(ROWS, RankingsQuery(), "en")
    assert [r.city for r in by_rank] == ["a", "b", "c", "z"]
    worst_first = sorted_rows(ROWS, RankingsQuery("rank", "desc"), "en")
    assert [r.city for r in worst_first] == ["c", "b", "a", "z"]
    by_score_up = sorted_rows(ROWS, RankingsQuery("score", "asc"), "en")
    assert [r.city for r in by_score_up] == ["c", "b", "a", "z"]
    by_n = sorted_rows(ROWS, RankingsQuery("n", "desc"), "en")
    assert [r.city for r in by_n] == ["c", "b", "a", "z"]
    by_change = sorted_rows(ROWS, RankingsQuery("change", "desc"), "en", {"a": -1.0, "c": 2.5})
    assert [r.city for r in by_change] == ["c", "a", "b", "z"]
    in_province = sorted_rows(ROWS, RankingsQuery(province="甲省"), "en")
    assert [r.city for r in in_province] == ["b", "c", "z"]


def test_rankings_query_checks_each_parameter_and_names_it() -> None:
    assert rankings_query(None, None, None, ["甲省"]) == RankingsQuery("rank", "asc", "")
    assert rankings_query("score", None, "甲省", ["甲省"]) == RankingsQuery("score", "desc", "甲省")
    with pytest.raises(BadRequest, match="sort='best'"):
        rankings_query("best", None, None, [])
    with pytest.raises(BadRequest, match="order='up'"):
        rankings_query("rank", "up", None, [])
    with pytest.raises(BadRequest, match="province='丙省'"):
        rankings_query(None, None, "丙省", ["甲省"])
    query = RankingsQuery("score", "desc", "甲省")
    assert query.params() == {"sort": "score", "province": "甲省"}  # the default order is left out
    assert query.toggled("score") == {"sort": "score", "order": "asc", "province": "甲省"}
    assert query.toggled("name") == {"sort": "name", "province": "甲省"}


def _ref(
    release: str, campaign: str, day: int, status: str = "current", questionnaire: str = "q"
) -> ReleaseRef:
    return ReleaseRef(release, campaign, questionnaire, status, datetime.datetime(2026, 1, day))


def test_trend_releases_take_each_earlier_campaign_s_current_release() -> None:
    releases = [
        _ref("c24-r1", "c24", 1, "superseded"),
        _ref("c24-r2", "c24", 5),  # a correction of last year, published after this year's first release
        _ref("c25-r1", "c25", 3, "superseded"),
        _ref("c25-r2", "c25", 6),
        _ref("c26-r1", "c26", 9),  # later campaign: not in the trend of a 2025 release
        _ref("x-r1", "other", 2, questionnaire="other"),
    ]
    chosen = trend_releases(releases[2], releases)
    assert [r.release for r in chosen] == ["c24-r2", "c25-r1"], "a superseded release keeps its own numbers"
    assert [r.release for r in trend_releases(releases[4], releases)] == ["c24-r2", "c25-r2", "c26-r1"]
    assert short_labels(["city-satisfaction-2024", "city-satisfaction-2025"]) == ["2024", "2025"]
    assert short_labels(["only-one"]) == ["only-one"]
    assert short_labels(["a-x", "b-x"]) == ["a-x", "b-x"]


def test_datapackage_columns_in_the_page_language() -> None:
    descriptor = (
        b'{"description": "d", "resources": [{"name": "cities", "path": "cities.csv", "format": "csv",'
        b' "description": "\xe5\x9f\x8e\xe5\xb8\x82 / cities", "schema": {"fields": [{"name": "score",'
        b' "type": "number", "description": "\xe5\xbe\x97\xe5\x88\x86 / score"}]}}]}'
    )
    _, resources = datapackage_docs(descriptor, "en")
    assert resources[0].description == "cities" and resources[0].fields[0].description == "score"
    _, resources = datapackage_docs(descriptor, "zh-CN")
    assert resources[0].fields[0].description == "得分"
    with pytest.raises(ValueError, match="not JSON"):
        datapackage_docs(b"{", "en")
