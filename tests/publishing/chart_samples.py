"""Sample chart inputs shared by the chart tests and the browser's chart gallery (plain data, as pages pass it)."""

from __future__ import annotations

from survey_platform.publishing.charts import (
    BarRow,
    IndicatorPoint,
    IntervalRow,
    RankSetRow,
    Reference,
    TrendPoint,
    TrendSeries,
)

CITIES = [
    ("苏州", 91.65),
    ("无锡", 90.8),
    ("青岛", 90.4),
    ("杭州", 89.74),
    ("佛山", 88.9),
    ("宜昌", 88.1),
    ("南京", 87.6),
    ("宁波", 86.9),
    ("厦门", 86.2),
    ("成都", 85.0),
    ("长沙", 84.1),
    ("武汉", 83.3),
    ("郑州", 82.0),
    ("西安", 80.7),
    ("合肥", 79.9),
    ("南宁", 78.4),
    ("昆明", 77.2),
    ("兰州", 75.5),
    ("呼和浩特", 73.9),
    ("哈密", 71.72),
]


def interval_rows(highlight: str = "杭州") -> list[IntervalRow]:
    rows = [
        IntervalRow(name, score, score - 1.6 - i * 0.03, score + 1.6 + i * 0.03, highlight=name == highlight)
        for i, (name, score) in enumerate(CITIES)
    ]
    rows.append(IntervalRow("克拉玛依", None, note="样本不足，未排名"))
    return rows


NATIONAL = Reference(80.36, "全国 80.4")


def rank_rows() -> list[RankSetRow]:
    rows = []
    for i, (name, _) in enumerate(CITIES, start=1):
        low, high = max(1, i - 2 - i // 6), min(len(CITIES), i + 2 + i // 7)
        rows.append(RankSetRow(name, i, low, high, highlight=name == "杭州"))
    rows.append(RankSetRow("克拉玛依", None, None, None, note="未排名：样本不足"))
    return rows


QUADRANT_LABELS_ZH = {
    "keep_up": "优势区",
    "improve": "修补区",
    "low_priority": "机会区",
    "maintain": "维持区",
}
QUADRANT_LABELS_EN = {
    "keep_up": "Keep up",
    "improve": "Concentrate here",
    "low_priority": "Low priority",
    "maintain": "Possible overkill",
}

INDICATORS = [
    IndicatorPoint("供给丰富性", 0.071, 82.1),
    IndicatorPoint("供给便利性", 0.052, 85.63),
    IndicatorPoint("质量水平", 0.094, 80.2),
    IndicatorPoint("服务水平", 0.088, 79.1),
    IndicatorPoint("价格合理", 0.083, 76.0),
    IndicatorPoint("信息真实", 0.077, 77.9, highlight=True),
    IndicatorPoint("售后保障", 0.069, 75.3),
    IndicatorPoint("交易安全", 0.091, 73.56),
    IndicatorPoint("消费宣传", 0.038, 78.8),
]


def trend_series() -> tuple[list[TrendSeries], list[str]]:
    """A city with one release missing (2023) and the national figure, 2020–2024."""
    years = ["2020", "2021", "2022", "2023", "2024"]
    city = {"2020": 86.1, "2021": 87.0, "2022": 89.74, "2024": 89.2}
    national = {"2020": 79.32, "2021": 80.59, "2022": 78.81, "2023": 79.92, "2024": 80.36}
    return [
        TrendSeries("杭州", [TrendPoint(y, s, s - 1.5, s + 1.5) for y, s in city.items()]),
        TrendSeries("全国", [TrendPoint(y, s, s - 0.4, s + 0.4) for y, s in national.items()]),
    ], years


PROBLEM_RATES = [
    BarRow("全部", 65 / 205, 0.2571, 0.3840, highlight=True),
    BarRow("停车场", 30 / 113, 0.1925, 0.3539),
    BarRow("餐馆", 35 / 87, 0.3050, 0.5085),
    BarRow("加油站", 0.0, 0.0, 0.6576),
    BarRow("茶饮店", None, note="样本过少，不公布"),
]
