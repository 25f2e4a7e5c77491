"""Piccolo configuration for the ``piccolo`` command line (e.g. ``piccolo migrations new survey --auto``).

The engine comes from the same settings as the service: SQLite in ``$DATA_DIR`` unless ``DATABASE_URL`` is set.
"""

from survey_platform.settings import Settings
from survey_platform.storage.conf import APP_REGISTRY
from survey_platform.storage.engine import make_engine

DB = make_engine(Settings.from_env())

__all__ = ["APP_REGISTRY", "DB"]
