"""Service subcommands: serve, db migrate, user create, campaign create/open/close, import cities, export."""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from survey_platform.settings import Settings, SettingsError

T = TypeVar("T")
console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        console.print(f"[red]配置错误 / configuration error:[/red] {error}")
        raise SystemExit(2) from None


def _with_database(work: Callable[[Settings], Awaitable[T]]) -> T:
    """Open (and migrate) the configured database, run ``work``, close it."""
    from survey_platform.storage.database import Database

    settings = _settings()

    async def main() -> T:
        database = Database(settings)
        await database.open()
        try:
            return await work(settings)
        finally:
            await database.close()

    return asyncio.run(main())


async def _migrate_and_register(settings: Settings) -> None:
    """Migrations (applied by opening the database) and questionnaire registration, done once by the parent."""
    from survey_platform.campaigns.questionnaires import QuestionnaireCatalog

    await QuestionnaireCatalog().register_directory(settings.questionnaires_dir)


def _fail(message: str) -> int:
    console.print(f"[red]{message}[/red]")
    return 1


def _domain_errors(function: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapper(args: argparse.Namespace) -> int:
        from survey_platform.storage.errors import DomainError

        try:
            return function(args)
        except DomainError as error:
            details = "".join(f"\n  {e.path}: {e.message}" for e in error.errors)
            return _fail(f"{error.detail}{details}")

    return wrapper


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from survey_platform.access_log import uvicorn_log_config

    settings = _settings()
    host = args.host or settings.host
    port = args.port or settings.port
    if args.workers < 1:
        console.print("[red]--workers 至少为 1 / --workers must be at least 1[/red]")
        return 2
    if args.workers > 1:
        if not settings.redis_url:
            console.print(
                "[red]多个工作进程需要 REDIS_URL（共享会话与限流）/ "
                "several workers need REDIS_URL (shared sessions and rate limits)[/red]"
            )
            return 2
        _with_database(_migrate_and_register)  # once, before the workers start
    console.print(
        f"survey-platform: http://{host}:{port}  ("
        + ("PostgreSQL" if settings.uses_postgres else f"SQLite {settings.sqlite_path.resolve()}")
        + ")"
    )
    uvicorn.run(
        "survey_platform.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        log_level=args.log_level,
        log_config=uvicorn_log_config(args.log_level),
        access_log=False,  # it logs client addresses; survey_platform.access logs each request instead
        proxy_headers=False,
        server_header=False,
        workers=args.workers,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from survey_platform.storage.database import Database

    async def work(settings: Settings) -> list[str]:
        return await Database(settings).applied_migrations()

    applied = _with_database(work)
    console.print(f"数据库已是最新 / database is up to date ({len(applied)} migrations applied)")
    return 0


@_domain_errors
def cmd_user_create(args: argparse.Namespace) -> int:
    from survey_platform.accounts.service import create_account

    password = os.environ.get("SURVEY_PASSWORD") or getpass.getpass("密码 / password: ")

    async def work(settings: Settings) -> Any:
        return await create_account(
            args.username,
            password,
            args.role,
            display_name=args.display_name or "",
            iterations=settings.password_iterations,
        )

    account = _with_database(work)
    console.print(f"已创建 / created {account.role} account {account.username!r} (id {account.id})")
    return 0


@_domain_errors
def cmd_campaign_create(args: argparse.Namespace) -> int:
    from survey_platform.campaigns.schemas import CampaignIn
    from survey_platform.campaigns.service import create_campaign
    from survey_platform.storage.tables import QuestionnaireVersion

    async def work(settings: Settings) -> Any:
        from survey_platform.campaigns.questionnaires import QuestionnaireCatalog

        await QuestionnaireCatalog().register_directory(settings.questionnaires_dir)
        version = args.questionnaire
        if not version.isdigit():
            row = (
                await QuestionnaireVersion.select(QuestionnaireVersion.id)
                .where(QuestionnaireVersion.questionnaire_id == version)
                .order_by(QuestionnaireVersion.id, ascending=False)
                .first()
                .run()
            )
            if row is None:
                raise SystemExit(_fail(f"问卷不存在 / no registered questionnaire {version!r}"))
            version = row["id"]
        data = msgspec.convert(
            {
                "code": args.code,
                "name": args.name,
                "questionnaire_version": int(version),
                "cities": [c for c in (args.cities or "").split(",") if c],
                "venues": [int(v) for v in (args.venues or "").split(",") if v],
                "starts_on": args.starts_on,
                "ends_on": args.ends_on,
                "min_sample_per_city": args.min_sample,
            },
            CampaignIn,
        )
        return await create_campaign(data)

    try:
        campaign = _with_database(work)
    except msgspec.ValidationError as error:
        return _fail(f"参数无效 / invalid argument: {error}")
    console.print(
        f"已创建草稿 / created draft campaign {campaign.code!r} (questionnaire version {campaign.questionnaire_version})"
    )
    return 0


def _transition(action: str) -> Callable[[argparse.Namespace], int]:
    @_domain_errors
    def command(args: argparse.Namespace) -> int:
        from survey_platform.campaigns.service import transition

        async def work(settings: Settings) -> Any:
            return await transition(args.code, action)

        campaign = _with_database(work)
        console.print(f"活动 {campaign.code} 状态 / status: {campaign.status}")
        return 0

    return command


def _read_cities(path: Path) -> list[dict[str, Any]]:
    """Cities from CSV (code,name_zh,name_en,province,population[,margins as JSON]) or a JSON list."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if not isinstance(data, list):
            raise ValueError("the JSON file must hold a list of cities")
        return data
    rows = []
    for row in csv.DictReader(text.splitlines()):
        item: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
        if "population" in item:
            item["population"] = int(item["population"])
        if "margins" in item:
            item["margins"] = json.loads(item["margins"])
        rows.append(item)
    return rows


@_domain_errors
def cmd_import_cities(args: argparse.Namespace) -> int:
    from survey_platform.places.schemas import CityIn
    from survey_platform.places.service import import_cities

    path = Path(args.file)
    try:
        raw = _read_cities(path)
    except (OSError, ValueError) as error:
        return _fail(f"无法读取 / cannot read {path}: {error}")
    cities = []
    problems = []
    for number, item in enumerate(raw, start=1):
        try:
            cities.append(msgspec.convert(item, CityIn))
        except msgspec.ValidationError as error:
            problems.append(f"{path}: record {number}: {error}")
    if problems:
        return _fail("\n".join(problems))

    async def work(settings: Settings) -> tuple[int, int]:
        created = updated = 0
        with Progress(
            TextColumn("导入城市 / importing cities"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("cities", total=len(cities))
            for start in range(0, len(cities), 200):
                chunk = cities[start : start + 200]
                c, u = await import_cities(chunk)
                created, updated = created + c, updated + u
                bar.advance(task, len(chunk))
        return created, updated

    created, updated = _with_database(work)
    console.print(f"新增 / created {created}, 更新 / updated {updated}")
    return 0


@_domain_errors
def cmd_export(args: argparse.Namespace) -> int:
    from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
    from survey_platform.campaigns.service import get_campaign
    from survey_platform.responses.export import answer_columns, campaign_rows, csv_chunks, write_xlsx

    output = Path(args.output)
    fmt = args.format or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")

    async def work(settings: Settings) -> None:
        campaign = await get_campaign(args.campaign)
        columns = answer_columns(await QuestionnaireCatalog().get(campaign.questionnaire_version))
        with Progress(
            TextColumn("导出 / exporting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("rows", total=None)

            async def counted() -> Any:
                async for row in campaign_rows(args.campaign, columns):
                    bar.advance(task)
                    yield row

            if fmt == "xlsx":
                await write_xlsx(counted(), output)
            else:
                with output.open("w", encoding="utf-8", newline="") as handle:
                    async for chunk in csv_chunks(counted()):
                        handle.write(chunk)

    _with_database(work)
    console.print(f"已导出 / exported to {output}")
    return 0


def register(subparsers: Any) -> None:
    """Add the service's subcommands to the ``survey-platform`` parser."""
    serve = subparsers.add_parser(
        "serve", help="run the web service (SQLite in ./data unless DATABASE_URL is set)"
    )
    serve.add_argument("--host", default=None, help="interface to listen on (default 127.0.0.1, or $HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000, or $PORT)")
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1; more than one needs REDIS_URL for shared sessions and rate limits)",
    )
    serve.set_defaults(func=cmd_serve)

    db = subparsers.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("migrate", help="create the database or apply pending migrations").set_defaults(
        func=cmd_migrate
    )

    user = subparsers.add_parser("user", help="accounts").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="create an account (password from $SURVEY_PASSWORD or a prompt)")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=["admin", "reviewer", "inspector"])
    create.add_argument("--display-name", default="")
    create.set_defaults(func=cmd_user_create)

    campaign = subparsers.add_parser("campaign", help="campaigns").add_subparsers(
        dest="campaign_command", required=True
    )
    new = campaign.add_parser("create", help="create a draft campaign")
    new.add_argument("code")
    new.add_argument("--name", required=True)
    new.add_argument(
        "--questionnaire", required=True, help="a questionnaire id (latest version) or a version number"
    )
    new.add_argument("--cities", default="", help="comma-separated city codes")
    new.add_argument("--venues", default="", help="comma-separated venue ids")
    new.add_argument("--starts-on", default=None)
    new.add_argument("--ends-on", default=None)
    new.add_argument(
        "--min-sample", type=int, default=538, help="minimum valid responses per city (default 538)"
    )
    new.set_defaults(func=cmd_campaign_create)
    for action in ("open", "close", "publish"):
        step = campaign.add_parser(action, help=f"{action} a campaign")
        step.add_argument("code")
        step.set_defaults(func=_transition(action))

    imports = subparsers.add_parser("import", help="bulk imports").add_subparsers(
        dest="import_command", required=True
    )
    cities = imports.add_parser("cities", help="import cities from CSV or JSON (existing codes are updated)")
    cities.add_argument("file")
    cities.set_defaults(func=cmd_import_cities)

    export = subparsers.add_parser("export", help="export raw responses of a campaign (CSV or XLSX)")
    export.add_argument("campaign")
    export.add_argument("--output", "-o", required=True)
    export.add_argument("--format", choices=["csv", "xlsx"], default=None)
    export.set_defaults(func=cmd_export)
