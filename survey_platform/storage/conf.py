"""The Piccolo configuration module used inside the service process.

Piccolo's migration machinery looks the engine up by module (``PICCOLO_CONF``); :func:`bind_engine` points
this module's ``DB`` at the engine of the running application, so migrations and tables use the same one.
"""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

MODULE_NAME = __name__

DB: Engine | None = None

APP_REGISTRY = AppRegistry(apps=["piccolo.apps.user.piccolo_app", "survey_platform.storage.piccolo_app"])
