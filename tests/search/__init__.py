"""Pull Order tests. Helpers shared by them: add orders through ingest, then pull them.

Data always goes in through the add-update endpoint (contract §3), the way a client puts
it there, and comes out through the pull endpoint; no test writes rows by hand.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.conftest import ADD_UPDATE, PULL, Tenant


def element(
    *,
    customer: dict[str, Any] | None = None,
    order: dict[str, Any] | None = None,
    enquiry: dict[str, Any] | None = None,
    contacts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One add-update element. Without a phone, email or code, each makes a new customer."""
    body: dict[str, Any] = {
        "customer_info": {"customer_name": "Test Customer", **(customer or {})},
        "order_info": dict(order or {}),
    }
    if enquiry is not None:
        body["enquiry_info"] = enquiry
    if contacts is not None:
        body["contact_info"] = contacts
    return body


def element_with(section: str, field: str, value: Any) -> dict[str, Any]:
    """An element whose `section` ("order", "enquiry", "customer") sets one field."""
    body = element()
    body[f"{section}_info"] = {**body.get(f"{section}_info", {}), field: value}
    return body


def ingest(client: TestClient, tenant: Tenant, *elements: dict[str, Any]) -> list[dict[str, Any]]:
    """Send the elements as one array body; every one must succeed. Returns the results."""
    body = [{"cmId": tenant.account.cm_id, **e} for e in elements]
    response = client.post(ADD_UPDATE, json=body, headers=tenant.write_headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()
    assert [r["status"] for r in results] == ["success"] * len(elements), results
    return results


def add_orders(client: TestClient, tenant: Tenant, *elements: dict[str, Any]) -> list[int]:
    """Ingest the elements; returns their order ids, in the same order."""
    return [result["order_id"] for result in ingest(client, tenant, *elements)]


def add_order(client: TestClient, tenant: Tenant, **sections: Any) -> int:
    """One element (see `element`); returns its order id."""
    return add_orders(client, tenant, element(**sections))[0]


def post_pull(client: TestClient, tenant: Tenant, body: Any) -> Response:
    """The raw pull response for a body, sent as JSON.

    It uses the write user, who may pull too: one credential per test means one slow
    password verification per test (the read role is tested in test_validation.py).
    """
    return client.post(PULL, json=body, headers=tenant.write_headers)


def pull(client: TestClient, tenant: Tenant, **keys: Any) -> dict[str, Any]:
    """A successful pull of the tenant's account with the given body keys."""
    response = post_pull(client, tenant, {"cmId": tenant.account.cm_id, **keys})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def found(client: TestClient, tenant: Tenant, **keys: Any) -> set[int]:
    """The ids of every order a pull with these keys returns (one page of up to 500)."""
    answer = pull(client, tenant, limit=500, **keys)
    ids = {order["orderId"] for order in answer["orders"]}
    assert answer["totalCount"] == len(ids), answer
    return ids
