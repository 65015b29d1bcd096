"""One JSON error shape everywhere (contract §4): never HTML, never a traceback, never SQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from ordersearch.api.app import create_app
from ordersearch.auth import Authenticator
from ordersearch.config import MAX_BODY_BYTES, Settings
from ordersearch.db.engine import Database
from tests.conftest import ADD_UPDATE, PULL, Tenant, basic_auth

WRITER = basic_auth("demo-writer", "write-pass")
SMALL_BODY = b'{"cmId": 1000298, "customerIds": "1"}'


def assert_error(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert body["status"] == "failed"
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"status", "message", "errors"}
    text = response.text
    for leak in ("Traceback", "<html", "File \"", "sqlalchemy", "SELECT "):
        assert leak not in text
    return body


def padded(size: int) -> bytes:
    """A valid pull body of exactly `size` bytes (trailing whitespace is valid JSON)."""
    assert size >= len(SMALL_BODY)
    return SMALL_BODY + b" " * (size - len(SMALL_BODY))


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ["/no-such-path", "/ms/customer-search/order-search/api/v2/x"])
def test_unknown_path_is_404(client: TestClient, method: str, path: str) -> None:
    body = assert_error(client.request(method, path, headers=WRITER), 404)
    assert set(body) == {"status", "message"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", [PULL, ADD_UPDATE])
def test_wrong_method_is_405(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers=WRITER)
    body = assert_error(response, 405)
    assert set(body) == {"status", "message"}
    assert "POST" in response.headers.get("allow", "")


def test_post_to_healthz_is_405(client: TestClient) -> None:
    assert_error(client.post("/healthz"), 405)


def test_healthz_needs_no_credentials(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize("path", [PULL, ADD_UPDATE])
def test_body_over_one_mib_is_413(client: TestClient, tenant: Tenant, path: str) -> None:
    oversize = padded(MAX_BODY_BYTES + 1)
    # An honest Content-Length.
    assert_error(client.post(path, content=oversize, headers=WRITER), 413)
    # A Content-Length that lies (claims a small body): the bytes read are counted.
    lying = {**WRITER, "Content-Length": "100"}
    assert_error(client.post(path, content=oversize, headers=lying), 413)
    # No Content-Length at all (chunked upload).

    def chunks() -> Iterator[bytes]:
        step = 64 * 1024
        for start in range(0, len(oversize), step):
            yield oversize[start : start + step]

    assert_error(client.post(path, content=chunks(), headers=WRITER), 413)
    # A huge declared length is refused without reading anything.
    huge = {**WRITER, "Content-Length": str(50 * MAX_BODY_BYTES)}
    assert_error(client.post(path, content=SMALL_BODY, headers=huge), 413)


def test_body_of_exactly_one_mib_is_accepted(client: TestClient, tenant: Tenant) -> None:
    response = client.post(PULL, content=padded(MAX_BODY_BYTES), headers=WRITER)
    assert response.status_code == 200, response.text[:500]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"cmId": 1000298,',
        b"{cmId: 1000298}",
        b"not json at all",
        b'{"cmId": 1000298, "customerIds": "1"} trailing',
        b"",
        b"\xff\xfe\x00",
    ],
    ids=["truncated", "unquoted-key", "text", "trailing-garbage", "empty", "not-utf8"],
)
@pytest.mark.parametrize("path", [PULL, ADD_UPDATE])
def test_malformed_json_is_400(client: TestClient, tenant: Tenant, path: str, raw: bytes) -> None:
    body = assert_error(client.post(path, content=raw, headers=WRITER), 400)
    assert body["errors"] and body["errors"][0]["field"] == "body"


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"cmId"', b"42", b"null"])
def test_pull_body_that_is_not_an_object_is_400(
    client: TestClient, tenant: Tenant, raw: bytes
) -> None:
    body = assert_error(client.post(PULL, content=raw, headers=WRITER), 400)
    assert body["errors"][0]["field"] == "body"


def test_unexpected_exception_is_a_bare_500(
    database: Database,
    settings: Settings,
    authenticator: Authenticator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app: FastAPI = create_app(settings, database=database, authenticator=authenticator)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail: password=hunter2 at /srv/ordersearch/x.py")

    @app.post("/boom-async")
    async def boom_async() -> None:
        raise KeyError("another secret")

    with (
        caplog.at_level(logging.ERROR, logger="ordersearch.api"),
        TestClient(app, raise_server_exceptions=False) as test_client,
    ):
        for response in (test_client.get("/boom"), test_client.post("/boom-async")):
            assert_error(response, 500)
            assert response.content == b'{"status":"failed","message":"Internal server error"}'
            assert "secret" not in response.text
    # The trace goes to the log, not to the client.
    assert any(record.exc_info for record in caplog.records)
