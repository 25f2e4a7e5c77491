"""The paradata of a response: seconds on screen per section (null when the client sent none)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T18:16:42:194630"
VERSION = "1.38.0"
DESCRIPTION = "response paradata"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    manager.add_column(
        table_class_name="SurveyResponse",
        tablename="response",
        column_name="paradata",
        db_column_name="paradata",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
