"""ordersearch with the Pull route reshaped as proposed in docs/performance.md ("one hop").

Only the bench uses this module: it measures the proposal before it is applied. The app is
`ordersearch.api.app.create_app()` with its Pull route replaced by an `async` route that
reads the body and then does everything else in ONE threadpool call, on ONE pooled
connection inside one read transaction: credentials (the same Authenticator and its
cache: one indexed user lookup per warm request), the host check, `pull_orders` (the
service's own). The
shipped route instead runs three sync dependencies and the endpoint as separate
threadpool hops and checks out two connections (two transactions) per request.

    ORDERSEARCH_DATABASE_URL=... .venv/bin/uvicorn bench.lean_app:app --workers 2

`BENCH_NO_PRE_PING=1` also turns off the pool's pre-ping (a `SELECT 1` round trip per
checkout on PostgreSQL).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import create_engine
from starlette.concurrency import run_in_threadpool

from ordersearch.api.app import create_app
from ordersearch.api.deps import _credentials, _host_matches
from ordersearch.api.responses import JSONResponse
from ordersearch.api.routes import PULL_PATH
from ordersearch.auth import Authenticator
from ordersearch.config import MAX_BODY_BYTES, Settings
from ordersearch.db.engine import Database, make_engine, normalise_url
from ordersearch.errors import AuthenticationFailed, PayloadTooLarge
from ordersearch.jsonbody import parse_body
from ordersearch.search.service import pull_orders


def _database(settings: Settings) -> Database:
    if os.environ.get("BENCH_NO_PRE_PING") and "postgresql" in settings.database_url:
        url = normalise_url(settings.database_url)
        return Database(create_engine(url, pool_size=10, max_overflow=20))
    return Database(make_engine(settings.database_url))


def build() -> FastAPI:
    settings = Settings()
    app = create_app(settings, database=_database(settings))
    app.router.routes = [
        route for route in app.router.routes if getattr(route, "path", None) != PULL_PATH
    ]
    database: Database = app.state.database
    authenticator: Authenticator = app.state.authenticator

    def handle(header: str | None, host: Request, client: str, raw: bytes) -> dict[str, Any]:
        credentials = _credentials(header)
        if credentials is None:
            raise authenticator.reject_malformed(client)
        with database.read() as conn:
            principal = authenticator.authenticate(conn, *credentials, client)
            if settings.base_domain and not _host_matches(
                host, principal.account.subdomain, settings.base_domain
            ):
                raise AuthenticationFailed()
            if len(raw) > MAX_BODY_BYTES:
                raise PayloadTooLarge()
            return pull_orders(conn, principal.account, parse_body(raw))

    @app.post(PULL_PATH)
    async def pull(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raw = b"x" * (MAX_BODY_BYTES + 1)  # refused after authentication, as shipped
        else:
            raw = await request.body()
        client = request.client.host if request.client else "unknown"
        answer = await run_in_threadpool(
            handle, request.headers.get("authorization"), request, client, raw
        )
        return JSONResponse(answer)

    return app


app = build()
