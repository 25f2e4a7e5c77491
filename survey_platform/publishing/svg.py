"""A small, deterministic SVG writer for the server-drawn charts (pure functions over plain values).

Everything a caller passes as text is escaped here, control characters that XML 1.0 forbids are dropped, and
numbers are written with at most two decimals, so equal inputs give byte-identical SVG.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def escape(text: object) -> str:
    """``text`` safe inside an XML element or a double-quoted attribute."""
    cleaned = _XML_FORBIDDEN.sub("", str(text))
    return "".join(_ESCAPES.get(c, c) for c in cleaned)


def num(value: float) -> str:
    """A coordinate or value with at most two decimals and no trailing zeros (``-0`` written as ``0``)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def element(tag: str, attributes: Mapping[str, object] | None = None, content: str | None = None) -> str:
    """``<tag a="v">content</tag>``; attributes whose value is None are left out, ``content`` is raw markup."""
    attrs = "".join(
        f' {name}="{num(value) if isinstance(value, float) else escape(value)}"'
        for name, value in (attributes or {}).items()
        if value is not None
    )
    if content is None:
        return f"<{tag}{attrs}/>"
    return f"<{tag}{attrs}>{content}</{tag}>"


def text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    cls: str | None = None,
    size: float | None = None,
    weight: str | None = None,
    transform: str | None = None,
    fill: str | None = None,
) -> str:
    """A ``<text>`` element (content escaped); ``y`` is the baseline."""
    return element(
        "text",
        {
            "x": float(x),
            "y": float(y),
            "text-anchor": None if anchor == "start" else anchor,
            "class": cls,
            "font-size": None if size is None else float(size),
            "font-weight": weight,
            "transform": transform,
            "fill": fill,  # only a fallback for the SVG outside the site: site.css styles the classes
        },
        escape(content),
    )


def line(
    x1: float, y1: float, x2: float, y2: float, cls: str, *, width: float = 1, dash: str | None = None
) -> str:
    return element(
        "line",
        {
            "x1": float(x1),
            "y1": float(y1),
            "x2": float(x2),
            "y2": float(y2),
            "class": cls,
            "stroke": "currentColor",  # fallback when the SVG is shown without the site's stylesheet
            "stroke-width": float(width),
            "stroke-dasharray": dash,
        },
    )


def group(cls: str | None, parts: Iterable[str]) -> str:
    return element("g", {"class": cls}, "".join(parts))


def document(
    width: float,
    height: float,
    *,
    kind: str,
    title: str,
    description: str,
    parts: Sequence[str],
    font_size: float,
) -> str:
    """The root ``<svg>``: ``role="img"`` named by its ``<title>`` and described by ``<desc>``."""
    head = element("title", None, escape(title)) + element("desc", None, escape(description))
    return element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": f"chart chart--{kind}",
            "role": "img",
            "viewBox": f"0 0 {num(width)} {num(height)}",
            "width": float(width),
            "height": float(height),
            "font-family": "sans-serif",
            "font-size": float(font_size),
        },
        head + "".join(parts),
    )


def text_width(content: str, size: float) -> float:
    """An estimate of the rendered width of ``content`` at ``size``: wide (CJK) characters 1 em, others 0.62 em."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.62 * size for c in content)


def wrap(content: str, width: float, size: float) -> list[str]:
    """``content`` broken into lines no wider than ``width`` (at spaces where possible, anywhere in CJK text)."""
    lines: list[str] = []
    current = ""
    for char in content:
        candidate = current + char
        if current and text_width(candidate, size) > width:
            cut = current.rfind(" ")
            if cut > 0 and char != " ":
                lines.append(current[:cut])
                current = current[cut + 1 :] + char
            else:
                lines.append(current.rstrip())
                current = char.lstrip()
        else:
            current = candidate
    if current.strip() or not lines:
        lines.append(current.strip())
    return lines


def nice_step(span: float, target: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10^k) giving about ``target`` intervals over ``span``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values inside [lo, hi]."""
    step = nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9) * step
    values = []
    value = first
    while value <= hi + step * 1e-9:
        values.append(round(value, 10))
        value = first + step * len(values)
    return values


def tick_labels(values: Sequence[float]) -> list[str]:
    """Tick values written with one number of decimals, the fewest that shows each exactly (0.08, 0.10)."""
    for decimals in range(5):
        if all(abs(round(v, decimals) - v) < 1e-9 for v in values):
            break
    return [f"{v:.{decimals}f}" for v in values]


def nice_range(values: Iterable[float], target: int = 5) -> tuple[float, float]:
    """An axis range covering ``values`` that starts and ends on round ticks."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return (0.0, 1.0)
    lo, hi = min(finite), max(finite)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    step = nice_step(hi - lo, target)
    return (math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step)
