"""The HTTP endpoints: parse, call one service function, shape the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from ordersearch.api.deps import (
    AuthenticatedRead,
    CurrentPrincipal,
    Db,
    JsonBody,
    WritePrincipal,
)
from ordersearch.api.openapi import ADD_UPDATE_OPERATION, EXPORT_OPERATION, PULL_OPERATION
from ordersearch.api.responses import JSONResponse
from ordersearch.ingest.service import add_update
from ordersearch.search.export import plan_export, stream_export
from ordersearch.search.service import pull_orders

PULL_PATH = "/ms/customer-search/order-search/api/v1/pull-internal"
ADD_UPDATE_PATH = "/ms/customer/order/api/v1/add-update"
EXPORT_PATH = "/ms/customer-search/order-search/api/v1/export"

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    """Ready: the database answers and its schema is at the code's migration head."""
    status, body = request.app.state.readiness.check()
    return JSONResponse(body, status_code=status)


@router.post(PULL_PATH, summary="Pull orders (search)", openapi_extra=PULL_OPERATION)
async def pull(call: AuthenticatedRead) -> JSONResponse:
    return JSONResponse(await call.run(pull_orders))


@router.post(
    EXPORT_PATH,
    summary="Export every matching order as NDJSON or CSV",
    response_class=StreamingResponse,
    openapi_extra=EXPORT_OPERATION,
)
def export(principal: CurrentPrincipal, body: JsonBody, database: Db) -> StreamingResponse:
    plan = plan_export(principal.account, body)
    return StreamingResponse(
        stream_export(database, principal.account, plan), media_type=plan.media_type
    )


@router.post(ADD_UPDATE_PATH, summary="Add or update orders", openapi_extra=ADD_UPDATE_OPERATION)
def add_update_orders(principal: WritePrincipal, body: JsonBody, database: Db) -> JSONResponse:
    result: Any = add_update(database, principal.account, body)
    return JSONResponse(result)
