"""The one error of the pure release core."""

from __future__ import annotations


class ReleaseInputError(ValueError):
    """The inputs of a release cannot be computed; the message (``"中文 / English"``) names the city, variable,
    category, response or setting at fault."""
