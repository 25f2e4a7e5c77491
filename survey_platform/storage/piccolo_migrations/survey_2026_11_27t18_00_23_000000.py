"""One release per (campaign, sequence), one file per (release, name): concurrent publishes cannot both land.

A separate migration because Piccolo runs a migration's raw steps before its table steps.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T18:00:23:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique release sequence per campaign and file name per release"

STATEMENTS = (
    "CREATE UNIQUE INDEX release_campaign_sequence ON release (campaign, sequence)",
    "CREATE UNIQUE INDEX release_file_release_name ON release_file (release, name)",
    "CREATE INDEX response_review_response_id ON response_review (response, id)",
)
BACKWARDS = (
    "DROP INDEX IF EXISTS release_campaign_sequence",
    "DROP INDEX IF EXISTS release_file_release_name",
    "DROP INDEX IF EXISTS response_review_response_id",
)


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
