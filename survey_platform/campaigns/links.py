"""The public survey link of a campaign and city (pure): ``/s/{campaign}/{city}``, or ``/s/{campaign}`` for a campaign
without cities. The link printed in a QR code carries ``?via=qr``, so a response that came by scanning is recorded
with channel ``qr``; the same page opened any other way records ``online``."""

from __future__ import annotations

import urllib.parse

VIA_QR = "qr"


def survey_path(campaign: str, city: str | None = None) -> str:
    """``/s/2026-city/wuxi`` (codes are URL-safe by their patterns; quoted anyway)."""
    path = f"/s/{urllib.parse.quote(campaign, safe='')}"
    return f"{path}/{urllib.parse.quote(city, safe='')}" if city else path


def survey_url(base_url: str, campaign: str, city: str | None = None, *, via_qr: bool = True) -> str:
    """The absolute link under ``base_url`` (``https://host[/prefix]``), with ``?via=qr`` for printed codes."""
    url = base_url.rstrip("/") + survey_path(campaign, city)
    return f"{url}?via={VIA_QR}" if via_qr else url


def channel_of(via: str | None) -> str:
    """The channel a visit records: ``qr`` when it came through a printed code, else ``online``."""
    return "qr" if via == VIA_QR else "online"
