"""The server-drawn charts in Chromium at phone size, styled by site.css: nothing cut off, no text over other
text, text at least 11 CSS px, no sideways scrolling, axe-core clean; screenshots in both languages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import check_accessible, has_no_horizontal_scroll, screenshot, watch_page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "publishing"))
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

from survey_platform.pages.assets import STATIC_DIR
from survey_platform.publishing import charts
from survey_platform.publishing.charts import IndicatorPoint, IntervalRow

LONG_EN = [
    IntervalRow("Consumer rights protection and public education", 78.2, 76.9, 79.5),
    IntervalRow("Supply convenience", 85.6, 84.8, 86.4, highlight=True),
    IntervalRow("Transaction security", 73.6, 72.1, 75.1),
]


def gallery(language: str) -> str:
    series, years = trend_series()
    labels = QUADRANT_LABELS_ZH if language == "zh-CN" else QUADRANT_LABELS_EN
    points = (
        INDICATORS
        if language == "zh-CN"
        else [
            IndicatorPoint(f"Indicator {i} {p.label}", p.importance, p.performance, p.highlight)
            for i, p in enumerate(INDICATORS)
        ]
    )
    figures = [
        charts.interval_chart(
            interval_rows(),
            title="城市得分与95%置信区间",
            description="d",
            reference=NATIONAL,
            axis_label="得分",
        ),
        charts.rank_set_chart(rank_rows(), 20, title="排名与排名区间", description="d", axis_label="名次"),
        charts.quadrant_chart(
            points,
            0.07,
            78.0,
            title="四分图",
            description="d",
            quadrant_labels=labels,
            importance_label="重要性 importance",
            performance_label="表现 performance",
        ),
        charts.trend_chart(series, years, title="历年得分", description="d", axis_label="得分"),
        charts.bar_chart(PROBLEM_RATES, title="问题率", description="d", axis_label="问题率"),
        charts.interval_chart(LONG_EN, title="Indicators", description="d"),
    ]
    body = "".join(
        f"<figure><figcaption>图 {n}</figcaption>{svg}</figure>" for n, svg in enumerate(figures, 1)
    )
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>charts</title></head>'
        f'<body><main class="wrap"><h1>charts</h1>{body}</main></body></html>'
    )


MEASURE = """
() => Array.from(document.querySelectorAll('svg.chart')).map((svg) => {
  const box = svg.getBoundingClientRect();
  const texts = Array.from(svg.querySelectorAll('text')).map((t) => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, cls: t.getAttribute('class') || '', left: r.left, right: r.right,
            top: r.top, bottom: r.bottom, size: parseFloat(getComputedStyle(t).fontSize) * box.width / 340};
  });
  return {kind: svg.getAttribute('class'), left: box.left, right: box.right, top: box.top, bottom: box.bottom, texts};
})
"""


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_charts_are_legible_at_phone_size(phone: Any, language: str) -> None:
    watched = watch_page(phone, "", guard_routes=True)  # a page of its own: no server needed
    page = watched.page
    page.set_content(gallery(language))
    page.add_style_tag(content=(STATIC_DIR / "css" / "site.css").read_text(encoding="utf-8"))
    assert has_no_horizontal_scroll(page)
    for chart in page.evaluate(MEASURE):
        assert chart["right"] <= 360, chart["kind"]
        for t in chart["texts"]:
            where = f"{chart['kind']}: {t['text']!r}"
            assert chart["left"] - 0.5 <= t["left"] and t["right"] <= chart["right"] + 0.5, (
                f"{where} is cut off"
            )
            assert chart["top"] - 0.5 <= t["top"] and t["bottom"] <= chart["bottom"] + 0.5, (
                f"{where} is cut off"
            )
            if "chart-point-number" not in t["cls"]:
                assert t["size"] >= 11, f"{where} is {t['size']:.1f} px"
        words = [t for t in chart["texts"] if "chart-point-number" not in t["cls"]]
        for i, a in enumerate(words):
            for b in words[i + 1 :]:
                overlap_x = min(a["right"], b["right"]) - max(a["left"], b["left"])
                overlap_y = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
                assert overlap_x <= 1 or overlap_y <= 1, (
                    f"{chart['kind']}: {a['text']!r} overlaps {b['text']!r}"
                )
    check_accessible(page)
    screenshot(page, f"charts-{language}")
    watched.assert_clean()
