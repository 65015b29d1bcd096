"""Request dependencies: the database, the JSON body, the authenticated principal."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from ordersearch.auth import Authenticator, Principal
from ordersearch.config import MAX_BODY_BYTES
from ordersearch.db.engine import Database
from ordersearch.errors import AuthenticationFailed, InvalidRequest, PayloadTooLarge
from ordersearch.jsonbody import parse_body
from ordersearch.tenancy import Account

T = TypeVar("T")


# `async` on purpose: FastAPI runs a plain `def` dependency in a worker thread, and the
# hop costs more than the lookup.
async def get_database(request: Request) -> Database:
    return request.app.state.database


Db = Annotated[Database, Depends(get_database)]


async def _read_limited(request: Request) -> bytes | None:
    """The raw body, or None when it is larger than MAX_BODY_BYTES (reading stops there)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        # Nobody is left to read an answer; end the request without logging a trace.
        raise InvalidRequest.single("body", "the client disconnected before sending it") from None
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    raw = await _read_limited(request)
    if raw is None:
        raise PayloadTooLarge()
    return parse_body(raw)


JsonBody = Annotated[Any, Depends(json_body)]


def _credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):  # binascii.Error, non-ASCII tokens
        return None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        return None
    return username, password


def _host_matches(request: Request, subdomain: str, base_domain: str) -> bool:
    host = (request.headers.get("host") or "").split(":", 1)[0].strip().lower().rstrip(".")
    return host == f"{subdomain}.{base_domain.lower().strip('.')}"


def _authenticate(request: Request, conn: Connection) -> Principal:
    """The principal behind the request's Basic credentials, or AuthenticationFailed."""
    state = request.app.state
    authenticator: Authenticator = state.authenticator
    client = request.client.host if request.client else "unknown"
    credentials = _credentials(request.headers.get("authorization"))
    if credentials is None:
        raise authenticator.reject_malformed(client)
    principal = authenticator.authenticate(conn, *credentials, client)
    base_domain = state.settings.base_domain
    if base_domain and not _host_matches(request, principal.account.subdomain, base_domain):
        raise AuthenticationFailed()
    request.state.cm_id = principal.account.cm_id
    return principal


def current_principal(request: Request, database: Db) -> Principal:
    with database.read() as conn:
        return _authenticate(request, conn)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def writing_principal(principal: CurrentPrincipal) -> Principal:
    """A principal allowed to ingest; checked before the body is read."""
    principal.require_write()
    return principal


WritePrincipal = Annotated[Principal, Depends(writing_principal)]


@dataclass(frozen=True)
class ReadCall:
    """A read endpoint's request, gathered on the event loop without touching the database.

    `run` does everything else in one worker thread, on one connection and one snapshot:
    authenticate (so an anonymous caller learns nothing from the body's validation), refuse
    an oversized body, parse it, call the service. Separate dependencies would cost a
    thread hop and a transaction each (docs/performance.md, "request path").
    """

    request: Request
    raw_body: bytes | None  # None: larger than MAX_BODY_BYTES

    async def run(self, service: Callable[[Connection, Account, Any], T]) -> T:
        return await run_in_threadpool(self._run, service)

    def _run(self, service: Callable[[Connection, Account, Any], T]) -> T:
        database: Database = self.request.app.state.database
        with database.read() as conn:
            principal = _authenticate(self.request, conn)
            if self.raw_body is None:
                raise PayloadTooLarge()
            return service(conn, principal.account, parse_body(self.raw_body))


async def read_call(request: Request) -> ReadCall:
    return ReadCall(request, await _read_limited(request))


AuthenticatedRead = Annotated[ReadCall, Depends(read_call)]
