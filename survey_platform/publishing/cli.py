"""Release subcommands: ``publish CAMPAIGN``, ``release list``, ``release verify ID``, and ``demo``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from scoring.sample_size import DEFAULT_MIN_SAMPLE
from survey_platform.commands import _with_database, console
from survey_platform.settings import Settings


async def _catalog(settings: Settings) -> Any:
    from survey_platform.campaigns.questionnaires import QuestionnaireCatalog

    catalog = QuestionnaireCatalog()
    await catalog.register_directory(settings.questionnaires_dir)
    return catalog


def cmd_publish(args: argparse.Namespace) -> int:
    from survey_platform.publishing.service import publish

    async def work(settings: Settings) -> Any:
        return await publish(args.campaign, await _catalog(settings), note=args.note, seed=args.seed)

    if not args.json:
        console.print(f"计算发布结果 / computing the release of {args.campaign} …")
    stored = _with_database(work)
    if args.json:
        print(json.dumps({"release": stored.meta.release, "urls": stored.meta.urls}, ensure_ascii=False))
        return 0
    meta = stored.meta
    console.print(
        f"已发布 / published {meta.release} (inputs {meta.inputs_fingerprint[:12]}, seed {meta.seed})"
    )
    if meta.supersedes:
        console.print(f"更正并取代 / corrects and supersedes {meta.supersedes}:")
        for line in meta.changelog:
            console.print(f"  - {line}")
    rankings = stored.results.rankings
    if rankings is not None and rankings.national.score is not None:
        national = rankings.national
        console.print(
            f"全国 / national {national.score:.2f} (95% CI {national.ci_low:.2f}–{national.ci_high:.2f}); "
            f"{sum(c.ranked for c in rankings.cities)} of {len(rankings.cities)} cities ranked"
        )
    for name, url in meta.urls.items():
        console.print(f"  {name}: {url}")
    return 0


def cmd_release_list(args: argparse.Namespace) -> int:
    from survey_platform.publishing.service import list_releases

    async def work(settings: Settings) -> Any:
        return await list_releases(args.campaign)

    for release in _with_database(work):
        mark = "" if release.status == "current" else f"  (superseded by {release.superseded_by})"
        print(f"{release.release}\t{release.created_at:%Y-%m-%d %H:%M}\t{release.campaign_name}{mark}")
    return 0


def cmd_release_verify(args: argparse.Namespace) -> int:
    from survey_platform.publishing.service import verify

    async def work(settings: Settings) -> Any:
        return await verify(args.release, await _catalog(settings))

    report = _with_database(work)
    if report.software_version != report.recorded_software_version:
        console.print(
            f"注意：软件版本 {report.recorded_software_version} → {report.software_version} / note: recomputed with "
            "another software version"
        )
    if report.identical:
        print(f"{report.release}: 每个数字都相同 / every number is identical (inputs identical)")
        return 0
    print(f"{report.release}: 重算结果不同 / the recomputation differs in {len(report.differences)} places:")
    for line in report.differences:
        print(f"  {line}")
    return 1


def register(subparsers: Any) -> None:
    publish = subparsers.add_parser(
        "publish",
        help="compute a closed campaign's results from its stored inputs and freeze them as a release",
        description="Publishes a release of a closed campaign (or a correction of a published one, which "
        "supersedes the earlier release): results, open-data files and fingerprints.",
    )
    publish.add_argument("campaign")
    publish.add_argument("--note", default="", help="a note kept with the release (e.g. what it corrects)")
    publish.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, recorded)")
    publish.add_argument("--json", action="store_true", help='print {"release": ID, "urls": {...}} only')
    publish.set_defaults(func=cmd_publish)

    release = subparsers.add_parser("release", help="releases").add_subparsers(
        dest="release_command", required=True
    )
    listing = release.add_parser("list", help="every release, newest first")
    listing.add_argument("--campaign", default=None)
    listing.set_defaults(func=cmd_release_list)
    check = release.add_parser(
        "verify",
        help="recompute a release from its recorded inputs; exit 0 if every number is identical, 1 with what differs",
    )
    check.add_argument("release")
    check.set_defaults(func=cmd_release_verify)
    register_demo(subparsers)


__all__ = ["register"]


def run_demo(settings: Settings, cities: int, per_city: int, seed: int, min_sample: int | None = None) -> Any:
    """Load the demo into the configured (empty) database with a progress bar; returns the DemoResult."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from survey_platform.publishing.demo import database_is_empty, load_demo
    from survey_platform.settings import SettingsError

    async def work(settings: Settings) -> Any:
        if not await database_is_empty():
            raise SettingsError(
                "数据库中已有活动，演示只装入空数据库 / the database already holds campaigns: the demo loads into an "
                "empty one (use another DATA_DIR or DATABASE_URL)"
            )
        catalog = await _catalog(settings)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, advance: int, total: int | None) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total)
                elif total is not None:
                    bar.update(tasks[phase], total=total)
                bar.advance(tasks[phase], advance)

            return await load_demo(
                settings,
                catalog,
                cities=cities,
                per_city=per_city,
                seed=seed,
                min_sample=min_sample or DEFAULT_MIN_SAMPLE,
                progress=progress,
            )

    return _with_database(work)


def print_demo(result: Any, settings: Settings) -> None:
    base = f"http://{settings.host}:{settings.port}"
    console.print("演示已装入 / demo loaded:")
    for release in result.releases:
        console.print(f"  发布 / release {release}: {base}/releases/{release}")
    console.print(f"  首页 / home: {base}/")
    console.print(f"演示账户（密码均为 {result.password}）/ demo accounts (password {result.password}):")
    for account in result.accounts:
        console.print(f"  {account.username}  ({account.role})")
    console.print(f"真值 / true values: {result.truth_path}; 账户 / accounts: {result.accounts_path}")


def cmd_demo(args: argparse.Namespace) -> int:
    from survey_platform.commands import _settings
    from survey_platform.settings import SettingsError

    settings = _settings()
    if args.min_sample is not None and args.min_sample < 1:
        raise SettingsError("--min-sample 至少为 1 / --min-sample must be at least 1")
    result = run_demo(settings, args.cities, args.per_city, args.seed, args.min_sample)
    print_demo(result, settings)
    return 0


def register_demo(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="load a realistic national demo campaign (synthetic, with known truth) into an empty database",
        description="Builds 100 real cities with provinces, populations and margins, this year's and last year's "
        "city satisfaction survey and a QR-code inspection, submits them through the service as interviewers, "
        "citizens and inspectors would, has a reviewer check them, and publishes the releases.",
    )
    demo.add_argument("--cities", type=int, default=100, help="number of cities (1–100, default 100)")
    demo.add_argument("--per-city", type=int, default=600, help="genuine interviews per city (default 600)")
    demo.add_argument("--seed", type=int, default=2025, help="random seed of the synthetic population")
    demo.add_argument(
        "--min-sample",
        type=int,
        default=None,
        help=f"minimum valid interviews for a city to be ranked (default {DEFAULT_MIN_SAMPLE}; lower it for a "
        "small demo, e.g. --per-city 80 --min-sample 60)",
    )
    demo.set_defaults(func=cmd_demo)
