"""A covering index for the field-progress counts (``campaigns.progress``): a campaign's responses grouped by city,
channel, eligibility, status and submitting account, with the latest arrival and the highest row id, read from the
index alone (one scan instead of the table)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "covering index for field progress"

STATEMENTS = (
    "CREATE INDEX response_progress ON response "
    "(campaign, city_code, channel, eligible, status, submitted_by, received_at, id)",
)
BACKWARDS = ("DROP INDEX IF EXISTS response_progress",)


async def _run(statements: tuple[str, ...]) -> None:
    engine = engine_finder()
    assert engine is not None
    for statement in statements:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        await _run(STATEMENTS)

    async def run_backwards():
        await _run(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
