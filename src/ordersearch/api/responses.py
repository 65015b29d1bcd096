"""JSON responses rendered by orjson, and the one error shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ordersearch.errors import (
    InvalidRequest,
    OrderSearchError,
    ServiceUnavailable,
    TooManyRequests,
)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def failure_body(message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "failed", "message": message, **extra}


def error_response(exc: OrderSearchError) -> JSONResponse:
    body = failure_body(exc.message)
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidRequest):
        body["errors"] = [e.as_dict() for e in exc.errors]
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="ordersearch"'
    if isinstance(exc, TooManyRequests | ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body, status_code=exc.status_code, headers=headers)
