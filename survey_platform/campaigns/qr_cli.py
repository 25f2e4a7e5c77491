"""``survey-platform qr CAMPAIGN [--city CODE] [-o DIR]``: the QR codes and A4 posters of a campaign's survey links.

For each city (the one given, else every city of the campaign; a campaign without cities has one link) it writes
``CAMPAIGN[-CITY].svg`` and ``.png`` (the code of the link with ``?via=qr``) and ``CAMPAIGN[-CITY]-poster.html`` (a
self-contained A4 page to print: the campaign's name, the code, the link to type and the privacy promise). The
links start with ``--base-url`` or ``SURVEY_PUBLIC_URL``, the address citizens reach the service at.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from survey_platform.commands import _settings, _with_database, console
from survey_platform.settings import Settings, SettingsError, public_url
from survey_platform.storage.errors import NotFound


def written_files(code: str, city: str | None) -> tuple[str, str, str]:
    """The names of the SVG, PNG and poster files of one link."""
    stem = f"{code}-{city}" if city else code
    return f"{stem}.svg", f"{stem}.png", f"{stem}-poster.html"


def cmd_qr(args: argparse.Namespace) -> int:
    from survey_platform.campaigns.links import survey_url
    from survey_platform.campaigns.qr import qr_png, qr_svg
    from survey_platform.campaigns.service import get_campaign
    from survey_platform.pages.assets import load_assets
    from survey_platform.pages.rendering import make_environment
    from survey_platform.pages.survey import poster_context, standalone_poster
    from survey_platform.places.service import list_cities

    base = public_url(args.base_url, "--base-url") if args.base_url else _settings().public_url
    if not base:
        raise SettingsError(
            "缺少公开地址 / no public address for the links: pass --base-url https://… or set SURVEY_PUBLIC_URL"
        )
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise NotADirectoryError(20, "不是目录 / not a directory", str(output))

    async def work(settings: Settings) -> tuple[Any, dict[str, str]]:
        campaign = await get_campaign(args.campaign)
        if campaign.kind != "survey":
            raise NotFound(
                f"活动 {campaign.code} 是检查活动，没有问卷链接 / campaign {campaign.code!r} is an inspection: it "
                "has no survey link"
            )
        names = {city.code: city.name_zh for city in await list_cities() if city.code in campaign.cities}
        return campaign, names

    campaign, names = _with_database(work)
    if args.city is not None and args.city not in campaign.cities:
        raise NotFound(f"城市不在本活动范围内 / city {args.city!r} is not in campaign {campaign.code!r}")
    cities: list[str | None] = [args.city] if args.city else (sorted(campaign.cities) or [None])
    output.mkdir(parents=True, exist_ok=True)
    environment = make_environment(load_assets())
    for city in cities:
        svg_name, png_name, poster_name = written_files(campaign.code, city)
        url = survey_url(base, campaign.code, city)
        (output / svg_name).write_text(qr_svg(url, title=campaign.name), encoding="utf-8")
        (output / png_name).write_bytes(qr_png(url))
        context = poster_context(campaign, names.get(city, "") if city else "", base, city)
        (output / poster_name).write_text(standalone_poster(environment, context), encoding="utf-8")
        console.print(f"{url}\n  → {output / svg_name}, {output / png_name}, {output / poster_name}")
    return 0


def register(subparsers: Any) -> None:
    qr = subparsers.add_parser(
        "qr",
        help="QR codes (SVG, PNG) and printable A4 posters of a survey campaign's links",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    qr.add_argument("campaign")
    qr.add_argument("--city", default=None, help="one city of the campaign (default: every city)")
    qr.add_argument(
        "--output", "-o", default=".", help="directory to write into (created if missing; default .)"
    )
    qr.add_argument(
        "--base-url", default="", help="public address of the service (default $SURVEY_PUBLIC_URL)"
    )
    qr.set_defaults(func=cmd_qr)
