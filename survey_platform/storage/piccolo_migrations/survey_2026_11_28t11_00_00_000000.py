"""PostgreSQL refuses responses of a campaign that is not open, at commit, whatever statement inserts them.

A statement-level trigger reads the statement's new rows (a transition table), takes a share lock on those of their
campaigns' rows that are open, in id order, so that a close in flight (an UPDATE of the campaign row) is waited for
and then seen, and raises SQLSTATE ``SV409`` if any of those campaigns is not ``open``: the whole statement is undone.
A campaign already closed is not locked, so a late row never waits for a publish that holds its row. The writer's
binary ``COPY`` thus needs no transaction of its own to be checked (one round trip), and it falls back to its
insert-or-skip, which leaves out the rows of closed campaigns, when the trigger refuses it (``storage/writer.py``). SQLite checks the status in
the writer's ``BEGIN IMMEDIATE`` transaction instead, so nothing is created there.

'open' is ``campaigns.lifecycle.SUBMITTING_STATUS`` as it was when this migration was written.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "responses only for open campaigns (PostgreSQL trigger)"

STATEMENTS = (
    """
    CREATE OR REPLACE FUNCTION response_campaign_open() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM campaign
        WHERE id IN (SELECT DISTINCT campaign FROM new_responses) AND status = 'open'
        ORDER BY id FOR SHARE;
        IF EXISTS (
            SELECT 1 FROM campaign
            WHERE id IN (SELECT DISTINCT campaign FROM new_responses) AND status <> 'open'
        ) THEN
            RAISE EXCEPTION 'a campaign of these responses is not open' USING ERRCODE = 'SV409';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER response_campaign_open AFTER INSERT ON response REFERENCING NEW TABLE AS new_responses "
    "FOR EACH STATEMENT EXECUTE FUNCTION response_campaign_open()",
)
BACKWARDS = (
    "DROP TRIGGER IF EXISTS response_campaign_open ON response",
    "DROP FUNCTION IF EXISTS response_campaign_open()",
)


async def _run(statements: tuple[str, ...]) -> None:
    engine = engine_finder()
    assert engine is not None
    if engine.engine_type != "postgres":
        return
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
