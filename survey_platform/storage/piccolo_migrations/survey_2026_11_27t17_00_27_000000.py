"""Existing inspector assignments move to ``campaign_assignment`` (role ``inspector``); ``campaign_inspector`` goes.

A separate migration from the one that creates ``campaign_assignment``: Piccolo runs a migration's raw steps before
its table and column steps, so the rows can only move once the new table exists.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T17:00:27:000000"
VERSION = "1.38.0"
DESCRIPTION = "move inspector assignments to campaign_assignment"

MOVE_ROWS = (
    "INSERT INTO campaign_assignment (campaign, account, role) "
    "SELECT campaign, inspector, 'inspector' FROM campaign_inspector",
    "CREATE UNIQUE INDEX campaign_assignment_campaign_account ON campaign_assignment (campaign, account)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def move_rows() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in MOVE_ROWS:
            await engine.run_ddl(statement)

    manager.add_raw(move_rows)
    manager.drop_table(class_name="CampaignInspector", tablename="campaign_inspector", schema=None)
    return manager
