"""Export streams every match, in the Pull order, whatever the batch size."""

from __future__ import annotations

import csv
import io

import orjson
import pytest
from fastapi.testclient import TestClient

from ordersearch.search import export as export_module
from tests.conftest import Tenant
from tests.search import add_orders, element, pull

EXPORT = "/ms/customer-search/order-search/api/v1/export"


@pytest.fixture
def orders(client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    # Small batches so a dozen orders cross several keyset batches.
    monkeypatch.setattr(export_module, "BATCH_SIZE", 4)
    statuses = ["Booked", "Cancelled", "Booked", "On Hold"]
    return add_orders(
        client,
        tenant,
        *(
            element(
                customer={"customer_name": f"Buyer {i % 5}"},
                order={
                    "booking_status": statuses[i % 4],
                    "amount": str(1000 + (i * 37) % 11) if i % 3 else "",
                    "create_date": f"2024-03-{1 + i % 9:02d} 10:00",
                    "attr1": "Tower A" if i % 2 else "Tower B",
                },
            )
            for i in range(13)
        ),
    )


@pytest.mark.parametrize("sort", ["createDate desc", "amount", "-customerName", "orderId"])
def test_ndjson_export_equals_every_pull_row(
    client: TestClient, tenant: Tenant, orders: list[int], sort: str
) -> None:
    body = {"cmId": tenant.account.cm_id, "bookingStatus": "booked, on hold", "sortParam": sort}
    expected = pull(client, tenant, limit=500, **{k: v for k, v in body.items() if k != "cmId"})
    response = client.post(EXPORT, json=body, headers=tenant.read_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    exported = [orjson.loads(line) for line in response.content.splitlines()]
    assert exported == expected["orders"]
    assert len(exported) == expected["totalCount"] > 4


def test_csv_export_has_a_header_and_one_line_per_order(
    client: TestClient, tenant: Tenant, orders: list[int]
) -> None:
    body = {"cmId": tenant.account.cm_id, "attr1": "tower a", "format": "csv", "viewId": 1}
    response = client.post(EXPORT, json=body, headers=tenant.read_headers)
    assert response.status_code == 200, response.text
    table = list(csv.DictReader(io.StringIO(response.text)))
    expected = pull(client, tenant, limit=500, attr1="tower a", viewId=1)["orders"]
    assert [int(r["orderId"]) for r in table] == [o["orderId"] for o in expected]
    assert set(table[0]) == set(expected[0])


def test_export_rejects_an_unknown_format_before_streaming(
    client: TestClient, tenant: Tenant
) -> None:
    body = {"cmId": tenant.account.cm_id, "orderIds": "1", "format": "xlsx"}
    response = client.post(EXPORT, json=body, headers=tenant.read_headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "format", "message": "'xlsx' is not one of ndjson, csv"}
    ]


def test_export_needs_credentials_and_a_filter(client: TestClient, tenant: Tenant) -> None:
    assert client.post(EXPORT, json={"cmId": 1000298, "orderIds": "1"}).status_code == 401
    response = client.post(EXPORT, json={"cmId": 1000298}, headers=tenant.read_headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "filters"
