"""Piccolo app of the service: its tables and migrations (the user app supplies ``piccolo_user``)."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_platform.storage import tables

APP_CONFIG = AppConfig(
    app_name="survey",
    migrations_folder_path=str(Path(__file__).resolve().parent / "piccolo_migrations"),
    table_classes=[table for table in tables.TABLES if table is not tables.BaseUser],
    migration_dependencies=["piccolo.apps.user.piccolo_app"],
    commands=[],
)
