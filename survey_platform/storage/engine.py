"""Engine construction from settings: SQLite (default, WAL) or PostgreSQL (asyncpg pool)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from survey_platform.settings import Settings

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def make_engine(settings: Settings) -> Engine:
    """The Piccolo engine for ``settings`` (no connection is opened here)."""
    if settings.database_url:
        return PostgresEngine(config={"dsn": settings.database_url}, log_queries=False)
    return SQLiteEngine(path=str(settings.sqlite_path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)


def prepare_sqlite_file(path: Path) -> None:
    """Create the data directory and switch the database file to WAL (a persistent, once-only setting)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    try:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
