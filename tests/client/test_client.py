"""The client against the whole app (in-process transport), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ordersearch.client import (
    AddUpdateResult,
    ApiError,
    ApiWarning,
    AuthError,
    Client,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from tests.client.conftest import READER, MakeClient, seed_elements


@pytest.fixture
def writer(api: MakeClient) -> Client:
    return api()


@pytest.fixture
def seeded(writer: Client) -> list[AddUpdateResult]:
    """Ten orders pushed as one array; their results."""
    results = writer.add_update(seed_elements(10))
    assert [r["status"] for r in results] == ["success"] * 10, results
    return results


def test_pull_follows_every_page(writer: Client, seeded: list[AddUpdateResult]) -> None:
    one_page = writer.pull_page({"attr1": "tower a, tower b", "limit": 500})
    assert one_page["totalCount"] == 10 and one_page["nextCursor"] is None
    orders = writer.pull(page_size=3, attr1=["Tower A", "Tower B"])
    assert list(orders) == one_page["orders"]
    assert (orders.pages, orders.total_count, orders.warnings) == (4, 10, [])
    by_amount = [o["orderId"] for o in writer.pull(sort="-amount", page_size=4, attr1="Tower B")]
    assert by_amount == [r["order_id"] for r in reversed(seeded[5:])]


def test_filters_take_lists_strings_numbers_dates_and_objects(
    writer: Client, seeded: list[AddUpdateResult]
) -> None:
    ids = [r["order_id"] for r in seeded]
    customers = [r["customer_id"] for r in seeded]

    def found(**filters: Any) -> set[int]:
        return {o["orderId"] for o in writer.pull(view_id=1, **filters)}

    assert found(orderIds=ids[:3]) == found(orderIds=f"{ids[0]}, {ids[1]},{ids[2]}") == set(
        ids[:3]
    )
    assert found(orderIds=ids[4]) == {ids[4]}
    assert found(customerIds=(customers[0],)) == set(ids[0::3])
    assert found(bookingStatus=["booked", "ON HOLD"]) == set(ids[0::3]) | set(ids[2::3])
    assert found(createStartDate=date(2024, 3, 3), createEndDate="2024-03-05") == set(ids[2:5])
    assert found(additionalFields={"floor": 1}) == {ids[1], ids[5], ids[9]}
    assert found(additionalFields={"floor": "1"}, city=["bengaluru"]) == {ids[1]}
    assert found(phone="+91 98450 00002", customerIds=None) == set(ids[2::3])
    first = next(writer.pull(view_id=1, orderIds=ids[0]))
    assert set(first) == {
        "orderId", "erpOrderId", "clientReferenceId", "customerId", "enquiryId",
        "createDate", "bookingStatus", "bookingSubStatus", "updatedAt",
    }


def test_export_equals_pull(
    writer: Client, seeded: list[AddUpdateResult], tmp_path: Path
) -> None:
    pulled = list(writer.pull(sort="amount", bookingStatus="Booked, Cancelled"))
    assert len(pulled) == 7
    assert list(writer.export(sort="amount", bookingStatus="Booked, Cancelled")) == pulled

    rows = list(writer.export(format="csv", view_id=1, sort="amount", bookingStatus="booked"))
    assert [int(r["orderId"]) for r in rows] == [
        o["orderId"] for o in pulled if o["bookingStatus"] == "Booked"
    ]
    path = tmp_path / "orders.csv"
    size = writer.export_csv(path, sort="amount", bookingStatus="Booked, Cancelled")
    assert size == path.stat().st_size > 0
    table = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [(int(r["orderId"]), r["amount"]) for r in table] == [
        (o["orderId"], o["amount"]) for o in pulled
    ]
    text = io.StringIO()
    writer.export_csv(text, sort="amount", bookingStatus="Booked, Cancelled")
    assert text.getvalue() == path.read_bytes().decode()

    with pytest.raises(ValidationError) as raised:
        writer.export_csv(tmp_path / "bad.csv", orderIds="1x")
    assert raised.value.errors[0]["field"] == "orderIds"
    assert not (tmp_path / "bad.csv").exists()


def test_add_update_single_and_array(writer: Client) -> None:
    element = seed_elements(1)[0]
    added = writer.add_update(element)
    assert added["status"] == "success" and added["message"] == "Order Added Successfully"
    assert isinstance(added["order_id"], int) and added["enquiry_id"] is None
    again = writer.add_update(element)  # what a retry does: the same order, updated
    assert again["message"] == "Order Updated Successfully"
    assert again["order_id"] == added["order_id"]

    results = writer.add_update([
        {"order_info": {"erp_order_id": "SO-CLIENT-000", "booking_status": "Cancelled"}},
        {"customer_info": {"customer_name": "X"}, "order_info": {"amount": "12,50,000"}},
        {"customer_info": {"customer_name": "Y"}, "order_info": {"erp_order_id": "SO-NEW"}},
    ])
    assert [r["status"] for r in results] == ["success", "failed", "success"]
    assert results[0]["order_id"] == added["order_id"]
    assert results[1]["errors"] == [
        {"field": "order_info.amount", "message": "not a decimal number: '12,50,000'"}
    ]
    assert next(writer.pull(orderIds=added["order_id"]))["bookingStatus"] == "Cancelled"


def test_error_answers_raise_api_error_subclasses(api: MakeClient, writer: Client) -> None:
    with pytest.raises(ValidationError) as bad:
        list(writer.pull(customerIds="12, 1x5", createStartDate="10/03/2024"))
    assert bad.value.status == 400
    assert {e["field"] for e in bad.value.errors} == {"customerIds", "createStartDate"}
    with pytest.raises(ValidationError, match="order_info.zone_id"):
        writer.add_update({"customer_info": {"customer_name": "Z"},
                           "order_info": {"zone_id": "Z3"}})

    with pytest.raises(AuthError) as unauthorised:
        list(api(password="wrong").pull(orderIds=1))
    assert (unauthorised.value.status, unauthorised.value.message) == (401, "Invalid Auth Key")

    with pytest.raises(ForbiddenError, match="cmId does not match"):
        list(api(cm_id=4242).pull(orderIds=1))
    reader = api(*READER)
    with pytest.raises(ForbiddenError, match="may only read"):
        reader.add_update({"order_info": {"erp_order_id": "SO-1"}})
    assert list(reader.pull(orderIds=1)) == []

    with pytest.raises(NotFoundError) as missing:
        writer.add_update({"order_info": {"order_id": 99999999, "booking_status": "Booked"}})
    assert missing.value.message == "order_info.order_id: no order 99999999 in this account"
    assert isinstance(missing.value, ApiError) and missing.value.errors == []


def test_misuse_is_caught_before_sending(api: MakeClient, writer: Client) -> None:
    with pytest.raises(ValueError, match="no cm_id"):
        api(cm_id=None).pull(orderIds=1)
    with pytest.raises(TypeError, match="limit"):
        writer.pull(orderIds=1, limit=5)
    with pytest.raises(ValueError, match="page_size"):
        writer.pull(orderIds=1, page_size=501)
    with pytest.warns(ApiWarning, match="did you mean 'customerIds'"):
        assert list(writer.pull(orderIds=1, customerId=5)) == []
