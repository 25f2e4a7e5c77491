"""Opening the database: bind every table to one engine, start the pool, apply migrations.

One process serves one database at a time: Piccolo tables hold their engine on the class, so opening a
:class:`Database` re-binds them (a test creates a fresh app, and so a fresh database, per test).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from survey_platform.settings import Settings
from survey_platform.storage import conf
from survey_platform.storage.engine import make_engine, prepare_sqlite_file
from survey_platform.storage.tables import TABLES

MIGRATION_LOCK_KEY = 7_342_001  # PostgreSQL advisory lock serialising concurrent starts


class MigrationError(RuntimeError):
    """Applying the migrations failed; the message says which step."""


def bind_engine(engine: Engine) -> None:
    """Point every table (and Piccolo's migration machinery) at ``engine``."""
    conf.DB = engine
    for table in (*TABLES, Migration):
        table._meta.db = engine


@contextlib.contextmanager
def _piccolo_conf_selected() -> Iterator[None]:
    previous = os.environ.get("PICCOLO_CONF")
    os.environ["PICCOLO_CONF"] = conf.MODULE_NAME
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PICCOLO_CONF", None)
        else:
            os.environ["PICCOLO_CONF"] = previous


async def _run_forwards_quietly() -> None:
    output = io.StringIO()
    with _piccolo_conf_selected(), contextlib.redirect_stdout(output):
        result = await run_forwards(app_name="all")
    if not result.success:
        raise MigrationError(f"migrations failed: {result.message}\n{output.getvalue()}")


class Database:
    """The application's database: engine, pool and schema."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine = make_engine(settings)

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.engine, PostgresEngine)

    @property
    def sqlite_path(self) -> Path:
        assert isinstance(self.engine, SQLiteEngine)
        return Path(self.engine.path)

    async def open(self, migrate: bool = True) -> None:
        """Prepare storage, bind the tables, start the pool and (by default) apply pending migrations."""
        if not self.is_postgres:
            await asyncio.to_thread(prepare_sqlite_file, self.sqlite_path)
        bind_engine(self.engine)
        if isinstance(self.engine, PostgresEngine):
            await self.engine.start_connection_pool(
                min_size=self.settings.db_pool_min, max_size=self.settings.db_pool_max
            )
        if migrate:
            await self.migrate()

    async def close(self) -> None:
        if isinstance(self.engine, PostgresEngine):
            await self.engine.close_connection_pool()

    async def migrate(self) -> None:
        """Apply pending migrations, serialised across processes (file lock or advisory lock)."""
        if isinstance(self.engine, PostgresEngine):
            assert self.settings.database_url
            connection = await asyncpg.connect(self.settings.database_url)
            try:
                await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
                try:
                    await _run_forwards_quietly()
                finally:
                    await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
            finally:
                await connection.close()
            return
        lock_path = self.sqlite_path.with_suffix(".migrate.lock")
        with open(lock_path, "w") as lock_file:
            await asyncio.to_thread(fcntl.flock, lock_file, fcntl.LOCK_EX)
            try:
                await _run_forwards_quietly()
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    async def applied_migrations(self) -> list[str]:
        rows = await Migration.select(Migration.name).order_by(Migration.name).run()
        return [row["name"] for row in rows]


def write_transaction(engine: Engine) -> Any:
    """A transaction for read-then-write work: IMMEDIATE on SQLite (no "database is locked" on upgrade)."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()
