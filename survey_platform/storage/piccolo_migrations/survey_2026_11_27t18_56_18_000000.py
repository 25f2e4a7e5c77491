"""A venue's client UUID is unique (NULL for venues added by admins, which unique indexes allow many of).

A separate migration from the one that adds ``venue.client_id``: Piccolo runs a migration's raw steps before its
column steps, and SQLite cannot add a UNIQUE column to an existing table, so the index comes afterwards.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T18:56:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index on venue.client_id"

STATEMENT = "CREATE UNIQUE INDEX IF NOT EXISTS venue_client_id ON venue (client_id)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(STATEMENT)

    manager.add_raw(create_index)
    return manager
