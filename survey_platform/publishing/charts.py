"""Server-drawn SVG charts: pure functions from plain rows to SVG strings.

Every chart is ``role="img"`` with a ``<title>`` and a ``<desc>`` (the page also puts a table or a description
beside it for screen readers); text is ``<text>`` (selectable, translatable, readable Chinese); colours come from
the ``chart-*`` classes of ``site.css`` (no ``style`` attributes: the Content Security Policy forbids them), and
nothing is told by colour alone: a highlighted row is bold with a diamond marker, series differ by marker shape and
line pattern, quadrants carry their names. The ``viewBox`` is 340 units wide (a 360 px phone's content width), so
12–13 unit text stays legible when the SVG is scaled to the page; long lists make a taller chart, not smaller text.

All labels arrive already translated; everything is escaped. The output depends only on the arguments (no ids,
no clocks, numbers with at most two decimals), so a chart can be drawn once, cached and compared byte for byte.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

from scoring.drivers import QUADRANTS
from survey_platform.publishing.svg import (
    document,
    element,
    group,
    line,
    nice_range,
    num,
    text,
    text_width,
    tick_labels,
    ticks,
    wrap,
)

WIDTH = 340.0
FONT = 13.0  # labels
SMALL = 12.0  # ticks, values, notes
PAD = 6.0
ROW = 26.0  # one row of a row chart with its label on the left
LINE = 16.0  # one line of a wrapped label
MARK = 20.0  # the marks of a row whose label stands above them
LABEL_SHARE = 0.38  # labels wider than this share of the width go above their marks
AXIS_TEXT = 16.0


class ChartError(ValueError):
    """Chart input that cannot be drawn honestly (an estimate outside its interval, an unknown quadrant...)."""


# ---------------------------------------------------------------------------------------------------- inputs


@dataclasses.dataclass(frozen=True, slots=True)
class IntervalRow:
    """One city (or dimension) of an interval chart: its estimate and confidence interval."""

    label: str
    estimate: float | None
    low: float | None = None
    high: float | None = None
    highlight: bool = False
    note: str = ""  # shown instead of the marks when there is no estimate (e.g. "样本不足 / too few answers")


@dataclasses.dataclass(frozen=True, slots=True)
class Reference:
    """A vertical reference line, e.g. the national figure."""

    value: float
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class RankSetRow:
    """One city's point rank and rank confidence set [low, high] (1 = best)."""

    label: str
    rank: int | None
    low: int | None
    high: int | None
    highlight: bool = False
    note: str = ""  # e.g. "未排名：样本不足 / not ranked: too few answers"


@dataclasses.dataclass(frozen=True, slots=True)
class BarRow:
    """One group's rate (a fraction, 0–1) with its interval (e.g. Wilson's)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    highlight: bool = False
    note: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class IndicatorPoint:
    """One indicator on the importance–performance grid."""

    label: str
    importance: float
    performance: float
    highlight: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class TrendPoint:
    category: str  # the release (e.g. "2024")
    estimate: float | None
    low: float | None = None
    high: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class TrendSeries:
    label: str
    points: Sequence[TrendPoint]


# --------------------------------------------------------------------------------------------------- helpers


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _check_interval(label: str, estimate: float | None, low: float | None, high: float | None) -> None:
    for name, value in (("estimate", estimate), ("low", low), ("high", high)):
        if value is not None and not math.isfinite(value):
            raise ChartError(f"{label!r}: {name} is not a finite number ({value!r})")
    if (low is None) != (high is None):
        raise ChartError(f"{label!r}: an interval needs both ends (low={low!r}, high={high!r})")
    if low is not None and high is not None:
        if low > high:
            raise ChartError(f"{label!r}: interval [{low}, {high}] has low > high")
        if estimate is not None and not low - 1e-9 <= estimate <= high + 1e-9:
            raise ChartError(f"{label!r}: estimate {estimate} lies outside its interval [{low}, {high}]")


@dataclasses.dataclass(frozen=True, slots=True)
class _Scale:
    lo: float
    hi: float
    left: float
    right: float

    def __call__(self, value: float) -> float:
        clamped = min(max(value, self.lo), self.hi)
        return self.left + (clamped - self.lo) / (self.hi - self.lo) * (self.right - self.left)

    def clipped(self, value: float) -> bool:
        return value < self.lo or value > self.hi


def _axis(axis: tuple[float, float] | None, values: Sequence[float]) -> tuple[float, float]:
    if axis is None:
        return nice_range(values)
    lo, hi = float(axis[0]), float(axis[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ChartError(f"axis {axis!r} must be two finite numbers, low < high")
    return lo, hi


def _marker(x: float, y: float, *, highlight: bool, size: float = 4.5) -> str:
    """A circle, or a diamond for a highlighted row (so highlighting is not told by colour alone)."""
    if highlight:
        s = size * 1.45
        points = f"{num(x)},{num(y - s)} {num(x + s)},{num(y)} {num(x)},{num(y + s)} {num(x - s)},{num(y)}"
        return element("polygon", {"points": points, "class": "chart-point"})
    return element("circle", {"cx": float(x), "cy": float(y), "r": float(size), "class": "chart-point"})


def _whisker(
    scale: _Scale, low: float, high: float, y: float, *, width: float = 2, cap: float = 4
) -> list[str]:
    parts = [line(scale(low), y, scale(high), y, "chart-interval", width=width)]
    for end in (low, high):
        if not scale.clipped(end):  # an end cut off by the axis gets no cap
            parts.append(line(scale(end), y - cap, scale(end), y + cap, "chart-interval", width=width))
    return parts


# ------------------------------------------------------------------------------------------ the row charts


@dataclasses.dataclass(frozen=True, slots=True)
class _Row:
    label: str
    value_text: str
    highlight: bool
    note: str
    marks: Callable[[_Scale, float], list[str]] | None  # None: no estimate, the note is shown


def _merged(bands: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Adjacent vertical extents joined, so a grid line is drawn once across consecutive rows."""
    merged: list[tuple[float, float]] = []
    for top, bottom in bands:
        if merged and abs(merged[-1][1] - top) < 1e-9:
            merged[-1] = (merged[-1][0], bottom)
        else:
            merged.append((top, bottom))
    return merged


def _row_chart(
    *,
    kind: str,
    title: str,
    description: str,
    rows: Sequence[_Row],
    domain: tuple[float, float],
    tick_values: Sequence[float],
    tick_text: Sequence[str],
    reference: Reference | None = None,
    axis_label: str = "",
) -> str:
    """Rows of marks against one horizontal axis: labels left (or above when long), values right."""
    if not rows:
        raise ChartError(f"{kind} chart: no rows to draw")
    label_width = max(text_width(r.label, FONT) for r in rows)
    value_width = max(text_width(r.value_text, SMALL) for r in rows) + PAD
    stacked = label_width > WIDTH * LABEL_SHARE - PAD
    left = PAD * 2 if stacked else PAD + label_width + PAD * 2
    scale = _Scale(domain[0], domain[1], left, WIDTH - PAD - value_width - PAD)
    top_axis = len(rows) > 12  # long lists repeat the tick labels above the rows

    parts: list[str] = []
    y = PAD
    if reference is not None:
        y += LINE + 2
    if top_axis:
        y += AXIS_TEXT
    plot_top = y

    body: list[str] = []
    bands: list[tuple[float, float]] = []
    for index, row in enumerate(rows):
        lines = wrap(row.label, WIDTH - 2 * PAD, FONT) if stacked else [row.label]
        height = len(lines) * LINE + MARK if stacked else ROW
        mark_y = y + height - MARK / 2 if stacked else y + ROW / 2
        row_parts: list[str] = []
        if index % 2 == 1:
            row_parts.append(
                element(
                    "rect",
                    {
                        "x": 0.0,
                        "y": float(y),
                        "width": WIDTH,
                        "height": float(height),
                        "class": "chart-stripe",
                        "fill": "none",
                    },
                )
            )
        if stacked:
            for n, text_line in enumerate(lines):
                row_parts.append(text(PAD, y + (n + 1) * LINE - 3, text_line, cls="chart-label"))
        else:
            row_parts.append(
                text(left - PAD, mark_y + FONT * 0.35, row.label, anchor="end", cls="chart-label")
            )
        if row.marks is None:
            row_parts.append(
                text(scale.left, mark_y + SMALL * 0.35, row.note or "—", cls="chart-muted", size=SMALL)
            )
        else:
            row_parts.extend(row.marks(scale, mark_y))
            row_parts.append(
                text(
                    WIDTH - PAD,
                    mark_y + SMALL * 0.35,
                    row.value_text,
                    anchor="end",
                    cls="chart-value",
                    size=SMALL,
                )
            )
        body.append(group("chart-row chart-row--highlight" if row.highlight else "chart-row", row_parts))
        bands.append((mark_y - MARK / 2, mark_y + MARK / 2) if stacked else (y, y + height))
        y += height
    plot_bottom = y

    # grid lines run behind the marks only, never through a label standing above its marks
    grid = [
        line(scale(v), top, scale(v), bottom, "chart-grid")
        for top, bottom in _merged(bands)
        for v in tick_values
    ]
    axis = [line(scale.left, plot_bottom, scale.right, plot_bottom, "chart-axis")]
    labels = [
        text(
            scale(v),
            plot_bottom + AXIS_TEXT - 3,
            written,
            anchor="middle",
            cls="chart-muted",
            size=SMALL,
        )
        for v, written in zip(tick_values, tick_text, strict=True)
    ]
    if top_axis:
        axis.append(line(scale.left, plot_top, scale.right, plot_top, "chart-axis"))
        labels += [
            text(scale(v), plot_top - 4, written, anchor="middle", cls="chart-muted", size=SMALL)
            for v, written in zip(tick_values, tick_text, strict=True)
        ]
    height = plot_bottom + AXIS_TEXT
    if axis_label:
        labels.append(
            text((scale.left + scale.right) / 2, height + LINE - 2, axis_label, anchor="middle", size=SMALL)
        )
        height += LINE
    parts += grid + body + axis + labels

    if reference is not None:
        x = scale(reference.value)
        parts.append(line(x, plot_top - 2, x, plot_bottom, "chart-reference", width=1.5, dash="4 3"))
        label = f"{reference.label}"
        w = text_width(label, SMALL)
        start = min(max(x - w / 2, PAD), WIDTH - PAD - w)
        parts.append(text(start, PAD + LINE - 4, label, cls="chart-reference-label", size=SMALL))
    return document(
        WIDTH, height + PAD, kind=kind, title=title, description=description, parts=parts, font_size=FONT
    )


def interval_chart(
    rows: Sequence[IntervalRow],
    *,
    title: str,
    description: str,
    axis: tuple[float, float] | None = None,
    reference: Reference | None = None,
    digits: int = 1,
    axis_label: str = "",
) -> str:
    """Estimates with confidence intervals, one row per city, in the order given (e.g. by score).

    ``axis`` (low, high) fixes the scale (default: round values around the data and the reference); parts of an
    interval beyond it are cut and lose their end cap. A row without an estimate shows its ``note``.
    """
    for row in rows:
        _check_interval(row.label, row.estimate, row.low, row.high)
    values = [v for r in rows for v in (r.estimate, r.low, r.high) if _finite(v)]
    if reference is not None:
        if not math.isfinite(reference.value):
            raise ChartError(f"reference {reference.label!r} is not a finite number")
        values.append(reference.value)
    domain = _axis(axis, values)

    def marks(row: IntervalRow) -> Callable[[_Scale, float], list[str]]:
        def draw(scale: _Scale, y: float) -> list[str]:
            parts = (
                _whisker(scale, row.low, row.high, y) if row.low is not None and row.high is not None else []
            )
            return [*parts, _marker(scale(row.estimate), y, highlight=row.highlight)]  # type: ignore[arg-type]

        return draw

    drawn = [
        _Row(
            label=row.label,
            value_text=f"{row.estimate:.{digits}f}" if row.estimate is not None else "",
            highlight=row.highlight,
            note=row.note,
            marks=marks(row) if row.estimate is not None else None,
        )
        for row in rows
    ]
    return _row_chart(
        kind="interval",
        title=title,
        description=description,
        rows=drawn,
        domain=domain,
        tick_values=(interval_ticks := ticks(*domain)),
        tick_text=tick_labels(interval_ticks),
        reference=reference,
        axis_label=axis_label,
    )


def rank_set_chart(
    rows: Sequence[RankSetRow],
    n_ranked: int,
    *,
    title: str,
    description: str,
    axis_label: str = "",
) -> str:
    """Each city's rank confidence set [low, high] as a bar over ranks 1…``n_ranked`` (best at the left), with
    its point rank marked; the text beside it is the set ("3–9"), never the point rank alone."""
    if n_ranked < 1:
        raise ChartError(f"n_ranked must be at least 1, got {n_ranked}")
    for row in rows:
        if row.rank is None:
            continue
        if row.low is None or row.high is None:
            raise ChartError(f"{row.label!r}: a ranked city needs its rank set (low and high)")
        if not 1 <= row.low <= row.rank <= row.high <= n_ranked:
            raise ChartError(
                f"{row.label!r}: rank {row.rank} with set [{row.low}, {row.high}] must satisfy "
                f"1 ≤ low ≤ rank ≤ high ≤ {n_ranked}"
            )
    domain = (0.5, n_ranked + 0.5)
    tick_values = sorted({1.0, *(t for t in ticks(0, n_ranked) if t >= 1 and t == int(t))})
    rank_ticks = [str(int(v)) for v in tick_values]

    def marks(row: RankSetRow) -> Callable[[_Scale, float], list[str]]:
        def draw(scale: _Scale, y: float) -> list[str]:
            band = element(
                "line",
                {
                    "x1": float(scale(row.low - 0.4)),  # type: ignore[operator]
                    "y1": float(y),
                    "x2": float(scale(row.high + 0.4)),  # type: ignore[operator]
                    "y2": float(y),
                    "class": "chart-interval chart-rank-set",
                    "stroke": "currentColor",
                    "stroke-width": 7.0,
                    "stroke-linecap": "round",
                    "stroke-opacity": 0.45,
                },
            )
            return [band, _marker(scale(row.rank), y, highlight=row.highlight)]  # type: ignore[arg-type]

        return draw

    drawn = [
        _Row(
            label=row.label,
            value_text=(f"{row.low}–{row.high}" if row.low != row.high else f"{row.low}") if row.rank else "",
            highlight=row.highlight,
            note=row.note,
            marks=marks(row) if row.rank is not None else None,
        )
        for row in rows
    ]
    return _row_chart(
        kind="rank-set",
        title=title,
        description=description,
        rows=drawn,
        domain=domain,
        tick_values=tick_values,
        tick_text=rank_ticks,
        axis_label=axis_label,
    )


def bar_chart(
    rows: Sequence[BarRow],
    *,
    title: str,
    description: str,
    axis: tuple[float, float] = (0.0, 1.0),
    digits: int = 1,
    axis_label: str = "",
) -> str:
    """Rates (fractions, shown as percentages) as bars with their intervals, e.g. problem rates with Wilson
    intervals; the axis runs 0–100% unless ``axis`` says otherwise."""
    for row in rows:
        _check_interval(row.label, row.value, row.low, row.high)
    domain = _axis(axis, [])

    def marks(row: BarRow) -> Callable[[_Scale, float], list[str]]:
        def draw(scale: _Scale, y: float) -> list[str]:
            start, end = scale(max(domain[0], 0.0)), scale(row.value)  # type: ignore[arg-type]
            bar = element(
                "rect",
                {
                    "x": float(min(start, end)),
                    "y": float(y - 6),
                    "width": float(abs(end - start)),
                    "height": 12.0,
                    "class": "chart-bar",
                    "fill": "none",
                    "stroke": "currentColor",
                    "stroke-width": 2.0 if row.highlight else 1.0,
                },
            )
            whisker = (
                _whisker(scale, row.low, row.high, y, width=1.5)
                if row.low is not None and row.high is not None
                else []
            )
            return [bar, *whisker]

        return draw

    drawn = [
        _Row(
            label=row.label,
            value_text=f"{row.value * 100:.{digits}f}%" if row.value is not None else "",
            highlight=row.highlight,
            note=row.note,
            marks=marks(row) if row.value is not None else None,
        )
        for row in rows
    ]
    return _row_chart(
        kind="bar",
        title=title,
        description=description,
        rows=drawn,
        domain=domain,
        tick_values=(bar_ticks := ticks(*domain, target=4)),
        tick_text=[f"{label}%" for label in tick_labels([v * 100 for v in bar_ticks])],
        axis_label=axis_label,
    )


# ------------------------------------------------------------------------------------------ quadrant chart


def quadrant_chart(
    points: Sequence[IndicatorPoint],
    importance_cut: float,
    performance_cut: float,
    *,
    title: str,
    description: str,
    quadrant_labels: Mapping[str, str],
    importance_label: str,
    performance_label: str,
    importance_range: tuple[float, float] | None = None,
    performance_range: tuple[float, float] | None = None,
) -> str:
    """The importance–performance grid (四分图, Martilla & James 1977): performance across, importance up, the
    cuts dividing it into the four quadrants of :data:`scoring.drivers.QUADRANTS` (``quadrant_labels`` names each
    code in the page's language). Points are numbered; the legend under the grid gives each number's label."""
    missing = sorted(set(QUADRANTS) - set(quadrant_labels))
    unknown = sorted(set(quadrant_labels) - set(QUADRANTS))
    if missing or unknown:
        raise ChartError(
            f"quadrant_labels: missing {missing}, unknown {unknown}; expected {sorted(QUADRANTS)}"
        )
    if not points:
        raise ChartError("quadrant chart: no indicators to draw")
    for p in points:
        if not (math.isfinite(p.importance) and math.isfinite(p.performance)):
            raise ChartError(f"{p.label!r}: importance and performance must be finite numbers")
    for name, cut in (("importance_cut", importance_cut), ("performance_cut", performance_cut)):
        if not math.isfinite(cut):
            raise ChartError(f"{name} must be a finite number")

    def padded(values: list[float]) -> tuple[float, float]:
        lo, hi = min(values), max(values)
        margin = (hi - lo) * 0.08 or abs(hi) * 0.05 or 1.0
        return nice_range([lo - margin, hi + margin], target=4)

    x_domain = (
        _axis(performance_range, [])
        if performance_range
        else padded([p.performance for p in points] + [performance_cut])
    )
    y_domain = (
        _axis(importance_range, [])
        if importance_range
        else padded([p.importance for p in points] + [importance_cut])
    )
    plot_left, plot_right, plot_top = 50.0, WIDTH - PAD - 4, PAD + 2
    size = plot_right - plot_left
    plot_bottom = plot_top + size
    x = _Scale(*x_domain, plot_left, plot_right)
    y_up = _Scale(*y_domain, 0.0, size)

    def y(value: float) -> float:
        return plot_bottom - y_up(value)

    cx, cy = x(performance_cut), y(importance_cut)
    regions = {
        # code: (x, y, width, height, label anchor x, anchor, label top?)
        "improve": (plot_left, plot_top, cx - plot_left, cy - plot_top, plot_left + 5, "start", True),
        "keep_up": (cx, plot_top, plot_right - cx, cy - plot_top, plot_right - 5, "end", True),
        "low_priority": (plot_left, cy, cx - plot_left, plot_bottom - cy, plot_left + 5, "start", False),
        "maintain": (cx, cy, plot_right - cx, plot_bottom - cy, plot_right - 5, "end", False),
    }
    parts: list[str] = []
    labels: list[str] = []
    for code, (rx, ry, rw, rh, tx, anchor, top) in regions.items():
        parts.append(
            element(
                "rect",
                {
                    "x": float(rx),
                    "y": float(ry),
                    "width": float(max(rw, 0)),
                    "height": float(max(rh, 0)),
                    "class": f"chart-quadrant chart-quadrant--{code}",
                    "fill": "none",
                },
            )
        )
        lines = wrap(quadrant_labels[code], max(rw, 40) - 10, SMALL * 1.1)  # bold text is wider
        for n, text_line in enumerate(lines):
            ty = plot_top + LINE * (n + 1) - 2 if top else plot_bottom - 6 - LINE * (len(lines) - 1 - n)
            labels.append(
                text(tx, ty, text_line, anchor=anchor, cls="chart-quadrant-label", size=SMALL, weight="700")
            )
    x_ticks = ticks(*x_domain, target=4)
    for value, written in zip(x_ticks, tick_labels(x_ticks), strict=True):
        parts.append(line(x(value), plot_top, x(value), plot_bottom, "chart-grid"))
        labels.append(
            text(
                x(value),
                plot_bottom + AXIS_TEXT + 3,
                written,
                anchor="middle",
                cls="chart-muted",
                size=SMALL,
            )
        )
    y_ticks = ticks(*y_domain, target=4)
    for value, written in zip(y_ticks, tick_labels(y_ticks), strict=True):
        parts.append(line(plot_left, y(value), plot_right, y(value), "chart-grid"))
        labels.append(
            text(
                plot_left - 4,
                y(value) + SMALL * 0.35,
                written,
                anchor="end",
                cls="chart-muted",
                size=SMALL,
            )
        )
    parts.append(line(cx, plot_top, cx, plot_bottom, "chart-reference", width=1.5, dash="5 3"))
    parts.append(line(plot_left, cy, plot_right, cy, "chart-reference", width=1.5, dash="5 3"))
    parts.append(
        element(
            "rect",
            {
                "x": plot_left,
                "y": plot_top,
                "width": float(size),
                "height": float(size),
                "class": "chart-axis",
                "fill": "none",
                "stroke": "currentColor",
            },
        )
    )
    parts += labels
    mid_y = (plot_top + plot_bottom) / 2
    parts.append(
        text(
            14, mid_y, importance_label, anchor="middle", size=SMALL, transform=f"rotate(-90 14 {num(mid_y)})"
        )
    )
    parts.append(
        text(
            (plot_left + plot_right) / 2,
            plot_bottom + AXIS_TEXT + LINE + 4,
            performance_label,
            anchor="middle",
            size=SMALL,
        )
    )

    marks: list[str] = []
    legend: list[str] = []
    legend_y = plot_bottom + AXIS_TEXT + LINE + 14
    for number, p in enumerate(points, start=1):
        px, py = x(p.performance), y(p.importance)
        shape = (
            _marker(px, py, highlight=True, size=8)
            if p.highlight
            else element("circle", {"cx": float(px), "cy": float(py), "r": 9.0, "class": "chart-point"})
        )
        marks.append(
            group(
                "chart-row chart-row--highlight" if p.highlight else "chart-row",
                [
                    shape,
                    text(
                        px,
                        py + 3.5,
                        str(number),
                        anchor="middle",
                        cls="chart-point-number",
                        size=10.0,
                        fill="#fff",
                    ),
                ],
            )
        )
        lines = wrap(f"{number}  {p.label}", WIDTH - 2 * PAD, FONT)
        entry = []
        for text_line in lines:
            legend_y += LINE + 2
            entry.append(text(PAD, legend_y, text_line, cls="chart-label"))
        legend.append(group("chart-row chart-row--highlight" if p.highlight else "chart-row", entry))
    parts += marks + legend
    return document(
        WIDTH,
        legend_y + PAD * 2,
        kind="quadrant",
        title=title,
        description=description,
        parts=parts,
        font_size=FONT,
    )


# --------------------------------------------------------------------------------------------- trend chart

_SHAPES = ("circle", "square", "triangle", "diamond")
_DASHES = (None, "6 3", "2 3", "8 3 2 3")


def _shape(kind: str, x: float, y: float, size: float = 4.5) -> str:
    if kind == "circle":
        return element("circle", {"cx": float(x), "cy": float(y), "r": float(size), "class": "chart-point"})
    if kind == "square":
        return element(
            "rect",
            {
                "x": float(x - size),
                "y": float(y - size),
                "width": float(2 * size),
                "height": float(2 * size),
                "class": "chart-point",
            },
        )
    s = size * 1.35
    if kind == "triangle":
        points = f"{num(x)},{num(y - s)} {num(x + s)},{num(y + s * 0.8)} {num(x - s)},{num(y + s * 0.8)}"
    else:
        points = f"{num(x)},{num(y - s)} {num(x + s)},{num(y)} {num(x)},{num(y + s)} {num(x - s)},{num(y)}"
    return element("polygon", {"points": points, "class": "chart-point"})


def trend_chart(
    series: Sequence[TrendSeries],
    categories: Sequence[str],
    *,
    title: str,
    description: str,
    axis: tuple[float, float] | None = None,
    digits: int = 1,
    axis_label: str = "",
) -> str:
    """Scores over releases (``categories``, oldest first) with their intervals: one line per series (a city,
    the national figure...), told apart by marker shape and line pattern as well as colour, named in a legend
    above the plot. A missing release breaks the line. With one series and up to 8 releases each point is
    labelled with its value."""
    if not categories or len(set(categories)) != len(categories):
        raise ChartError(f"categories must be distinct and not empty, got {list(categories)!r}")
    if not series or len(series) > len(_SHAPES):
        raise ChartError(f"trend chart: 1 to {len(_SHAPES)} series, got {len(series)}")
    known = set(categories)
    for s in series:
        seen: set[str] = set()
        for p in s.points:
            if p.category not in known:
                raise ChartError(
                    f"{s.label!r}: release {p.category!r} is not one of the categories {list(categories)}"
                )
            if p.category in seen:
                raise ChartError(f"{s.label!r}: release {p.category!r} appears twice")
            seen.add(p.category)
            _check_interval(f"{s.label} {p.category}", p.estimate, p.low, p.high)
    values = [v for s in series for p in s.points for v in (p.estimate, p.low, p.high) if _finite(v)]
    domain = _axis(axis, values)

    parts: list[str] = []
    legend_y = PAD
    for index, s in enumerate(series):
        legend_y += LINE + 2
        sample_y = legend_y - 4
        parts.append(
            group(
                f"chart-series chart-series-{index}",
                [
                    line(PAD, sample_y, PAD + 26, sample_y, "chart-line", width=2, dash=_DASHES[index]),
                    _shape(_SHAPES[index], PAD + 13, sample_y),
                    text(PAD + 34, legend_y, s.label, cls="chart-label"),
                ],
            )
        )
    plot_left, plot_right = 44.0, WIDTH - PAD - 6
    plot_top = legend_y + LINE
    plot_bottom = plot_top + 190.0
    y_up = _Scale(*domain, 0.0, plot_bottom - plot_top)

    def y(value: float) -> float:
        return plot_bottom - y_up(value)

    slot = (plot_right - plot_left) / len(categories)
    x_of = {c: plot_left + slot * (i + 0.5) for i, c in enumerate(categories)}
    y_ticks = ticks(*domain, target=4)
    for value, written in zip(y_ticks, tick_labels(y_ticks), strict=True):
        parts.append(line(plot_left, y(value), plot_right, y(value), "chart-grid"))
        parts.append(
            text(
                plot_left - 4,
                y(value) + SMALL * 0.35,
                written,
                anchor="end",
                cls="chart-muted",
                size=SMALL,
            )
        )
    parts.append(line(plot_left, plot_bottom, plot_right, plot_bottom, "chart-axis"))

    widest = max(text_width(c, SMALL) for c in categories)
    rotate = widest > slot - 4
    for c in categories:
        cx = x_of[c]
        if rotate:
            ty = plot_bottom + 12
            parts.append(
                text(
                    cx,
                    ty,
                    c,
                    anchor="end",
                    cls="chart-muted",
                    size=SMALL,
                    transform=f"rotate(-40 {num(cx)} {num(ty)})",
                )
            )
        else:
            parts.append(
                text(cx, plot_bottom + AXIS_TEXT - 2, c, anchor="middle", cls="chart-muted", size=SMALL)
            )
    bottom = plot_bottom + (widest * math.sin(math.radians(40)) + 16 if rotate else AXIS_TEXT)

    label_values = len(series) == 1 and len(categories) <= 8
    for index, s in enumerate(series):
        offset = (index - (len(series) - 1) / 2) * 6
        by_category = {p.category: p for p in s.points}
        drawn: list[str] = []
        segment: list[str] = []
        segments: list[list[str]] = []
        for c in categories:
            p = by_category.get(c)
            if p is None or p.estimate is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{num(x_of[c] + offset)},{num(y(p.estimate))}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                drawn.append(
                    element(
                        "polyline",
                        {
                            "points": " ".join(seg),
                            "class": "chart-line",
                            "fill": "none",
                            "stroke": "currentColor",
                            "stroke-width": 2.0,
                            "stroke-dasharray": _DASHES[index],
                        },
                    )
                )
        for c in categories:
            p = by_category.get(c)
            if p is None or p.estimate is None:
                continue
            px = x_of[c] + offset
            if p.low is not None and p.high is not None:
                drawn.append(line(px, y(p.low), px, y(p.high), "chart-interval", width=1.5))
                for end in (p.low, p.high):
                    drawn.append(line(px - 4, y(end), px + 4, y(end), "chart-interval", width=1.5))
            drawn.append(_shape(_SHAPES[index], px, y(p.estimate)))
            if label_values:
                top = y(p.high if p.high is not None else p.estimate)
                drawn.append(
                    text(
                        px,
                        max(top - 6, plot_top + SMALL),
                        f"{p.estimate:.{digits}f}",
                        anchor="middle",
                        cls="chart-value",
                        size=SMALL,
                    )
                )
        parts.append(group(f"chart-series chart-series-{index}", drawn))
    if axis_label:
        mid_y = (plot_top + plot_bottom) / 2
        parts.append(
            text(12, mid_y, axis_label, anchor="middle", size=SMALL, transform=f"rotate(-90 12 {num(mid_y)})")
        )
    return document(
        WIDTH,
        bottom + PAD * 2,
        kind="trend",
        title=title,
        description=description,
        parts=parts,
        font_size=FONT,
    )
