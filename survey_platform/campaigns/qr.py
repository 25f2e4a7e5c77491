"""QR codes of survey links (pure, with segno): SVG for print and pages, PNG for messages and slides.

Error correction level M (15% of the code may be damaged or covered) with segno's boost to a higher level when it
fits in the same size; a quiet zone of four modules, as ISO/IEC 18004 requires.
"""

from __future__ import annotations

import io

import segno

QUIET_ZONE = 4
PNG_SCALE = 10  # pixels per module: a 29-module code is 370 px wide, sharp on slides and in messages


def qr_code(url: str) -> segno.QRCode:
    """The (non-micro) QR code of ``url``."""
    return segno.make_qr(url, error="m", boost_error=True)


def qr_svg(url: str, *, title: str = "", scale: int = 8, inline: bool = False) -> str:
    """The code as SVG: a standalone file, or (``inline``) an ``<svg>`` element for an HTML page.

    The size is in modules times ``scale`` (user units), so it prints as sharp as the printer allows.
    """
    buffer = io.BytesIO()
    qr_code(url).save(
        buffer,
        kind="svg",
        scale=scale,
        border=QUIET_ZONE,
        title=title or None,
        xmldecl=not inline,
        svgns=True,
        svgclass="qr-code",
        light="#fff",  # a white background: scannable on a dark page too
        lineclass=None,
        omitsize=inline,
        nl=not inline,
    )
    return buffer.getvalue().decode("utf-8")


def qr_png(url: str, *, scale: int = PNG_SCALE) -> bytes:
    """The code as a black-and-white PNG."""
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    return buffer.getvalue()
