"""The few exceptions the service raises; the API maps each to one JSON shape.

They carry their HTTP status so that one handler can answer every one of them, but they
import nothing from the web layer: search and ingest raise them too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class OrderSearchError(Exception):
    status_code = 500
    default_message = "Internal server error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidRequest(OrderSearchError):
    """400: the body is not what the contract accepts; `errors` names each field."""

    status_code = 400
    default_message = "Invalid request"

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = errors
        if message is None:
            message = "; ".join(f"{e.field}: {e.message}" for e in errors) or self.default_message
        super().__init__(message)

    @classmethod
    def single(cls, field: str, message: str) -> InvalidRequest:
        return cls([FieldError(field, message)])


class AuthenticationFailed(OrderSearchError):
    status_code = 401
    default_message = "Invalid Auth Key"


class Forbidden(OrderSearchError):
    status_code = 403
    default_message = "Forbidden"


class NotFound(OrderSearchError):
    status_code = 404
    default_message = "Not found"


class PayloadTooLarge(OrderSearchError):
    status_code = 413
    default_message = "Request body is larger than 1 MiB"


class TooManyRequests(OrderSearchError):
    status_code = 429
    default_message = "Too many failed attempts; retry later"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ServiceUnavailable(OrderSearchError):
    """503: the database is locked past its timeout or unreachable; nothing was changed."""

    status_code = 503
    default_message = "The database is busy or unreachable; retry shortly"
    retry_after = 1
