"""The server-drawn SVG charts: parsed with xml.etree and checked for positions, labels, escaping, determinism."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from chart_samples import (
    INDICATORS,
    NATIONAL,
    PROBLEM_RATES,
    QUADRANT_LABELS_EN,
    QUADRANT_LABELS_ZH,
    interval_rows,
    rank_rows,
    trend_series,
)

from scoring.drivers import importance_performance
from survey_platform.publishing import charts
from survey_platform.publishing.charts import (
    BarRow,
    ChartError,
    IndicatorPoint,
    IntervalRow,
    RankSetRow,
    Reference,
    TrendPoint,
    TrendSeries,
)

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & Co'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def rows_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if "chart-row" in (g.get("class") or "").split()]


def row_label(row: ET.Element) -> str:
    return "".join(t.text or "" for t in row.iter(f"{NS}text") if t.get("class") == "chart-label")


def all_charts() -> dict[str, str]:
    series, years = trend_series()
    return {
        "interval": charts.interval_chart(
            interval_rows(), title="城市得分", description="d", reference=NATIONAL
        ),
        "rank": charts.rank_set_chart(rank_rows(), 20, title="排名区间", description="d"),
        "quadrant": charts.quadrant_chart(
            INDICATORS,
            0.07,
            78.0,
            title="四分图",
            description="d",
            quadrant_labels=QUADRANT_LABELS_ZH,
            importance_label="重要性",
            performance_label="表现",
        ),
        "trend": charts.trend_chart(series, years, title="趋势", description="d"),
        "bar": charts.bar_chart(PROBLEM_RATES, title="问题率", description="d"),
    }


@pytest.mark.parametrize("kind", ["interval", "rank", "quadrant", "trend", "bar"])
def test_every_chart_is_an_accessible_self_contained_svg(kind: str) -> None:
    svg = all_charts()[kind]
    root = parse(svg)
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert [child.tag for child in root[:2]] == [f"{NS}title", f"{NS}desc"]
    assert root.get("viewBox", "").startswith("0 0 340 ")
    assert float(root.get("height")) == float(root.get("viewBox").split()[3])
    for node in root.iter():
        assert node.get("style") is None and node.get("id") is None, node.tag
        assert node.tag not in (f"{NS}style", f"{NS}script", f"{NS}foreignObject", f"{NS}image")
    sizes = [float(t.get("font-size") or root.get("font-size")) for t in root.iter(f"{NS}text")]
    assert min(sizes) >= 10  # legible at a phone's width (viewBox ≈ CSS pixels at 360 px)
    assert svg == all_charts()[kind], "the same input gives the same bytes"


def test_labels_are_escaped_and_survive_parsing() -> None:
    bad = HOSTILE + "\x00\x07"
    svgs = [
        charts.interval_chart(
            [IntervalRow(bad, 80, 79, 81)], title=bad, description=bad, reference=Reference(80, bad)
        ),
        charts.rank_set_chart([RankSetRow(bad, 1, 1, 1)], 1, title=bad, description=bad),
        charts.bar_chart([BarRow(bad, 0.5, 0.4, 0.6)], title=bad, description=bad),
        charts.quadrant_chart(
            [IndicatorPoint(bad, 0.1, 70)],
            0.1,
            70,
            title=bad,
            description=bad,
            quadrant_labels={k: bad for k in QUADRANT_LABELS_EN},
            importance_label=bad,
            performance_label=bad,
        ),
        charts.trend_chart(
            [TrendSeries(bad, [TrendPoint(bad, 70, 69, 71)])], [bad], title=bad, description=bad
        ),
    ]
    for svg in svgs:
        assert "<script>" not in svg and "&amp; Co" in svg
        root = parse(svg)
        assert root.find(f"{NS}title").text == HOSTILE
        assert any(HOSTILE in t for t in texts(root)) or any(HOSTILE in row_label(r) for r in rows_of(root))


def _marker_x(row: ET.Element) -> float:
    circle = row.find(f"{NS}circle")
    if circle is not None:
        return float(circle.get("cx"))
    polygon = row.find(f"{NS}polygon")
    assert polygon is not None
    return float(polygon.get("points").split()[0].split(",")[0])


def test_interval_chart_places_estimates_on_one_linear_scale_with_the_reference() -> None:
    rows = interval_rows()
    root = parse(charts.interval_chart(rows, title="t", description="d", reference=NATIONAL, axis=(70, 95)))
    drawn = rows_of(root)
    assert [row_label(r) for r in drawn] == [r.label for r in rows]  # in the order given, top to bottom
    ys = [float(r.find(f"{NS}text").get("y")) for r in drawn]
    assert ys == sorted(ys)
    measured = [
        (r.estimate, _marker_x(g)) for r, g in zip(rows, drawn, strict=True) if r.estimate is not None
    ]
    (v0, x0), (v1, x1) = measured[0], measured[-1]
    per_unit = (x0 - x1) / (v0 - v1)
    for value, x in measured:
        assert x == pytest.approx(x1 + (value - v1) * per_unit, abs=0.02)
    reference = [ln for ln in root.iter(f"{NS}line") if ln.get("class") == "chart-reference"]
    assert len(reference) == 1
    assert float(reference[0].get("x1")) == pytest.approx(x1 + (NATIONAL.value - v1) * per_unit, abs=0.02)
    assert "全国 80.4" in texts(root)
    # the interval's ends on the same scale
    first = drawn[0]
    whisker = next(ln for ln in first.iter(f"{NS}line") if ln.get("class") == "chart-interval")
    assert float(whisker.get("x1")) == pytest.approx(x1 + (rows[0].low - v1) * per_unit, abs=0.02)
    assert float(whisker.get("x2")) == pytest.approx(x1 + (rows[0].high - v1) * per_unit, abs=0.02)
    # the highlighted city: a diamond and a class, not colour alone; the city without estimate: its note only
    highlighted = [g for g in drawn if "chart-row--highlight" in g.get("class")]
    assert [row_label(g) for g in highlighted] == ["杭州"] and highlighted[0].find(f"{NS}polygon") is not None
    last = drawn[-1]
    assert last.find(f"{NS}circle") is None and "样本不足，未排名" in texts(last)
    assert [t for t in texts(drawn[0]) if t == "91.7"], "the estimate is written beside its row"


def test_long_lists_grow_taller_and_long_labels_go_above_their_marks() -> None:
    many = [IntervalRow(f"城市{i}", 70 + i / 10, 69 + i / 10, 71 + i / 10) for i in range(100)]
    tall = parse(charts.interval_chart(many, title="t", description="d"))
    assert float(tall.get("height")) > 100 * charts.ROW
    # long lists repeat the tick labels above the rows
    assert len([t for t in tall.iter(f"{NS}text") if t.get("class") == "chart-muted"]) >= 2 * len(
        [ln for ln in tall.iter(f"{NS}line") if ln.get("class") == "chart-grid"]
    )
    long_label = "Consumer rights protection and public education on consumption"
    stacked = parse(charts.interval_chart([IntervalRow(long_label, 75, 73, 77)], title="t", description="d"))
    labels = [t for t in stacked.iter(f"{NS}text") if t.get("class") == "chart-label"]
    assert len(labels) >= 2 and " ".join(t.text for t in labels) == long_label
    marker_y = float(stacked.find(f".//{NS}circle").get("cy"))
    assert all(float(t.get("y")) < marker_y for t in labels) and all(
        float(t.get("x")) == charts.PAD for t in labels
    )


def test_rank_set_chart_draws_sets_and_says_them() -> None:
    rows = rank_rows()
    root = parse(charts.rank_set_chart(rows, 20, title="t", description="d"))
    drawn = rows_of(root)
    bands = [g.find(f"{NS}line") for g in drawn if g.find(f"{NS}line") is not None]
    ranked = [r for r in rows if r.rank is not None]
    assert len(bands) == len(ranked)
    # x of rank r: linear; the set [low, high] spans low − 0.4 … high + 0.4
    x_of = {r.rank: _marker_x(g) for r, g in zip(rows, drawn, strict=True) if r.rank is not None}
    per_rank = (x_of[20] - x_of[1]) / 19
    assert per_rank > 0  # rank 1 (best) at the left
    for row, band in zip(ranked, bands, strict=True):
        assert float(band.get("x1")) == pytest.approx(x_of[1] + (row.low - 0.4 - 1) * per_rank, abs=0.02)
        assert float(band.get("x2")) == pytest.approx(x_of[1] + (row.high + 0.4 - 1) * per_rank, abs=0.02)
    fourth = drawn[3]
    assert row_label(fourth) == "杭州" and "2–6" in texts(fourth)
    assert "未排名：样本不足" in texts(drawn[-1])
    with pytest.raises(ChartError, match=r"'甲'.*1 ≤ low ≤ rank ≤ high ≤ 5"):
        charts.rank_set_chart([RankSetRow("甲", 3, 4, 5)], 5, title="t", description="d")


def _rects(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    found = {}
    for rect in root.iter(f"{NS}rect"):
        cls = rect.get("class") or ""
        if "chart-quadrant--" in cls:
            code = cls.split("chart-quadrant--")[1]
            x, y, w, h = (float(rect.get(a)) for a in ("x", "y", "width", "height"))
            found[code] = (x, y, x + w, y + h)
    return found


@pytest.mark.parametrize("labels", [QUADRANT_LABELS_ZH, QUADRANT_LABELS_EN])
def test_quadrant_chart_puts_each_indicator_in_its_quadrant(labels: dict[str, str]) -> None:
    importance_cut, performance_cut = 0.07, 78.0
    root = parse(
        charts.quadrant_chart(
            INDICATORS,
            importance_cut,
            performance_cut,
            title="t",
            description="d",
            quadrant_labels=labels,
            importance_label="重要性",
            performance_label="表现",
        )
    )
    expected = importance_performance(
        [p.label for p in INDICATORS],
        [p.importance for p in INDICATORS],
        [p.performance for p in INDICATORS],
        importance_cut=importance_cut,
        performance_cut=performance_cut,
    )
    regions = _rects(root)
    assert set(regions) == {"keep_up", "improve", "low_priority", "maintain"}
    marks = [g for g in rows_of(root) if g.find(f"{NS}text[@class='chart-point-number']") is not None]
    assert len(marks) == len(INDICATORS)
    for number, (mark, point) in enumerate(zip(marks, expected, strict=True), start=1):
        shape = mark.find(f"{NS}circle")
        if shape is not None:
            cx, cy = float(shape.get("cx")), float(shape.get("cy"))
        else:
            xs = [tuple(map(float, p.split(","))) for p in mark.find(f"{NS}polygon").get("points").split()]
            cx, cy = xs[0][0], xs[1][1]
        x0, y0, x1, y1 = regions[point.quadrant]
        assert x0 <= cx <= x1 and y0 <= cy <= y1, (point.name, point.quadrant)
        assert mark.find(f"{NS}text").text == str(number)
    words = texts(root)
    for label in labels.values():
        assert any(label.startswith(w) or w in label for w in words), label
    for number, point in enumerate(INDICATORS, start=1):
        assert f"{number}  {point.label}" in words
    # the high-importance, low-performance corner (修补区) is the top left
    assert (
        regions["improve"][0] < regions["keep_up"][0] and regions["improve"][1] < regions["low_priority"][1]
    )
    with pytest.raises(ChartError, match=r"missing \['maintain'\]"):
        charts.quadrant_chart(
            INDICATORS,
            0.07,
            78,
            title="t",
            description="d",
            quadrant_labels={k: v for k, v in labels.items() if k != "maintain"},
            importance_label="i",
            performance_label="p",
        )


def test_trend_chart_breaks_at_a_missing_release_and_tells_series_apart_by_shape() -> None:
    series, years = trend_series()
    root = parse(charts.trend_chart(series, years, title="t", description="d"))
    groups = [g for g in root.iter(f"{NS}g") if (g.get("class") or "").startswith("chart-series ")]
    city_plot, national_plot = groups[2], groups[3]  # after the two legend entries
    city_lines = city_plot.findall(f"{NS}polyline")
    assert [len(p.get("points").split()) for p in city_lines] == [
        3
    ]  # 2020–2022; 2024 stands alone after the gap
    assert len(city_plot.findall(f"{NS}circle")) == 4
    assert len(national_plot.findall(f"{NS}polyline")) == 1 and len(national_plot.findall(f"{NS}rect")) == 5
    assert national_plot.find(f"{NS}polyline").get("stroke-dasharray") == "6 3"
    assert texts(root)[:2] == ["杭州", "全国"]
    assert [t for t in texts(root) if t in years] == years
    # the higher score is drawn higher
    city_2022 = float(city_plot.findall(f"{NS}circle")[2].get("cy"))
    national_2022 = float(national_plot.findall(f"{NS}rect")[2].get("y")) + 4.5
    assert city_2022 < national_2022
    single = parse(charts.trend_chart(series[1:], years, title="t", description="d"))
    assert "80.4" in texts(single) and "79.3" in texts(single)  # one series: every point labelled
    with pytest.raises(ChartError, match="'2019' is not one of the categories"):
        charts.trend_chart([TrendSeries("x", [TrendPoint("2019", 1)])], years, title="t", description="d")


def test_bar_chart_widths_are_proportional_to_the_rates() -> None:
    root = parse(charts.bar_chart(PROBLEM_RATES, title="t", description="d"))
    drawn = rows_of(root)
    widths = {row_label(g): float(g.find(f"{NS}rect[@class='chart-bar']").get("width")) for g in drawn[:4]}
    full = widths["全部"] / (65 / 205)
    assert widths["停车场"] == pytest.approx(full * 30 / 113, abs=0.02)
    assert widths["餐馆"] == pytest.approx(full * 35 / 87, abs=0.02)
    assert widths["加油站"] == 0
    assert "31.7%" in texts(drawn[0]) and "40.2%" in texts(drawn[2])
    assert "样本过少，不公布" in texts(drawn[4]) and drawn[4].find(f"{NS}rect[@class='chart-bar']") is None
    assert [t for t in texts(root) if t.endswith("%")][-5:] == ["0%", "25%", "50%", "75%", "100%"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (IntervalRow("甲", 90, 70, 80), r"'甲': estimate 90 lies outside its interval \[70, 80\]"),
        (IntervalRow("乙", math.nan, 70, 80), r"'乙': estimate is not a finite number"),
        (IntervalRow("丙", 75, 80, 70), r"'丙': interval \[80, 70\] has low > high"),
        (IntervalRow("丁", 75, 70, None), r"'丁': an interval needs both ends"),
    ],
)
def test_inputs_that_cannot_be_drawn_honestly_are_refused(row: IntervalRow, message: str) -> None:
    with pytest.raises(ChartError, match=message):
        charts.interval_chart([row], title="t", description="d")
