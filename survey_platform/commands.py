"""Service subcommands: serve, db migrate, user create, campaign create/open/close, import cities, export."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import errno
import getpass
import io
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scoring.sample_size import DEFAULT_MIN_SAMPLE
from survey_platform.accounts.roles import ASSIGNABLE_ROLES, ROLES
from survey_platform.settings import Settings, SettingsError
from survey_platform.storage.errors import InvalidInput

T = TypeVar("T")
console = Console(stderr=True, soft_wrap=True)  # one line per message, whatever the width


def _settings() -> Settings:
    """The configuration; a bad variable raises SettingsError (one line from ``survey_platform.cli.main``)."""
    return Settings.from_env()


def _database_name(settings: Settings) -> str:
    """The database in words for messages, without any password."""
    if settings.database_url is None:
        return str(settings.sqlite_path)
    from urllib.parse import urlsplit

    parts = urlsplit(settings.database_url)
    host = parts.hostname or "localhost"
    return f"postgresql://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _with_database(work: Callable[[Settings], Awaitable[T]]) -> T:
    """Open (and migrate) the configured database, run ``work``, close it.

    A database that cannot be opened is Unavailable and a failed migration a MigrationError, each naming the
    database (without its password) and the cause in one line.
    """
    import sqlite3
    import warnings

    import asyncpg

    from survey_platform.storage.database import Database, MigrationError
    from survey_platform.storage.errors import Unavailable

    settings = _settings()
    name = _database_name(settings)

    async def main() -> T:
        try:
            with warnings.catch_warnings():  # Piccolo warns (on creating the engine) before it fails
                warnings.simplefilter("ignore")
                database = Database(settings)
                await database.open(migrate=False)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error) as error:
            raise Unavailable(
                f"无法打开数据库 / cannot open the database {name}: {type(error).__name__}: {error}"
            ) from None
        try:
            try:
                await database.migrate()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error) as error:
                raise MigrationError(f"{name}: {type(error).__name__}: {error}") from None
            return await work(settings)
        finally:
            await database.close()

    return asyncio.run(main())


async def _migrate_and_register(settings: Settings) -> None:
    """Migrations (applied by opening the database) and questionnaire registration, done once by the parent."""
    from survey_platform.campaigns.questionnaires import QuestionnaireCatalog

    await QuestionnaireCatalog().register_directory(settings.questionnaires_dir)


def _problems(lines: list[str]) -> int:
    """Print one line per problem of an input file (``FILE:LINE: ...``, like a compiler); exit code 1."""
    for line in lines:
        print(" ".join(line.split()), file=sys.stderr)
    return 1


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from survey_platform.access_log import uvicorn_log_config

    settings = _settings()
    host = args.host or settings.host
    port = args.port or settings.port
    if args.workers < 1:
        raise SettingsError("--workers 至少为 1 / --workers must be at least 1")
    if args.workers > 1:
        if not settings.redis_url:
            raise SettingsError(
                "多个工作进程需要 REDIS_URL（共享会话与限流）/ "
                "several workers need REDIS_URL (shared sessions and rate limits)"
            )
        _with_database(_migrate_and_register)  # once, before the workers start
    if args.demo:
        _load_demo_if_empty(settings)
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


def _load_demo_if_empty(settings: Settings) -> None:
    """``serve --demo``: load the national demo campaign first when the database holds no campaign yet."""
    from survey_platform.publishing.cli import print_demo, run_demo
    from survey_platform.publishing.demo import database_is_empty

    async def empty(_settings: Settings) -> bool:
        return await database_is_empty()

    if not _with_database(empty):
        console.print(
            "数据库已有数据，不装入演示 / the database already holds data: the demo is not loaded again"
        )
        return
    console.print("首次启动：装入演示数据 / first start: loading the demo campaign …")
    print_demo(run_demo(settings, DEMO_CITIES, DEMO_PER_CITY, DEMO_SEED), settings)


DEMO_CITIES, DEMO_PER_CITY, DEMO_SEED = 100, 600, 2025


def cmd_migrate(args: argparse.Namespace) -> int:
    from survey_platform.storage.database import Database

    async def work(settings: Settings) -> list[str]:
        return await Database(settings).applied_migrations()

    applied = _with_database(work)
    console.print(f"数据库已是最新 / database is up to date ({len(applied)} migrations applied)")
    return 0


def _new_password() -> str | None:
    """The password from $SURVEY_PASSWORD, else asked twice on the terminal; None when neither is possible."""
    if os.environ.get("SURVEY_PASSWORD"):
        return os.environ["SURVEY_PASSWORD"]
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("密码 / password: ")
    if getpass.getpass("再次输入 / repeat: ") != first:
        raise InvalidInput("两次输入的密码不一致 / the two passwords typed differ")
    return first


NO_PASSWORD = (
    "没有终端可输入密码，且未设置 SURVEY_PASSWORD / no terminal to type a password on and SURVEY_PASSWORD is not "
    "set: run it in a terminal or set SURVEY_PASSWORD"
)


def cmd_user_create(args: argparse.Namespace) -> int:
    from survey_platform.accounts.service import create_account

    password = _new_password()
    if password is None:
        raise SettingsError(NO_PASSWORD)

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


def _method_settings(pairs: list[str]) -> dict[str, Any]:
    """``--method KEY=VALUE`` options as a mapping; a value is read as JSON (``0.3``, ``null``) or else as text."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--method 应为 KEY=VALUE / --method expects KEY=VALUE, got {pair!r}")
        try:
            settings[key.strip()] = json.loads(value)
        except ValueError:
            settings[key.strip()] = value
    return settings


def cmd_campaign_create(args: argparse.Namespace) -> int:
    from survey_platform.campaigns.schemas import CampaignIn
    from survey_platform.campaigns.service import create_campaign
    from survey_platform.storage.errors import NotFound
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
                raise NotFound(f"问卷不存在 / no registered questionnaire {version!r}")
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
                "method": _method_settings(args.method or []),
            },
            CampaignIn,
        )
        return await create_campaign(data)

    campaign = _with_database(work)
    console.print(
        f"已创建草稿 / created draft campaign {campaign.code!r} (questionnaire version {campaign.questionnaire_version})"
    )
    return 0


def cmd_user_deactivate(args: argparse.Namespace) -> int:
    from survey_platform.accounts.service import account_id, update_account

    async def work(settings: Settings) -> Any:
        return await update_account(await account_id(args.username), active=False)

    account = _with_database(work)
    console.print(f"已停用，会话已结束 / deactivated {account.username!r}; its sessions have ended")
    return 0


def cmd_user_password(args: argparse.Namespace) -> int:
    from survey_platform.accounts.service import account_id, update_account

    password = _new_password()
    if password is None:
        raise SettingsError(NO_PASSWORD)

    async def work(settings: Settings) -> Any:
        return await update_account(
            await account_id(args.username), password=password, iterations=settings.password_iterations
        )

    account = _with_database(work)
    console.print(
        f"已设置新密码，会话已结束 / new password set for {account.username!r}; its sessions have ended"
    )
    return 0


def cmd_campaign_assign(args: argparse.Namespace) -> int:
    from survey_platform.accounts.service import account_id
    from survey_platform.campaigns.assignments import assign

    async def work(settings: Settings) -> list[int]:
        ids = [int(name) if name.isdigit() else await account_id(name) for name in args.accounts]
        return await assign(args.code, args.role, ids)

    assigned = _with_database(work)
    console.print(
        f"活动 {args.code} 的{args.role}：/ {args.role}s of {args.code}: {assigned or '（无 / none）'}"
    )
    return 0


def _transition(action: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        from survey_platform.campaigns.service import transition

        async def work(settings: Settings) -> Any:
            return await transition(args.code, action)

        campaign = _with_database(work)
        console.print(f"活动 {campaign.code} 状态 / status: {campaign.status}")
        return 0

    return command


CITY_FILE_FORMATS = """\
file formats (a .json file is read as JSON, a .xlsx file as a workbook, any other as CSV; text in UTF-8):

CSV: a header row, then one city per row. Columns: code (required: lower-case letters, digits, _ and -),
name_zh (required), name_en, province, population (a whole number), retail_sales (annual retail sales of consumer
goods in any fixed unit, for figures weighted by sales too), margins (JSON, below). An empty cell takes the default
(empty text, population 0, no sales figure, no margins).

  code,name_zh,name_en,province,population,margins
  hangzhou,杭州,Hangzhou,浙江,12376000,"{""q_sex"": {""male"": 0.51, ""female"": 0.49}}"
  wuxi,无锡,Wuxi,江苏,7490000,

XLSX: the first worksheet, laid out like the CSV file (a header row, then one city per row).

JSON: a list of objects with the same fields; margins is an object.

  [{"code": "hangzhou", "name_zh": "杭州", "population": 12376000,
    "margins": {"q_sex": {"male": 6310000, "female": 6066000},
                "q_district_zone": {"core": 0.42, "main_other": 0.38, "new_area": 0.20}}}]

margins, {variable: {category: value}}: the variables are the weighting questions (weighting_variable: true) of
the registered survey questionnaires, the categories their choice codes (true/false for a yes/no question, the
integers min..max for an integer question), every one of them. The values of one variable are shares when all
are at most 1 (they must sum to 1 ± 1e-6), population counts otherwise; every value must be positive.
Existing city codes are updated; nothing is written when any record has a problem (one line each, exit 1).
"""


def _read_cities(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """The records of a CSV or JSON city file with where each is (``FILE:LINE`` or ``FILE: record N``), and the
    problems found while reading (formats: :data:`CITY_FILE_FORMATS`)."""
    if path.suffix.lower() == ".xlsx":
        return _xlsx_cities(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        return [], [f"{path}: 不是 UTF-8 文本 / not UTF-8 text (byte {error.start})"]
    if path.suffix.lower() == ".json":
        return _json_cities(path, text)
    return _csv_cities(path, text)


def _json_cities(path: Path, text: str) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return [], [f"{path}:{error.lineno}:{error.colno}: 无效的 JSON / invalid JSON: {error.msg}"]
    if not isinstance(data, list):
        return [], [f"{path}: 应为城市对象的列表 / expected a JSON list of city objects [{{...}}, ...]"]
    records, problems = [], []
    for number, item in enumerate(data, start=1):
        where = f"{path}: record {number}"
        if isinstance(item, dict):
            records.append((where, item))
        else:
            problems.append(f'{where}: 应为对象 / expected an object {{"code": ..., "name_zh": ...}}')
    return records, problems


def _csv_cities(path: Path, text: str) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    from survey_platform.places.imports import city_cells

    reader = csv.DictReader(io.StringIO(text, newline=""))
    records, problems = [], []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if None in row:
            problems.append(f"{where}: 单元格多于表头的列 / more cells than the header has columns")
            continue
        item, cell_problems = city_cells(row)  # the admin room's import reads cells by the same rules
        if cell_problems:
            problems.extend(f"{where}: {problem.message}" for problem in cell_problems)
            continue
        records.append((where, item))
    if reader.fieldnames is None:
        problems.append(f"{path}: 文件为空 / the file is empty (expected a header row: code,name_zh,...)")
    return records, problems


def _xlsx_cities(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """The first worksheet of an XLSX city file, read like a CSV file (same columns and cell rules)."""
    from survey_platform.places.imports import city_cells, read_sheet

    sheet = read_sheet(path.read_bytes())
    problems = [f"{path}:{p.line}: {p.message}" if p.line else f"{path}: {p.message}" for p in sheet.problems]
    records = []
    for row in sheet.rows:
        item, cell_problems = city_cells(row.cells)
        problems.extend(f"{path}:{row.line}: {problem.message}" for problem in cell_problems)
        if not cell_problems:
            records.append((f"{path}:{row.line}", item))
    return records, problems


def cmd_import_cities(args: argparse.Namespace) -> int:
    from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
    from survey_platform.places.margins import margin_problems, weighting_categories
    from survey_platform.places.schemas import CityIn
    from survey_platform.places.service import import_cities

    path = Path(args.file)
    records, problems = _read_cities(path)
    cities: list[tuple[str, CityIn]] = []
    for where, item in records:
        try:
            cities.append((where, msgspec.convert(item, CityIn)))
        except msgspec.ValidationError as error:
            problems.append(f"{where}: {error}")
    if problems:
        return _problems(problems)

    async def work(settings: Settings) -> tuple[int, int] | list[str]:
        catalog = QuestionnaireCatalog()
        await catalog.register_directory(settings.questionnaires_dir)
        known = weighting_categories(await catalog.of_kind("survey"))
        found = [
            f"{where}: {problem.path}: {problem.message}"
            for where, city in cities
            for problem in margin_problems(city.code, city.margins, known)
        ]
        if found:
            return found
        created = updated = 0
        with Progress(
            TextColumn("导入城市 / importing cities"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("cities", total=len(cities))
            for start in range(0, len(cities), 200):
                chunk = [city for _, city in cities[start : start + 200]]
                c, u = await import_cities(chunk, catalog)
                created, updated = created + c, updated + u
                bar.advance(task, len(chunk))
        return created, updated

    outcome = _with_database(work)
    if isinstance(outcome, list):
        return _problems(outcome)
    created, updated = outcome
    console.print(f"新增 / created {created}, 更新 / updated {updated}")
    return 0


@contextlib.contextmanager
def _replacing(output: Path) -> Iterator[Path]:
    """A fresh path next to ``output`` to write into, moved over ``output`` only when the block succeeds.

    A missing or unwritable directory fails at once (before any work), and a failed export leaves no partial file.
    """
    directory = output.parent
    if output.is_dir():
        raise IsADirectoryError(errno.EISDIR, "是目录 / is a directory", str(output))
    if not directory.is_dir():
        raise FileNotFoundError(errno.ENOENT, "目录不存在 / no such directory", str(directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "目录不可写 / the directory is not writable", str(directory))
    partial = directory / f".{output.name}.{secrets.token_hex(4)}.part"
    try:
        yield partial
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


def cmd_export(args: argparse.Namespace) -> int:
    from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
    from survey_platform.exports import campaign_export
    from survey_platform.spreadsheet import csv_chunks, write_xlsx

    output = Path(args.output)
    fmt = args.format or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")

    with _replacing(output) as partial:

        async def work(settings: Settings) -> None:
            export = await campaign_export(args.campaign, QuestionnaireCatalog())
            with Progress(
                TextColumn("导出 / exporting"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("rows", total=None)

                async def counted() -> Any:
                    async for row in export.rows:
                        bar.advance(task)
                        yield row

                if fmt == "xlsx":
                    await write_xlsx(counted(), partial, export.sheet)
                else:
                    with partial.open("x", encoding="utf-8", newline="") as handle:
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
    serve.add_argument(
        "--demo",
        action="store_true",
        help="on first start (no campaign in the database yet) load the national demo campaign: 100 cities, "
        "this year's and last year's survey, a QR-code inspection, published",
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
    create.add_argument("--role", required=True, choices=list(ROLES))
    create.add_argument("--display-name", default="")
    create.set_defaults(func=cmd_user_create)
    deactivate = user.add_parser("deactivate", help="deactivate an account (its sessions end at once)")
    deactivate.add_argument("username")
    deactivate.set_defaults(func=cmd_user_deactivate)
    reset = user.add_parser(
        "password", help="set an account's password ($SURVEY_PASSWORD or a prompt); its sessions end"
    )
    reset.add_argument("username")
    reset.set_defaults(func=cmd_user_password)

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
        "--min-sample",
        type=int,
        default=DEFAULT_MIN_SAMPLE,
        help=f"minimum valid responses per city (default {DEFAULT_MIN_SAMPLE}: 1.96² × 0.25 / 0.05² × 1.4)",
    )
    new.add_argument(
        "--method",
        action="append",
        metavar="KEY=VALUE",
        help="a release method setting, repeatable: city_weighting=population|population_and_sales, "
        "sales_share=0.5 (the sales part of population_and_sales), driver_outcome=q_overall|null, "
        "suppression_min_n=30, claim_top_k=10, problem_rule=any_fail|any_critical",
    )
    new.set_defaults(func=cmd_campaign_create)
    assign = campaign.add_parser(
        "assign",
        help="set who works on a campaign: its interviewers (survey), inspectors (inspection) or reviewers",
        description="Replaces the campaign's accounts in ROLE with the accounts given (usernames or ids); give "
        "none to remove them all.",
    )
    assign.add_argument("code")
    assign.add_argument(
        "--role",
        required=True,
        choices=sorted({role for roles in ASSIGNABLE_ROLES.values() for role in roles}),
    )
    assign.add_argument("accounts", nargs="*", metavar="ACCOUNT")
    # argparse takes `CODE ACCOUNT... --role R` but leaves the accounts of `CODE --role R ACCOUNT...` over: main()
    # gives them to ``accounts``
    assign.set_defaults(func=cmd_campaign_assign, trailing_positionals="accounts")
    for action in ("open", "close"):
        step = campaign.add_parser(action, help=f"{action} a campaign")
        step.add_argument("code")
        step.set_defaults(func=_transition(action))

    imports = subparsers.add_parser("import", help="bulk imports").add_subparsers(
        dest="import_command", required=True
    )
    cities = imports.add_parser(
        "cities",
        help="import cities from CSV, XLSX or JSON (existing codes are updated)",
        description="Import cities with their population margins for weighting; existing codes are updated.",
        epilog=CITY_FILE_FORMATS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cities.add_argument("file")
    cities.set_defaults(func=cmd_import_cities)

    export = subparsers.add_parser(
        "export",
        help="export a campaign's raw data: responses (survey) or audits (inspection), CSV or XLSX",
    )
    export.add_argument("campaign")
    export.add_argument("--output", "-o", required=True)
    export.add_argument("--format", choices=["csv", "xlsx"], default=None)
    export.set_defaults(func=cmd_export)
