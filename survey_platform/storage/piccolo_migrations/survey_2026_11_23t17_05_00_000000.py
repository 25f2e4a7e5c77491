"""The audit log is append-only in the database too: UPDATE, DELETE (and TRUNCATE on PostgreSQL) are refused.

The service only ever inserts into ``audit_log``; these triggers make a stray query, a script or a person with a
SQL prompt fail as well. PostgreSQL: one trigger function raising an exception, statement-level triggers
BEFORE UPDATE OR DELETE and BEFORE TRUNCATE (statement-level, so even a statement matching no row is refused).
SQLite: BEFORE UPDATE and BEFORE DELETE triggers calling RAISE(ABORT) (row-level, the only kind SQLite has, so
a statement matching no row passes harmlessly; SQLite has no TRUNCATE, and triggers turn off its fast
DELETE-without-WHERE). Maintenance that really must remove rows can drop the triggers, or on
PostgreSQL run as a superuser with ``SET session_replication_role = replica`` for that session only (the test
suite's cleanup does this).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T17:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_log append-only triggers"

MESSAGE = "审计日志只能追加 / the audit log is append-only"

POSTGRES_FORWARDS = (
    f"""
    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log",
    """
    CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
)
POSTGRES_BACKWARDS = (
    "DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
)
SQLITE_FORWARDS = (
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (UPDATE refused)'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (DELETE refused)'); END
    """,
)
SQLITE_BACKWARDS = (
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
)


async def _run(postgres: tuple[str, ...], sqlite: tuple[str, ...]) -> None:
    # The engine is looked up when the migration runs (the service re-binds it per database it opens).
    engine = engine_finder()
    if engine is None:
        raise RuntimeError("no database engine configured")
    statements = {"postgres": postgres, "sqlite": sqlite}.get(engine.engine_type)
    if statements is None:
        raise RuntimeError(f"unsupported database engine {engine.engine_type!r}")
    for statement in statements:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        await _run(POSTGRES_FORWARDS, SQLITE_FORWARDS)

    async def run_backwards():
        await _run(POSTGRES_BACKWARDS, SQLITE_BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)

    return manager
