"""Domain errors raised by the services; the web layer turns each into an RFC 9457 problem document."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class FieldProblem:
    """One bad field of the input: a JSON path (``$.answers.q3``), a short code and a message."""

    path: str
    code: str
    message: str


class DomainError(Exception):
    """Base of the service's errors; ``status`` is the HTTP status it maps to."""

    status: int = 400
    title: str = "Bad request"

    def __init__(
        self, detail: str, errors: tuple[FieldProblem, ...] = (), headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class BadRequest(DomainError):
    """Input that cannot be read at all (malformed JSON or multipart)."""

    status = 400
    title = "Bad request"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Content too large"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Unavailable(DomainError):
    status = 503
    title = "Service unavailable"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class TooManyRequests(DomainError):
    """A limit was reached; ``Retry-After`` says in how many seconds to try again."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after
