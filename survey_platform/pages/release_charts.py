"""The release pages' charts: rows built from a frozen release, labels in the page's language, drawn by
``publishing.charts`` (pure). :class:`ChartCache` keeps each drawing per (release, results hash, chart, language,
part), so a chart is drawn when it is first shown and never again for that release.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable, Sequence
from statistics import NormalDist

from survey_platform.pages.release_views import (
    Translate,
    city_name,
    label,
    node_labels,
)
from survey_platform.pages.rendering import format_number as fmt
from survey_platform.publishing.charts import (
    BarRow,
    IndicatorPoint,
    IntervalRow,
    RankSetRow,
    Reference,
    TrendPoint,
    TrendSeries,
    bar_chart,
    interval_chart,
    quadrant_chart,
    rank_set_chart,
    trend_chart,
)
from survey_platform.publishing.model import (
    CityDetail,
    DriverAnalysisResult,
    ProblemRateRow,
    ReleaseResults,
)


class ChartCache:
    """Drawn charts by key, at most ``max_entries`` (least recently used dropped first)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: collections.OrderedDict[Hashable, str] = collections.OrderedDict()
        self.max_entries = max_entries
        self.drawn = 0  # how many times a chart was actually drawn (for tests)

    def get(self, key: Hashable, draw: Callable[[], str]) -> str:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        svg = draw()
        self.drawn += 1
        self._entries[key] = svg
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return svg

    def clear(self) -> None:
        self._entries.clear()


def _by_score(results: ReleaseResults) -> list:
    rows = results.rankings.cities if results.rankings else []
    return sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, -(r.score or 0.0), r.city))


def rankings_interval(results: ReleaseResults, language: str, t: Translate, highlight: str = "") -> str:
    """Every city's score with its interval, best first, the national figure as the reference line."""
    assert results.rankings is not None
    national = results.rankings.national
    rows = [
        IntervalRow(
            city_name(r, language),
            r.score,
            r.ci_low if r.score is not None else None,
            r.ci_high if r.score is not None else None,
            highlight=r.city == highlight,
            note="" if r.score is not None else t("rank.no_estimate"),
        )
        for r in _by_score(results)
    ]
    reference = (
        Reference(national.score, t("chart.national_ref", value=fmt(national.score)))
        if national.score is not None
        else None
    )
    return interval_chart(
        rows,
        title=t("rankings.chart.scores.title"),
        description=t("rankings.chart.scores.desc"),
        reference=reference,
        axis_label=t("chart.score_axis"),
    )


def rankings_rank_sets(results: ReleaseResults, language: str, t: Translate, highlight: str = "") -> str:
    """Every ranked city's point rank and marginal rank set; unranked cities with their note."""
    assert results.rankings is not None
    ranked = [r for r in results.rankings.cities if r.rank is not None]
    rows = [
        RankSetRow(
            city_name(r, language),
            r.rank,
            r.rank_low,
            r.rank_high,
            highlight=r.city == highlight,
            note="" if r.rank is not None else t("rank.not_ranked"),
        )
        for r in _by_score(results)
    ]
    return rank_set_chart(
        rows,
        max(len(ranked), 1),
        title=t("rankings.chart.ranks.title"),
        description=t("rankings.chart.ranks.desc"),
        axis_label=t("chart.rank_axis"),
    )


def city_differences(detail: CityDetail, results: ReleaseResults, language: str, t: Translate) -> str:
    """The city's difference from the national figure for the index, each dimension and indicator, with the
    difference's 95% interval (not adjusted for multiple comparisons; the table gives the Holm verdict)."""
    labels = node_labels(results.tree, language)
    z = _z(results.method.level)
    rows = []
    for node in detail.nodes:
        d, se = node.difference, node.difference_se
        indent = "" if node.level != "indicator" else "· "
        if d is None or se is None:
            rows.append(
                IntervalRow(indent + labels.get(node.node, node.node), None, note=t("rank.no_estimate"))
            )
        else:
            rows.append(
                IntervalRow(
                    indent + labels.get(node.node, node.node),
                    d,
                    d - z * se,
                    d + z * se,
                    highlight=node.level != "indicator",
                )
            )
    return interval_chart(
        rows,
        title=t("city.chart.diff.title"),
        description=t("city.chart.diff.desc"),
        reference=Reference(0.0, t("city.chart.diff.ref")),
        axis_label=t("city.chart.diff.axis"),
    )


def quadrant(drivers: DriverAnalysisResult, results: ReleaseResults, language: str, t: Translate) -> str:
    """The importance–performance grid (四分图) of the indicators, the priority areas highlighted."""
    labels = node_labels(results.tree, language)
    priorities = set(drivers.priorities)
    points = [
        IndicatorPoint(
            labels.get(d.indicator, d.indicator),
            d.importance,
            d.performance,
            highlight=d.indicator in priorities,
        )
        for d in drivers.drivers
    ]
    return quadrant_chart(
        points,
        drivers.importance_cut,
        drivers.performance_cut,
        title=t("city.chart.quadrant.title"),
        description=t("city.chart.quadrant.desc"),
        quadrant_labels={
            "keep_up": t("quadrant.keep_up"),
            "improve": t("quadrant.improve"),
            "low_priority": t("quadrant.low_priority"),
            "maintain": t("quadrant.maintain"),
        },
        importance_label=t("quadrant.importance"),
        performance_label=t("quadrant.performance"),
    )


def trend(
    points: Sequence[tuple[str, float | None, float | None, float | None]],
    national: Sequence[tuple[str, float | None, float | None, float | None]],
    city_label: str,
    t: Translate,
) -> str:
    """A city's score over releases (label, score, low, high), with the national figure as a second series."""
    categories = list(dict.fromkeys([p[0] for p in national] + [p[0] for p in points]))  # releases in order
    series = [
        TrendSeries(city_label, [TrendPoint(c, s, lo, hi) for c, s, lo, hi in points]),
        TrendSeries(t("chart.national"), [TrendPoint(c, s, lo, hi) for c, s, lo, hi in national]),
    ]
    return trend_chart(
        series,
        categories,
        title=t("city.chart.trend.title"),
        description=t("city.chart.trend.desc"),
        axis_label=t("chart.score_axis"),
    )


def provinces(results: ReleaseResults, language: str, t: Translate, highlight: str = "") -> str:
    """Every province's population-weighted figure with its interval, best first."""
    national = results.rankings.national if results.rankings else None
    ordered = sorted(results.provinces, key=lambda p: (p.figure.score is None, -(p.figure.score or 0.0)))
    rows = [
        IntervalRow(
            p.province,
            p.figure.score,
            p.figure.ci_low if p.figure.score is not None else None,
            p.figure.ci_high if p.figure.score is not None else None,
            highlight=p.province == highlight,
            note="" if p.figure.score is not None else t("rank.no_estimate"),
        )
        for p in ordered
    ]
    reference = (
        Reference(national.score, t("chart.national_ref", value=fmt(national.score)))
        if national is not None and national.score is not None
        else None
    )
    return interval_chart(
        rows,
        title=t("province.chart.title"),
        description=t("province.chart.desc"),
        reference=reference,
        axis_label=t("chart.score_axis"),
    )


def problem_rates(rows: Sequence[ProblemRateRow], language: str, t: Translate, *, title: str) -> str:
    """Problem rates of groups (cities or venue categories) with their Wilson intervals."""
    bars = [
        BarRow(label(r.label_zh, r.label_en, language), r.rate, r.ci_low, r.ci_high)
        for r in sorted(rows, key=lambda r: (-r.rate, r.group))
    ]
    return bar_chart(
        bars,
        title=title,
        description=t("inspections.chart.desc"),
        axis_label=t("inspections.chart.axis"),
    )


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


__all__ = [
    "ChartCache",
    "city_differences",
    "problem_rates",
    "provinces",
    "quadrant",
    "rankings_interval",
    "rankings_rank_sets",
    "trend",
]
