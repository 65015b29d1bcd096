"""Request dependencies: the database, the JSON body, the authenticated principal."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection
from starlette.requests import ClientDisconnect

from ordersearch.auth import Authenticator, Principal
from ordersearch.config import MAX_BODY_BYTES, Settings
from ordersearch.db.engine import Database
from ordersearch.errors import AuthenticationFailed, InvalidRequest, PayloadTooLarge
from ordersearch.jsonbody import parse_body


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


Db = Annotated[Database, Depends(get_database)]


def read_connection(database: Db) -> Iterator[Connection]:
    """A read snapshot for the request; it ends when the route returns."""
    with database.read() as conn:
        yield conn


ReadConn = Annotated[Connection, Depends(read_connection)]


async def json_body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise PayloadTooLarge()
            chunks.append(chunk)
    except ClientDisconnect:
        # Nobody is left to read an answer; end the request without logging a trace.
        raise InvalidRequest.single("body", "the client disconnected before sending it") from None
    return parse_body(b"".join(chunks))


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


def current_principal(
    request: Request,
    database: Db,
    authenticator: Annotated[Authenticator, Depends(get_authenticator)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> Principal:
    client = request.client.host if request.client else "unknown"
    credentials = _credentials(request.headers.get("authorization"))
    if credentials is None:
        raise authenticator.reject_malformed(client)
    with database.read() as conn:
        principal = authenticator.authenticate(conn, *credentials, client)
    if settings.base_domain and not _host_matches(
        request, principal.account.subdomain, settings.base_domain
    ):
        raise AuthenticationFailed()
    request.state.cm_id = principal.account.cm_id
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def writing_principal(principal: CurrentPrincipal) -> Principal:
    """A principal allowed to ingest; checked before the body is read."""
    principal.require_write()
    return principal


WritePrincipal = Annotated[Principal, Depends(writing_principal)]
