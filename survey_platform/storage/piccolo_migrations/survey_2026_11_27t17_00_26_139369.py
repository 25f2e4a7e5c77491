"""Campaign assignments by role, the response's submitter, and account session generations.

- ``campaign_assignment`` (campaign, account, role) replaces ``campaign_inspector`` (inspectors only), so
  interviewers and reviewers are assigned the same way (the next migration moves the rows).
- ``response.submitted_by``: the signed-in account that sent a response (NULL for anonymous citizens).
- ``account_role.session_generation``: bumped to end every session of an account at once (any process).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class BaseUser(Table, tablename="piccolo_user", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, db_column_name="id")


class Campaign(Table, tablename="campaign", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False, db_column_name="id")


ID = "2026-11-27T17:00:26:139369"
VERSION = "1.38.0"
DESCRIPTION = "campaign assignments by role, response submitter, session generation"


def _column(**params: object) -> dict[str, object]:
    base: dict[str, object] = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    base.update(params)
    return base


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    manager.add_table(
        class_name="CampaignAssignment", tablename="campaign_assignment", schema=None, columns=None
    )
    for name, column_class, params in (
        (
            "campaign",
            ForeignKey,
            _column(
                references=Campaign,
                on_delete=OnDelete.cascade,
                on_update=OnUpdate.cascade,
                index=True,
                null=True,
            ),
        ),
        (
            "account",
            ForeignKey,
            _column(
                references=BaseUser,
                on_delete=OnDelete.cascade,
                on_update=OnUpdate.cascade,
                index=True,
                null=True,
            ),
        ),
        ("role", Varchar, _column(length=20, default="")),
    ):
        manager.add_column(
            table_class_name="CampaignAssignment",
            tablename="campaign_assignment",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    manager.add_column(
        table_class_name="AccountRole",
        tablename="account_role",
        column_name="session_generation",
        db_column_name="session_generation",
        column_class_name="Integer",
        column_class=Integer,
        params=_column(default=0),
        schema=None,
    )
    manager.add_column(
        table_class_name="SurveyResponse",
        tablename="response",
        column_name="submitted_by",
        db_column_name="submitted_by",
        column_class_name="Integer",
        column_class=Integer,
        params=_column(default=None, null=True),
        schema=None,
    )
    return manager
