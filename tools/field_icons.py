"""Draw the field app's icons: ``static/img/field-icon.svg`` and its PNG renderings (192, 512, maskable 512).

One geometry (a 512-unit square) for both formats: a clipboard with a check mark on the platform's accent blue.
Run ``python tools/field_icons.py`` after changing it; the files are committed (nothing is downloaded).
Pillow draws the PNGs at four times the size and scales them down (anti-aliasing).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "survey_platform" / "pages" / "static" / "img"
ACCENT = "#0b4f8a"
WHITE = "#ffffff"
SOFT = "#e6eef7"
# (x0, y0, x1, y1, radius) in a 512 × 512 square
BACKGROUND = (0, 0, 512, 512, 96)
BOARD = (136, 104, 376, 424, 28)
CLIP = (200, 72, 312, 136, 18)
CHECK = ((192, 272), (240, 320), (328, 216))
LINES = ((192, 368, 320, 368),)
STROKE = 30


def svg() -> str:
    def rect(box: tuple[int, int, int, int, int], fill: str) -> str:
        x0, y0, x1, y1, r = box
        return f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{r}" fill="{fill}"/>'

    points = " ".join(f"{x},{y}" for x, y in CHECK)
    lines = "".join(
        f'<line x1="{a}" y1="{b}" x2="{c}" y2="{d}" stroke="{SOFT}" stroke-width="{STROKE - 6}" '
        'stroke-linecap="round"/>'
        for a, b, c, d in LINES
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" role="img" aria-label="外勤 / Field app">'
        f"{rect(BACKGROUND, ACCENT)}{rect(BOARD, WHITE)}{rect(CLIP, SOFT)}"
        f'<polyline points="{points}" fill="none" stroke="{ACCENT}" stroke-width="{STROKE + 6}" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
        f"{lines}</svg>\n"
    )


def png(size: int, *, maskable: bool = False) -> Image.Image:
    """The icon at ``size`` px; ``maskable`` keeps the drawing inside the central 80 % safe zone, full bleed."""
    scale = 4
    big = size * scale
    image = Image.new("RGB", (big, big), ACCENT)
    draw = ImageDraw.Draw(image)
    inner = 0.72 if maskable else 1.0
    offset = (1 - inner) / 2 * 512

    def at(value: float) -> float:
        return (offset + value * inner) * big / 512

    def rounded(box: tuple[int, int, int, int, int], fill: str) -> None:
        x0, y0, x1, y1, r = box
        draw.rounded_rectangle((at(x0), at(y0), at(x1), at(y1)), radius=r * inner * big / 512, fill=fill)

    if not maskable:  # the rounded corners of the plain icon show the page behind them
        image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        rounded(BACKGROUND, ACCENT)
    rounded(BOARD, WHITE)
    rounded(CLIP, SOFT)
    width = round((STROKE + 6) * inner * big / 512)
    draw.line([(at(x), at(y)) for x, y in CHECK], fill=ACCENT, width=width, joint="curve")
    for x, y in (CHECK[0], CHECK[-1]):
        r = width / 2
        draw.ellipse((at(x) - r, at(y) - r, at(x) + r, at(y) + r), fill=ACCENT)
    for a, b, c, d in LINES:
        w = round((STROKE - 6) * inner * big / 512)
        draw.line([(at(a), at(b)), (at(c), at(d))], fill=SOFT, width=w)
        for x, y in ((a, b), (c, d)):
            draw.ellipse((at(x) - w / 2, at(y) - w / 2, at(x) + w / 2, at(y) + w / 2), fill=SOFT)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    (OUT / "field-icon.svg").write_text(svg(), encoding="utf-8")
    png(192).save(OUT / "field-icon-192.png", optimize=True)
    png(512).save(OUT / "field-icon-512.png", optimize=True)
    png(512, maskable=True).save(OUT / "field-icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
