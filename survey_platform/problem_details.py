"""RFC 9457 problem details: the one body every error response of the API carries.

The exception handlers in :mod:`survey_platform.app` build it; :mod:`survey_platform.openapi` documents it as the
``Problem`` component under the media type ``application/problem+json``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

PROBLEM_JSON = "application/problem+json"


class ProblemField(msgspec.Struct):
    """One bad field of the input."""

    path: Annotated[
        str,
        msgspec.Meta(
            description="Where: a JSON path into the body (`$.answers.q3`), `form:<part>` for a multipart part, "
            "or `<source>:<name>` for a path, query or header value"
        ),
    ]
    code: Annotated[
        str, msgspec.Meta(description="A short machine-readable reason, e.g. `invalid`, `unknown`")
    ]
    message: Annotated[str, msgspec.Meta(description="A readable explanation: `中文 / English`")]


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details (``errors`` lists every bad field of the input)."""

    type: Annotated[str, msgspec.Meta(description="Always `about:blank`: the status says what kind of error")]
    title: Annotated[str, msgspec.Meta(description="The HTTP status phrase")]
    status: Annotated[int, msgspec.Meta(description="The HTTP status code")]
    detail: Annotated[str, msgspec.Meta(description="What went wrong: `中文 / English`")] = ""
    instance: Annotated[str, msgspec.Meta(description="The request path")] = ""
    errors: Annotated[
        list[ProblemField], msgspec.Meta(description="Every bad field of the input (may be absent)")
    ] = msgspec.field(default_factory=list)


__all__ = ["PROBLEM_JSON", "Problem", "ProblemField"]
