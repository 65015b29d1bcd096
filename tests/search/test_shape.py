"""The Pull Order answer (contract §2 "Shaping the answer", "Response"): views, types,
dates, paging, sorting, and one account never seeing another's orders.

The tenant's timezone is Asia/Kolkata, so every date comes back with +05:30.
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant
from tests.search import add_orders, element, found, ingest, pull

ANSWER_KEYS = {
    "status", "message", "cmId", "totalCount", "limit", "offset", "orders", "nextCursor",
    "warnings",
}
VIEW_1_KEYS = {
    "orderId", "erpOrderId", "clientReferenceId", "customerId", "enquiryId", "createDate",
    "bookingStatus", "bookingSubStatus", "updatedAt",
}
ATTRS = {f"attr{i}" for i in range(1, 16)}
VIEW_2_KEYS = {
    "orderId", "erpOrderId", "erpInvoiceId", "clientReferenceId", "customerId",
    "customerName", "customerPhone", "customerEmail", "enquiryId", "createDate",
    "bookingStatus", "bookingSubStatus", "bookingDate", "agreementDate", "creatorId",
    "assignId", "zoneId", "blockId", "unitId", "approvalDesignationId", "approvedById",
    "pricingStatus", "amount", "currency", "paymentMode", "orderType", "remarks",
    *ATTRS, "updatedAt",
}
VIEW_3_KEYS = VIEW_2_KEYS | {"items", "additionalFields", "customer", "enquiry"}
INTEGER_KEYS = {
    "orderId", "customerId", "enquiryId", "creatorId", "assignId", "zoneId", "blockId",
    "unitId", "approvalDesignationId", "approvedById",
}
KOLKATA_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:30$")

FULL_ORDER = element(
    customer={
        "customer_name": "Asha Verma", "customer_code": "C-1", "phone": "+91 93804 91257",
        "email_id": "Asha@Example.com", "city": "Pune", "state": "Maharashtra",
        "country": "India",
    },
    contacts=[{
        "contact_person_name": "Ravi", "contact_person_phone": "9845012345",
        "contact_person_email": "ravi@example.com",
    }],
    enquiry={
        "status": "Open", "subStatus": "Hot", "priority": "High", "assign_emp_id": 7,
        "create_date": "2024-03-01 09:00",
    },
    order={
        "erp_order_id": "ERP-1", "erp_invoice_id": "INV-1", "client_reference_id": "REF-1",
        "create_date": "2024-03-10 10:15:00", "booking_status": "Booked",
        "booking_sub_status": "Paid", "booking_date": "2024-03-11 12:00",
        "agreement_date": "2024-03-12", "creator_id": 11, "assign_id": "12", "zone_id": 1,
        "block_id": 2, "unit_id": 3, "approval_designation_id": 4, "approved_by_id": 5,
        "pricing_status": "Approved", "amount": "1234.50", "currency": "INR",
        "payment_mode": "UPI", "order_type": "Retail", "remarks": "Deliver after 5pm",
        "attr1": "Gold", "attr15": "Last", "additional_fields": {"floor": 3, "wing": "East"},
        "product_details": [{
            "sku_id": "SKU-1", "product_name": "Sofa", "rate": "1000", "quantity": 2,
            "discount": "50",
        }],
    },
)


@pytest.fixture
def full(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    """The ingest result (order_id, customer_id, enquiry_id) of one order with everything."""
    return ingest(client, tenant, FULL_ORDER)[0]


def only_order(client: TestClient, tenant: Tenant, order_id: int, **keys: Any) -> dict[str, Any]:
    answer = pull(client, tenant, orderIds=order_id, **keys)
    assert len(answer["orders"]) == 1, answer
    order: dict[str, Any] = answer["orders"][0]
    return order


# ---------------------------------------------------------------------------------------
# Views


def test_answer_envelope(client: TestClient, tenant: Tenant, full: dict[str, Any]) -> None:
    answer = pull(client, tenant, orderIds=full["order_id"])

    assert set(answer) == ANSWER_KEYS
    assert answer["status"] == "success"
    assert answer["message"] == "Orders fetched successfully"
    for key in ("cmId", "totalCount", "limit", "offset"):
        assert type(answer[key]) is int, key
    assert (answer["cmId"], answer["totalCount"], answer["limit"], answer["offset"]) == (
        1000298, 1, 50, 0
    )
    assert answer["warnings"] == []
    assert answer["nextCursor"] is None


def test_view_1_is_compact(client: TestClient, tenant: Tenant, full: dict[str, Any]) -> None:
    order = only_order(client, tenant, full["order_id"], viewId=1)

    assert set(order) == VIEW_1_KEYS
    assert order["bookingStatus"] == "Booked"
    assert order["bookingSubStatus"] == "Paid"


def test_view_2_is_the_default_with_every_order_field(
    client: TestClient, tenant: Tenant, full: dict[str, Any]
) -> None:
    order = only_order(client, tenant, full["order_id"])

    assert order == only_order(client, tenant, full["order_id"], viewId=2)
    assert set(order) == VIEW_2_KEYS
    assert order["orderId"] == full["order_id"]
    assert order["customerId"] == full["customer_id"]
    assert order["enquiryId"] == full["enquiry_id"]
    assert (order["customerName"], order["customerPhone"], order["customerEmail"]) == (
        "Asha Verma", "+91 93804 91257", "Asha@Example.com"  # as sent, case kept
    )
    assert (order["erpOrderId"], order["erpInvoiceId"], order["clientReferenceId"]) == (
        "ERP-1", "INV-1", "REF-1"
    )
    assert (order["attr1"], order["attr15"]) == ("Gold", "Last")
    assert all(order[f"attr{i}"] is None for i in range(2, 15))
    assert order["remarks"] == "Deliver after 5pm"


def test_view_3_adds_items_fields_customer_and_enquiry(
    client: TestClient, tenant: Tenant, full: dict[str, Any]
) -> None:
    order = only_order(client, tenant, full["order_id"], viewId=3)

    assert set(order) == VIEW_3_KEYS
    assert [item["skuId"] for item in order["items"]] == ["SKU-1"]
    assert order["items"][0]["productName"] == "Sofa"
    assert order["additionalFields"] == {"floor": 3, "wing": "East"}
    customer = order["customer"]
    assert customer["customerId"] == full["customer_id"]
    assert (customer["name"], customer["city"], customer["country"]) == (
        "Asha Verma", "Pune", "India"
    )
    assert [c["phone"] for c in customer["contacts"]] == ["9845012345"]
    enquiry = order["enquiry"]
    assert enquiry["enquiryId"] == full["enquiry_id"]
    assert (enquiry["status"], enquiry["subStatus"], enquiry["priority"]) == (
        "Open", "Hot", "High"
    )
    assert enquiry["assignEmpId"] == 7
    assert enquiry["createDate"] == "2024-03-01T09:00:00+05:30"


def test_view_3_without_enquiry_items_or_fields(client: TestClient, tenant: Tenant) -> None:
    (bare,) = add_orders(client, tenant, element())

    order = only_order(client, tenant, bare, viewId=3)

    assert (order["items"], order["additionalFields"], order["enquiry"]) == ([], {}, None)
    assert order["customer"]["contacts"] == []


# ---------------------------------------------------------------------------------------
# Types and dates


def test_ids_are_integers_and_amount_a_decimal_string(
    client: TestClient, tenant: Tenant, full: dict[str, Any]
) -> None:
    order = only_order(client, tenant, full["order_id"])

    for key in INTEGER_KEYS:
        assert type(order[key]) is int, (key, order[key])
    assert (order["creatorId"], order["assignId"]) == (11, 12)
    assert isinstance(order["amount"], str)
    assert Decimal(order["amount"]) == Decimal("1234.5")
    assert order["currency"] == "INR"


def test_amount_sent_as_a_number_comes_back_as_a_string(
    client: TestClient, tenant: Tenant
) -> None:
    (order_id,) = add_orders(client, tenant, element(order={"amount": 99.9}))

    assert only_order(client, tenant, order_id)["amount"] == "99.9"


def test_dates_carry_the_account_offset(
    client: TestClient, tenant: Tenant, full: dict[str, Any]
) -> None:
    order = only_order(client, tenant, full["order_id"])

    assert order["createDate"] == "2024-03-10T10:15:00+05:30"
    assert order["bookingDate"] == "2024-03-11T12:00:00+05:30"
    assert order["agreementDate"] == "2024-03-12T00:00:00+05:30"
    assert KOLKATA_INSTANT.match(order["updatedAt"])


def test_unset_fields_are_null(client: TestClient, tenant: Tenant) -> None:
    (bare,) = add_orders(client, tenant, element())

    order = only_order(client, tenant, bare)

    assert order["bookingDate"] is None
    assert order["amount"] is None
    assert order["enquiryId"] is None
    assert KOLKATA_INSTANT.match(order["createDate"])  # defaults to the time of ingest


# ---------------------------------------------------------------------------------------
# Counting and paging


def test_nothing_matching_is_a_200_with_no_orders(client: TestClient, tenant: Tenant) -> None:
    add_orders(client, tenant, element(order={"erp_order_id": "ERP-1"}))

    answer = pull(client, tenant, erpOrderId="ERP-2")

    assert answer["totalCount"] == 0
    assert answer["orders"] == []
    assert answer["nextCursor"] is None


def _dated(client: TestClient, tenant: Tenant, count: int) -> list[int]:
    """`count` orders created on consecutive days; their ids, oldest first."""
    days = [f"2024-03-{day:02d} 10:00" for day in range(1, count + 1)]
    return add_orders(client, tenant, *(element(order={"create_date": d}) for d in days))


def test_default_order_is_newest_first(client: TestClient, tenant: Tenant) -> None:
    oldest, middle, newest = _dated(client, tenant, 3)

    answer = pull(client, tenant, createStartDate="2024-01-01")

    assert [o["orderId"] for o in answer["orders"]] == [newest, middle, oldest]


def test_limit_and_offset(client: TestClient, tenant: Tenant) -> None:
    ids = _dated(client, tenant, 5)

    answer = pull(client, tenant, createStartDate="2024-01-01", sortParam="createDate",
                  limit=2, offset=2)

    assert [o["orderId"] for o in answer["orders"]] == ids[2:4]
    assert (answer["totalCount"], answer["limit"], answer["offset"]) == (5, 2, 2)
    assert answer["nextCursor"] is not None


def test_next_cursor_is_null_on_the_last_page(client: TestClient, tenant: Tenant) -> None:
    _dated(client, tenant, 4)

    assert pull(client, tenant, createStartDate="2024-01-01", limit=4)["nextCursor"] is None
    assert pull(client, tenant, createStartDate="2024-01-01", limit=3)["nextCursor"] is not None
    last = pull(client, tenant, createStartDate="2024-01-01", limit=3, offset=3)
    assert last["nextCursor"] is None


def test_include_total_false_skips_the_count(client: TestClient, tenant: Tenant) -> None:
    ids = _dated(client, tenant, 2)

    answer = pull(client, tenant, createStartDate="2024-01-01", includeTotal=False)

    assert answer["totalCount"] is None
    assert {o["orderId"] for o in answer["orders"]} == set(ids)
    assert pull(client, tenant, orderIds=ids[0], includeTotal="false")["totalCount"] is None
    assert pull(client, tenant, orderIds=ids[0], includeTotal=True)["totalCount"] == 1


def _walk(client: TestClient, tenant: Tenant, limit: int, **keys: Any) -> list[int]:
    """Every order id, page after page by nextCursor; every page counts the whole query."""
    ids: list[int] = []
    totals: set[int] = set()
    cursor = None
    while True:
        page = pull(client, tenant, limit=limit, cursor=cursor, **keys)
        ids += [o["orderId"] for o in page["orders"]]
        totals.add(page["totalCount"])
        cursor = page["nextCursor"]
        if cursor is None:
            assert totals == {len(ids)}
            return ids


AMOUNTS = ["10", "9.5", "100", None, "10", None, "0.25"]


@pytest.fixture
def by_amount(client: TestClient, tenant: Tenant) -> dict[str, list[int]]:
    """Orders with AMOUNTS (ties and nulls included); their ids, grouped by amount."""
    ids = add_orders(client, tenant, *(element(order={"amount": a}) for a in AMOUNTS))
    grouped: dict[str, list[int]] = {}
    for amount, order_id in zip(AMOUNTS, ids, strict=True):
        grouped.setdefault(str(amount), []).append(order_id)
    return grouped


def _ascending(g: dict[str, list[int]]) -> list[int]:
    return [*g["0.25"], *g["9.5"], *g["10"], *g["100"], *g["None"]]


def _descending(g: dict[str, list[int]]) -> list[int]:
    return [*g["100"], *g["10"][::-1], *g["9.5"], *g["0.25"], *g["None"][::-1]]


@pytest.mark.parametrize(
    ("sort_param", "expected"),
    [
        ("amount", _ascending),
        ("amount asc", _ascending),
        ("AMOUNT ASC", _ascending),
        ("amount desc", _descending),
        ("-amount", _descending),
    ],
)
def test_sort_by_amount_is_numeric_with_nulls_last_and_ties_by_order_id(
    client: TestClient,
    tenant: Tenant,
    by_amount: dict[str, list[int]],
    sort_param: str,
    expected: Callable[[dict[str, list[int]]], list[int]],
) -> None:
    answer = pull(client, tenant, createStartDate="2000-01-01", sortParam=sort_param)

    assert [o["orderId"] for o in answer["orders"]] == expected(by_amount)


@pytest.mark.parametrize(
    "sort_param",
    ["amount", "-amount", "createDate desc", "orderId", "customerName desc", "erpOrderId"],
)
def test_cursor_pages_neither_overlap_nor_skip(
    client: TestClient, tenant: Tenant, by_amount: dict[str, list[int]], sort_param: str
) -> None:
    one_page = pull(client, tenant, createStartDate="2000-01-01", sortParam=sort_param)

    walked = _walk(client, tenant, 2, createStartDate="2000-01-01", sortParam=sort_param)

    assert walked == [o["orderId"] for o in one_page["orders"]]
    assert len(walked) == len(AMOUNTS)


def test_sort_by_customer_name_ignores_case(client: TestClient, tenant: Tenant) -> None:
    beta, alpha, charlie = add_orders(
        client, tenant,
        *(element(customer={"customer_name": n}) for n in ("beta", "Alpha", "CHARLIE")),
    )

    answer = pull(client, tenant, createStartDate="2000-01-01", sortParam="customerName")

    assert [o["orderId"] for o in answer["orders"]] == [alpha, beta, charlie]


@pytest.mark.parametrize(
    ("sort_param", "field"),
    [
        ("orderId", None),
        ("createDate", "create_date"),
        ("updatedAt", None),
        ("bookingDate", "booking_date"),
        ("agreementDate", "agreement_date"),
    ],
)
def test_every_date_and_id_sort_field_sorts(
    client: TestClient, tenant: Tenant, sort_param: str, field: str | None
) -> None:
    days = ["2024-03-02", "2024-03-01", "2024-03-03"]
    ids = add_orders(
        client, tenant, *(element(order={field: day} if field else {}) for day in days)
    )
    expected = [ids[1], ids[0], ids[2]] if field else ids  # by date, else by creation

    answer = pull(client, tenant, orderIds=ids, sortParam=f"{sort_param} asc")

    assert [o["orderId"] for o in answer["orders"]] == expected


def test_sort_by_erp_order_id_is_code_point_order(client: TestClient, tenant: Tenant) -> None:
    lower, upper, digit = add_orders(
        client, tenant,
        *(element(order={"erp_order_id": e}) for e in ("a-1", "B-2", "9-3")),
    )

    answer = pull(client, tenant, orderIds=[lower, upper, digit], sortParam="erpOrderId")

    assert [o["orderId"] for o in answer["orders"]] == [digit, upper, lower]


# ---------------------------------------------------------------------------------------
# Tenancy


def test_a_tenant_never_sees_another_tenants_orders(
    client: TestClient, tenant: Tenant, make_tenant: Callable[..., Tenant]
) -> None:
    other = make_tenant(cm_id=2000001, subdomain="other")
    same = element(customer={"phone": "9380491257", "city": "Pune"}, enquiry={"status": "Open"})
    mine = ingest(client, tenant, same)[0]
    theirs = ingest(client, other, same)[0]

    assert found(client, tenant, createStartDate="2000-01-01") == {mine["order_id"]}
    assert found(client, tenant, phone="9380491257", city="PUNE") == {mine["order_id"]}
    assert found(client, other, statusStr="open") == {theirs["order_id"]}
    # Asking for the other account's records by id finds nothing.
    assert found(client, tenant, customerIds=theirs["customer_id"]) == set()
    assert found(client, tenant, orderIds=theirs["order_id"]) == set()
    assert found(client, tenant, enquiryIds=theirs["enquiry_id"]) == set()
    assert found(client, tenant, notAssignToIdsStr="1") == {mine["order_id"]}
