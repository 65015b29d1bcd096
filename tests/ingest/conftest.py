"""Helpers for ingest tests: push bodies through the HTTP endpoint, look at rows directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, func, select

from ordersearch.db.engine import Database
from tests.conftest import ADD_UPDATE, Tenant

Push = Callable[..., httpx2.Response]


def order_body(
    *,
    customer: dict[str, Any] | None = None,
    order: dict[str, Any] | None = None,
    **sections: Any,
) -> dict[str, Any]:
    """A small valid element; `customer`/`order` replace the defaults, other keyword
    arguments are top-level keys (enquiry_info, contact_info, cmId, ...)."""
    if customer is None:
        customer = {"customer_name": "Asha Rao", "phone": "9380491257",
                    "email_id": "asha@example.com"}
    if order is None:
        order = {"erp_order_id": "ERP-1", "amount": "1250.50"}
    return {"customer_info": customer, "order_info": order, **sections}


@pytest.fixture
def push(client: TestClient, tenant: Tenant) -> Push:
    def send(body: Any, headers: dict[str, str] | None = None) -> httpx2.Response:
        return client.post(ADD_UPDATE, json=body, headers=headers or tenant.write_headers)

    return send


def count(database: Database, table: Table) -> int:
    with database.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def rows(database: Database, table: Table) -> list[dict[str, Any]]:
    with database.read() as conn:
        result = conn.execute(select(table).order_by(table.c.id))
        return [dict(row._mapping) for row in result]


def row(database: Database, table: Table, row_id: int) -> dict[str, Any]:
    with database.read() as conn:
        found = conn.execute(select(table).where(table.c.id == row_id)).first()
    assert found is not None, f"no {table.name} row {row_id}"
    return dict(found._mapping)


def ok(response: httpx2.Response) -> dict[str, Any]:
    """The success body of a response, failing the test with the body when it is not one."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "success", body
    return body


def failed(response: httpx2.Response, status: int, *fields: str) -> dict[str, Any]:
    """The failure body, checked for the status and for an error naming each field."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "failed" and body["message"], body
    if status == 400:
        named = {error["field"] for error in body["errors"]}
        assert set(fields) <= named, body
    return body
