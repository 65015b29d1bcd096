"""Every error, ours or the framework's, leaves as `{"status":"failed","message":...}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ordersearch.api.responses import JSONResponse, error_response, failure_body
from ordersearch.errors import OrderSearchError, ServiceUnavailable

logger = logging.getLogger("ordersearch.api")

_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body is larger than 1 MiB",
}


async def _ordersearch_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OrderSearchError)
    return error_response(exc)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code, "Request failed")
    return JSONResponse(
        failure_body(message), status_code=exc.status_code, headers=exc.headers or None
    )


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg"))}
        for e in exc.errors()
    ]
    return JSONResponse(failure_body("Invalid request", errors=errors), status_code=400)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    # SQLite past its busy timeout, PostgreSQL down: the transaction was rolled back, so a
    # retry is safe; the client gets 503 with Retry-After rather than a bare 500.
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(ServiceUnavailable())


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The client learns nothing about the failure; the log keeps the trace.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(failure_body("Internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OrderSearchError, _ordersearch_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
