"""A batch (`ingest_batch`, multi-row inserts for plain new orders, savepoints for the
rest) leaves exactly the rows and answers that the same elements applied one at a time
(`ingest_one`, one transaction each) leave.

Each example draws a history and a batch from small pools of erp ids, customer codes,
phones and emails, so elements often share identities with each other and with stored
rows. Two accounts of one database get the same history one element at a time; then one
takes the batch whole and the other one element at a time. Ids differ between the two, so
rows are compared by content, with references replaced by the content they point to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ordersearch import accounts as accounts_service
from ordersearch.db.engine import Database
from ordersearch.db.tables import (
    contacts,
    customers,
    enquiries,
    order_fields,
    order_items,
    orders,
)
from ordersearch.errors import OrderSearchError
from ordersearch.ingest import bulk, service
from ordersearch.ingest.service import ingest_batch, ingest_one
from ordersearch.tenancy import Account

NOW = datetime(2026, 12, 4, 10, 30, 0)
NOT_CONTENT = {"id", "account_id", "created_at", "updated_at", "customer_id", "enquiry_id",
               "order_id"}

maybe = st.none

customer_infos = st.fixed_dictionaries(
    {"customer_name": st.sampled_from(["Asha Rao", "Ravi K"])},
    optional={
        "customer_code": st.sampled_from(["C1", "C2", "C3"]),
        "phone": st.sampled_from(["9380491257", "+91 93804 91257", "9380491258", "12345"]),
        "email_id": st.sampled_from(["a@x.com", " A@X.COM", "b@x.com"]),
        "city": st.sampled_from(["Pune", "Goa"]),
        "update": st.booleans(),
        "additional_fields": st.dictionaries(st.sampled_from(["tier", "Tier"]),
                                             st.sampled_from(["gold", 1, True]), max_size=2),
    },
)
contact_infos = st.lists(
    st.fixed_dictionaries(
        {"contact_person_name": st.sampled_from(["Meera", "Kiran"])},
        optional={
            "contact_person_phone": st.sampled_from(["9000000001", "9000000002"]),
            "contact_person_email": st.sampled_from(["m@x.com", "k@x.com"]),
        },
    ),
    max_size=2,
)
order_infos = st.fixed_dictionaries(
    {"amount": st.sampled_from(["1", "2.50", "1", "abc"])},
    optional={
        "erp_order_id": st.sampled_from(["E1", "E2", "E3", "E4"]),
        "booking_status": st.sampled_from(["Booked", "Cancelled"]),
        "create_date": st.sampled_from(["2026-01-02T03:04:05Z", "2025-06-01"]),
        "additional_fields": st.dictionaries(st.sampled_from(["floor", "Floor", "view"]),
                                             st.sampled_from(["12", 12, "Sea"]), max_size=2),
        "product_details": st.lists(
            st.fixed_dictionaries({"sku_id": st.sampled_from(["S1", "S2"]),
                                   "quantity": st.integers(1, 3)}),
            max_size=2,
        ),
    },
)
# The same person sent again, as an ERP sends a repeat customer: same identities, the
# other values and the `update` flag drawn afresh.
PEOPLE = ({"customer_code": "C1"}, {"phone": "9380491257", "email_id": "a@x.com"},
          {"customer_code": "C2", "phone": "12345"})
IDENTITY_KEYS = ("customer_code", "phone", "email_id")
repeat_customers = st.builds(
    lambda person, update, rest: {
        **{k: v for k, v in rest.items() if k not in IDENTITY_KEYS}, **person, "update": update
    },
    st.sampled_from(PEOPLE), st.booleans(), customer_infos,
)
elements = st.fixed_dictionaries(
    {"customer_info": st.one_of(repeat_customers, repeat_customers, customer_infos,
                                st.just({})),
     "order_info": order_infos},
    optional={
        "contact_info": contact_infos,
        "enquiry_info": st.fixed_dictionaries({"status": st.sampled_from(["Open", "Won"])}),
    },
)


def _content(row: Any) -> tuple[Any, ...]:
    return tuple(sorted(
        (key, repr(value)) for key, value in row._mapping.items() if key not in NOT_CONTENT
    ))


def snapshot(database: Database, account: Account) -> dict[str, Any]:
    """Every row of the account by content; references replaced by what they point to."""
    def of(conn: Any, table: Any) -> list[Any]:
        return list(conn.execute(
            select(table).where(table.c.account_id == account.id).order_by(table.c.id)
        ))

    with database.read() as conn:
        customer = {row.id: _content(row) for row in of(conn, customers)}
        enquiry = {row.id: (_content(row), customer[row.customer_id])
                   for row in of(conn, enquiries)}
        items: dict[int, list[Any]] = {}
        for row in of(conn, order_items):
            items.setdefault(row.order_id, []).append(_content(row))
        fields: dict[int, list[Any]] = {}
        for row in of(conn, order_fields):
            fields.setdefault(row.order_id, []).append(_content(row))
        order = {
            row.id: (_content(row), customer[row.customer_id],
                     enquiry.get(row.enquiry_id), items.get(row.id, []),
                     sorted(fields.get(row.id, [])))
            for row in of(conn, orders)
        }
        contact = sorted((_content(row), customer[row.customer_id])
                         for row in of(conn, contacts))
    return {"customers": customer, "enquiries": enquiry, "orders": order, "contacts": contact}


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    return {name: sorted(map(repr, rows.values())) if isinstance(rows, dict) else rows
            for name, rows in state.items()}


def answer(result: dict[str, Any], state: dict[str, Any]) -> tuple[Any, ...]:
    """A result with its ids replaced by the content of the rows they name."""
    if result["status"] != "success":
        return ("failed", result["message"], repr(result.get("errors")))
    return ("success", result["message"], tuple(result["warnings"]),
            state["orders"][result["order_id"]], state["customers"][result["customer_id"]],
            result["enquiry_id"] and state["enquiries"][result["enquiry_id"]])


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both paths stamp rows with the same `now`, so rows compare equal."""
    monkeypatch.setattr(service, "utc_now", lambda: NOW)
    monkeypatch.setattr(bulk, "utc_now", lambda: NOW)


@pytest.mark.usefixtures("frozen_clock")
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=st.lists(elements, max_size=4), batch=st.lists(elements, min_size=2,
                                                                 max_size=10))
def test_a_batch_writes_what_one_at_a_time_writes(
    backend: str, fresh_database: Callable[[str], Database],
    history: list[dict[str, Any]], batch: list[dict[str, Any]],
) -> None:
    database = fresh_database(backend)
    with database.write() as conn:
        batched, single = (
            accounts_service.create_account(conn, cm_id=cm_id, subdomain=f"s{cm_id}",
                                            name="A", timezone="Asia/Kolkata")
            for cm_id in (1000001, 1000002)
        )
    for account in (batched, single):
        for element in history:
            with contextlib.suppress(OrderSearchError):  # a failed element is history too
                ingest_one(database, account, element)

    batch_results = ingest_batch(database, batched, batch)
    single_results = []
    for element in batch:
        try:
            single_results.append(ingest_one(database, single, element))
        except OrderSearchError as exc:  # the batch reports failures in place
            single_results.append(service._failure_of(exc))

    batched_state, single_state = snapshot(database, batched), snapshot(database, single)
    assert comparable(batched_state) == comparable(single_state)
    assert [answer(r, batched_state) for r in batch_results] == [
        answer(r, single_state) for r in single_results
    ]


@pytest.mark.usefixtures("frozen_clock")
def test_plain_new_orders_take_the_multi_row_path(
    backend: str, fresh_database: Callable[[str], Database]
) -> None:
    """The comparison above would also pass if nothing ever took the multi-row path."""
    database = fresh_database(backend)
    with database.write() as conn:
        account = accounts_service.create_account(conn, cm_id=1000001, subdomain="s",
                                                  name="A", timezone="Asia/Kolkata")
    batch = [
        {"customer_info": {"customer_name": "N", "customer_code": f"C{i // 2}"},
         "order_info": {"erp_order_id": f"E{i}", "amount": "1"},
         "contact_info": [{"contact_person_name": "M", "contact_person_phone": f"900000000{i}"}]}
        for i in range(6)
    ] + [{"customer_info": {"customer_code": "C0", "update": True},
          "order_info": {"erp_order_id": "E9"}}]  # updates C0: all of C0's group goes slow
    parsed = [service.parse_element(element, account) for element in batch]
    with database.read() as conn:
        plan = bulk.plain_new_orders(conn, account, parsed)
    assert plan.positions == [2, 3, 4, 5]
    assert plan.creators == [0, 0, 2, 2]  # elements 2 and 4 create the two customers
    results = ingest_batch(database, account, batch)
    assert [r["status"] for r in results] == ["success"] * 7
    assert len({r["customer_id"] for r in results}) == 3
