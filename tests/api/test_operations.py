"""Operations: /readyz, /metrics, request ids, structured logs, and the live API docs."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ordersearch.api.app import create_app
from ordersearch.api.observability import LATENCY_BUCKETS
from ordersearch.auth import Authenticator
from ordersearch.config import Settings
from ordersearch.db import migrate
from ordersearch.db.engine import Database
from tests.conftest import (
    ADD_UPDATE,
    PULL,
    Tenant,
    basic_auth,
    create_pg_database,
    drop_pg_database,
)

EXPORT = "/ms/customer-search/order-search/api/v1/export"
HEX_ID = re.compile(r"[0-9a-f]{32}")


def make_app(database: Database) -> FastAPI:
    settings = Settings(database_url=str(database.engine.url), base_domain=None)
    return create_app(settings, database=database, authenticator=Authenticator())


@pytest.fixture
def sqlite_client(fresh_database: Callable[[str], Database]) -> Iterator[TestClient]:
    """For what does not depend on the backend: one SQLite run is enough."""
    with TestClient(make_app(fresh_database("sqlite")), raise_server_exceptions=False) as client:
        yield client


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
          ) -> float | None:
    return found.get((name, frozenset(labels.items())))


# --- readiness -------------------------------------------------------------------------


def test_healthz_and_readyz_on_a_migrated_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")  # no credentials needed
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ready"}


@pytest.fixture
def old_database(backend: str, fresh_database: Callable[[str], Database]) -> Iterator[Database]:
    """A database of the backend, one migration behind the code (a fresh one of its own)."""
    if backend == "sqlite":
        database = fresh_database("sqlite")
        migrate.downgrade(database.engine, "0001")
        yield database
        return
    url = create_pg_database()
    database = Database.from_url(url)
    try:
        migrate.upgrade(database.engine)
        migrate.downgrade(database.engine, "0001")
        yield database
    finally:
        database.dispose()
        drop_pg_database(url)


def test_readyz_is_503_until_migrations_are_current(old_database: Database) -> None:
    app = make_app(old_database)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/json")
        head = migrate.head_revision()
        assert response.json() == {
            "status": "failed", "message": f"migrations not current: at 0001, head {head}"
        }
        assert client.get("/healthz").status_code == 200  # alive, just not ready
        migrate.upgrade(old_database.engine)
        app.state.readiness.ttl = 0  # the migration check is otherwise cached a few seconds
        assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    database = Database.from_url("postgresql://nobody@127.0.0.1:9/nowhere")
    try:
        with TestClient(make_app(database), raise_server_exceptions=False) as client:
            response = client.get("/readyz")
    finally:
        database.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "failed", "message": "database unreachable"}


# --- metrics ---------------------------------------------------------------------------


def element(erp_order_id: str) -> dict[str, Any]:
    return {"cmId": 1000298, "customer_info": {"customer_name": "Asha Rao", "phone": "9380491257"},
            "order_info": {"erp_order_id": erp_order_id, "amount": "10"}}


def test_metrics_count_requests_latency_pool_and_ingest(client: TestClient, tenant: Tenant) -> None:
    pull_body = {"cmId": 1000298, "customerIds": "191696570", "viewId": 2}
    assert client.post(PULL, json=pull_body, headers=tenant.read_headers).status_code == 200
    assert client.post(PULL, json=pull_body, headers=tenant.read_headers).status_code == 200
    assert client.post(PULL, json=pull_body).status_code == 401
    assert client.get(PULL).status_code == 405
    assert client.get(f"/no/such/path/{uuid.uuid4().hex}").status_code == 404
    bad = {"cmId": 1000298, "order_info": {"amount": "10"}}  # a new order needs a customer
    answer = client.post(ADD_UPDATE, json=[element("ERP-1"), bad], headers=tenant.write_headers)
    assert [r["status"] for r in answer.json()] == ["success", "failed"]
    answer = client.post(ADD_UPDATE, json=element("ERP-1"), headers=tenant.write_headers)
    assert answer.json()["message"] == "Order Updated Successfully"

    found = samples(client)
    requests = "ordersearch_requests_total"
    assert value(found, requests, endpoint=PULL, method="POST", status="200") == 2
    assert value(found, requests, endpoint=PULL, method="POST", status="401") == 1
    assert value(found, requests, endpoint=PULL, method="GET", status="405") == 1
    assert value(found, requests, endpoint="unmatched", method="GET", status="404") == 1
    assert value(found, requests, endpoint=ADD_UPDATE, method="POST", status="200") == 2
    # Only route templates (and "unmatched") become labels, never a client's raw path.
    endpoints = {dict(labels).get("endpoint") for name, labels in found if name == requests}
    assert endpoints <= {PULL, ADD_UPDATE, "unmatched", "/metrics"}

    histogram = "ordersearch_request_duration_seconds"
    assert value(found, f"{histogram}_count", endpoint=PULL) == 4  # 200, 200, 401, 405
    for bound in LATENCY_BUCKETS:
        assert value(found, f"{histogram}_bucket", endpoint=PULL, le=str(bound)) is not None
    assert value(found, f"{histogram}_bucket", endpoint=PULL, le="+Inf") == 4
    assert 0 < (value(found, f"{histogram}_sum", endpoint=PULL) or 0) < 60

    size = value(found, "ordersearch_db_pool_size")
    assert size is not None and size > 0
    assert value(found, "ordersearch_db_pool_checked_out") == 0  # between requests
    assert value(found, "ordersearch_db_pool_overflow") == 0

    ingest = "ordersearch_ingest_elements_total"
    assert value(found, ingest, result="added") == 1
    assert value(found, ingest, result="updated") == 1
    assert value(found, ingest, result="failed") == 1


def test_each_app_has_its_own_registry(fresh_database: Callable[[str], Database]) -> None:
    database = fresh_database("sqlite")
    with TestClient(make_app(database)) as first, TestClient(make_app(database)) as second:
        first.get("/healthz")
        first.get("/healthz")
        second.get("/healthz")
        labels = {"endpoint": "/healthz", "method": "GET", "status": "200"}
        assert value(samples(first), "ordersearch_requests_total", **labels) == 2
        assert value(samples(second), "ordersearch_requests_total", **labels) == 1


# --- request ids -----------------------------------------------------------------------


@pytest.fixture
def boom_client(
    fresh_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("ORDERSEARCH_LOG_FORMAT", "json")
    app = make_app(fresh_database("sqlite"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/healthz", {}, 200),
        (PULL, {}, 401),
        ("/no-such-path", {}, 404),
        (PULL, {"Content-Type": "application/json"}, 401),
        ("/boom", {}, 500),
    ],
)
def test_request_id_is_echoed_or_made(
    boom_client: TestClient, path: str, headers: dict[str, str], status: int
) -> None:
    method = "GET" if path in ("/healthz", "/no-such-path", "/boom") else "POST"
    made = boom_client.request(method, path, headers=headers)
    assert made.status_code == status
    assert HEX_ID.fullmatch(made.headers["x-request-id"])
    given = "req-42.A_b"
    echoed = boom_client.request(method, path, headers={**headers, "X-Request-Id": given})
    assert echoed.status_code == status
    assert echoed.headers["x-request-id"] == given


@pytest.mark.parametrize(
    "given", ["a" * 129, "has space", "semi;colon", "ünï".encode("latin-1"), "", "../x\\y"]
)
def test_insane_request_id_is_replaced(sqlite_client: TestClient, given: str | bytes) -> None:
    response = sqlite_client.get("/healthz", headers={"X-Request-Id": given})
    assert HEX_ID.fullmatch(response.headers["x-request-id"])


# --- logs ------------------------------------------------------------------------------


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_one_json_line_per_request_without_secrets(
    database: Database,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("ORDERSEARCH_LOG_FORMAT", "json")
    monkeypatch.setenv("ORDERSEARCH_LOG_LEVEL", "INFO")
    marker = f"MARKER-{uuid.uuid4().hex}"
    secret = f"pw-{uuid.uuid4().hex}"
    authorization = tenant.write_headers["Authorization"]
    token = authorization.split()[1]
    wrong = basic_auth("demo-writer", secret)
    pull_body = {"cmId": 1000298, "name": marker, "note": secret}
    push_body = {"cmId": 1000298, "customer_info": {"customer_name": marker},
                 "order_info": {"erp_order_id": marker, "remarks": secret}}

    capsys.readouterr()
    with caplog.at_level(logging.INFO), TestClient(
        make_app(database), raise_server_exceptions=False
    ) as client:
        pull = client.post(PULL, json=pull_body, headers={**tenant.write_headers,
                                                            "X-Request-Id": "trace-1"})
        push = client.post(ADD_UPDATE, json=push_body, headers=tenant.write_headers)
        rejected = client.post(PULL, json=pull_body, headers=wrong)
    assert pull.status_code in (200, 400)
    assert push.status_code == 200, push.text
    assert rejected.status_code == 401

    err = capsys.readouterr().err
    lines = [line for line in json_lines(err) if line.get("logger") == "ordersearch.access"]
    assert len(lines) == 3
    first, second, third = lines
    assert first["request_id"] == "trace-1"
    assert second["request_id"] == push.headers["x-request-id"]
    for line, response, path in ((first, pull, PULL), (second, push, ADD_UPDATE),
                                 (third, rejected, PULL)):
        assert line["level"] == "INFO"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])
        assert line["method"] == "POST"
        assert line["path"] == path
        assert line["status"] == response.status_code
        assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert first["account"] == second["account"] == 1000298
    assert "account" not in third  # not authenticated

    everything = err + "\n".join(
        f"{record.getMessage()} {record.__dict__}" for record in caplog.records
    )
    assert caplog.records
    for leak in (marker, secret, token, authorization, "write-pass"):
        assert leak not in everything


def test_the_500_log_line_carries_the_request_id(
    boom_client: TestClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    response = boom_client.get("/boom", headers={"X-Request-Id": "boom-7"})
    assert response.status_code == 500
    lines = json_lines(capsys.readouterr().err)
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["request_id"] == "boom-7"
    assert "kaboom" in error["exc"]  # the trace is logged, never answered
    access = next(line for line in lines if line.get("logger") == "ordersearch.access")
    assert access["status"] == 500 and access["request_id"] == "boom-7"


def test_text_log_format(
    fresh_database: Callable[[str], Database],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ORDERSEARCH_LOG_FORMAT", "text")
    app = make_app(fresh_database("sqlite"))
    capsys.readouterr()
    with TestClient(app) as client:
        client.get("/healthz", headers={"X-Request-Id": "txt-1"})
        client.get("/x%0A{fake}%0D")  # a decoded newline must not start a log line
    err = capsys.readouterr().err
    assert "INFO ordersearch.access [txt-1] GET /healthz 200" in err
    assert "GET /x\\n{fake}\\r 404" in err
    assert not any(line.startswith("{fake}") for line in err.splitlines())
    assert not json_lines(err)


# --- API docs --------------------------------------------------------------------------


def test_docs_redoc_and_openapi(sqlite_client: TestClient) -> None:
    for path, marker in (("/docs", "swagger-ui"), ("/redoc", "redoc")):
        response = sqlite_client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert marker in response.text.lower()
        assert "/openapi.json" in response.text
    document = sqlite_client.get("/openapi.json").json()
    for path in (PULL, EXPORT, ADD_UPDATE):
        assert "post" in document["paths"][path]
    # The published example body is the Pull operation's first example.
    assert "191696570" in json.dumps(document["paths"][PULL]["post"]["requestBody"])
    assert "/metrics" not in document["paths"] and "/readyz" not in document["paths"]


def test_endpoint_label_of_starlette_routes_and_mounts(
    fresh_database: Callable[[str], Database],
) -> None:
    app = make_app(fresh_database("sqlite"))

    async def tiny(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app.mount("/extra", tiny)
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 200
        assert client.get(f"/extra/{uuid.uuid4().hex}").status_code == 200
        found = samples(client)
    for endpoint in ("/docs", "/extra"):
        labels = {"endpoint": endpoint, "method": "GET", "status": "200"}
        assert value(found, "ordersearch_requests_total", **labels) == 1
