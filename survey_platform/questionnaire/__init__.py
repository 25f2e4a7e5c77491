"""The questionnaire format: typed model, YAML loader with source positions, answer validation.

The expression language lives in :mod:`.expr`. Names are imported lazily so that importing the expression
subpackage does not load the loader.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AnswerCheck": ".answers",
    "FieldError": ".answers",
    "validate_answers": ".answers",
    "LoadResult": ".load",
    "load_directory": ".load",
    "load_questionnaire": ".load",
    "load_text": ".load",
    "Questionnaire": ".model",
    "Problem": ".problems",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
