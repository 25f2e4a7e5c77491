"""The one error of the pure release core."""

from __future__ import annotations

from survey_platform.questionnaire.columns import AnswerValueError


class ReleaseInputError(AnswerValueError):
    """The inputs of a release cannot be computed; the message (``"中文 / English"``) names the city, variable,
    category, response or setting at fault. (A stored answer that is not valid raises the base class.)"""
