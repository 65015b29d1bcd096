"""One element is one transaction: written whole or not at all, also under concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ordersearch.db.engine import Database
from ordersearch.db.tables import (
    contacts,
    customers,
    enquiries,
    order_fields,
    order_items,
    orders,
)
from ordersearch.errors import NotFound
from ordersearch.ingest import bulk, service
from ordersearch.ingest.service import apply_element, ingest_one
from tests.conftest import Tenant
from tests.ingest.conftest import Push, count, ok, order_body, rows

ALL_TABLES = (customers, contacts, enquiries, orders, order_items, order_fields)


def full_element(erp: str = "ERP-1", phone: str = "9380491257") -> dict[str, Any]:
    return order_body(
        customer={"customer_name": "Asha", "phone": phone},
        contact_info=[{"contact_person_name": "Ravi", "contact_person_phone": "9000000001"}],
        enquiry_info={"status": "Open"},
        order={"erp_order_id": erp, "additional_fields": {"k": "v"},
               "product_details": [{"sku_id": "S-1", "quantity": 1}]},
    )


def _fail(*_args: Any) -> None:
    raise RuntimeError("disk on fire")


def test_a_failure_after_the_last_write_leaves_nothing(
    push: Push, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "_sync_order_fields", _fail)
    response = push(full_element())
    assert response.status_code == 500
    assert response.json() == {"status": "failed", "message": "Internal server error"}
    assert [count(database, table) for table in ALL_TABLES] == [0] * len(ALL_TABLES)


def test_a_failed_update_keeps_the_stored_order(
    push: Push, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(push(full_element()))
    before = {table.name: rows(database, table) for table in ALL_TABLES}
    monkeypatch.setattr(service, "_sync_order_fields", _fail)
    update = full_element()
    update["order_info"] |= {"amount": "5", "product_details": [{"sku_id": "S-2"}]}
    update["contact_info"].append({"contact_person_phone": "9111111111"})
    assert push(update).status_code == 500
    assert {table.name: rows(database, table) for table in ALL_TABLES} == before


def test_an_unexpected_failure_in_an_array_is_reported_in_place(
    push: Push, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service._sync_order_fields
    calls: list[int] = []

    def fail_the_second_time(conn: Any, account: Any, order_id: int) -> None:
        calls.append(order_id)
        if len(calls) == 2:
            raise RuntimeError("boom")
        real(conn, account, order_id)

    monkeypatch.setattr(service, "_sync_order_fields", fail_the_second_time)
    # Through the per-element path: the multi-row inserts would not call _sync_order_fields.
    monkeypatch.setattr(bulk, "plain_new_orders", lambda *_args: bulk.Plan([], [], []))
    results = push([full_element("A"), full_element("B", "9111111111"),
                    full_element("C", "9222222222")]).json()
    assert [r["status"] for r in results] == ["success", "failed", "success"]
    assert results[1] == {"status": "failed", "message": "Internal server error", "errors": []}
    assert {o["erp_order_id"] for o in rows(database, orders)} == {"A", "C"}
    assert {c["phone"] for c in rows(database, customers)} == {"9380491257", "9222222222"}


def test_a_failed_multi_row_insert_falls_back_to_one_element_at_a_time(
    push: Push, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = bulk.write_new_orders

    def write_then_fail(*args: Any) -> Any:
        written(*args)
        raise RuntimeError("boom after writing")

    monkeypatch.setattr(bulk, "write_new_orders", write_then_fail)
    elements = [full_element("A"), full_element("B", "9111111111")]
    assert [r["status"] for r in push(elements).json()] == ["success", "success"]
    assert sorted(o["erp_order_id"] for o in rows(database, orders)) == ["A", "B"]
    assert count(database, customers) == 2 and count(database, order_items) == 2


def test_apply_element_undoes_only_the_failed_element(
    database: Database, tenant: Tenant
) -> None:
    bad = full_element("B", "9111111111")
    bad["enquiry_info"] = {"enquiry_id": 12345}
    with database.write() as conn:
        apply_element(conn, tenant.account, full_element("A"))
        with pytest.raises(NotFound):
            apply_element(conn, tenant.account, bad)
        apply_element(conn, tenant.account, full_element("C", "9222222222"))
    assert {o["erp_order_id"] for o in rows(database, orders)} == {"A", "C"}
    assert count(database, customers) == 2 and count(database, contacts) == 2


def test_concurrent_pushes_of_one_order_make_one_order(
    database: Database, tenant: Tenant
) -> None:
    workers = 8
    start = threading.Barrier(workers)

    def push_same(index: int) -> int:
        start.wait()
        element = full_element()
        element["order_info"]["remarks"] = f"attempt {index}"
        return int(ingest_one(database, tenant.account, element)["order_id"])

    with ThreadPoolExecutor(workers) as pool:
        order_ids = set(pool.map(push_same, range(workers)))
    assert len(order_ids) == 1
    assert count(database, orders) == 1 and count(database, customers) == 1
    assert count(database, enquiries) == 1 and count(database, contacts) == 1
    assert count(database, order_items) == 1 and count(database, order_fields) == 1
