"""Pull Order filters (contract §2): one small test per filter key.

Each test adds a few orders through ingest, some meant to match and some not, and checks
the exact set of orders a pull finds. The tenant's timezone is Asia/Kolkata (+05:30).
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ordersearch.search.filters import FILTER_BY_KEY
from tests.conftest import PULL, Tenant
from tests.search import add_order, add_orders, element, element_with, found, ingest

# ---------------------------------------------------------------------------------------
# Ids


def test_customer_ids_finds_the_customers_orders(client: TestClient, tenant: Tenant) -> None:
    first, second, other = ingest(
        client, tenant,
        element(customer={"phone": "9000000001"}),
        element(customer={"phone": "9000000001"}),  # same phone: the same customer
        element(customer={"phone": "9000000002"}),
    )
    assert first["customer_id"] == second["customer_id"] != other["customer_id"]

    assert found(client, tenant, customerIds=str(first["customer_id"])) == {
        first["order_id"], second["order_id"]
    }


@pytest.mark.parametrize("key", ["customerIds", "customer_Ids", "customer_ids"])
def test_customer_ids_spellings_are_synonyms(
    client: TestClient, tenant: Tenant, key: str
) -> None:
    wanted, _other = ingest(client, tenant, element(), element())

    assert found(client, tenant, **{key: wanted["customer_id"]}) == {wanted["order_id"]}


def test_list_filters_take_a_comma_string_a_number_or_an_array(
    client: TestClient, tenant: Tenant
) -> None:
    a, b, c = ingest(client, tenant, element(), element(), element())
    ids = [a["customer_id"], b["customer_id"], c["customer_id"]]

    assert found(client, tenant, customerIds=f" {ids[0]} ,{ids[1]}, ") == {
        a["order_id"], b["order_id"]
    }
    assert found(client, tenant, customerIds=ids[2]) == {c["order_id"]}
    assert found(client, tenant, customerIds=[ids[0], str(ids[2])]) == {
        a["order_id"], c["order_id"]
    }


def test_order_ids(client: TestClient, tenant: Tenant) -> None:
    first, second, third = add_orders(client, tenant, element(), element(), element())

    assert found(client, tenant, orderIds=f"{first},{third}") == {first, third}


@pytest.mark.parametrize("key", ["enquiryIds", "leadIdStr"])
def test_enquiry_ids_and_lead_ids_are_synonyms(
    client: TestClient, tenant: Tenant, key: str
) -> None:
    wanted, other, _no_enquiry = ingest(
        client, tenant,
        element(enquiry={"status": "Open"}),
        element(enquiry={"status": "Open"}),
        element(),
    )
    assert wanted["enquiry_id"] != other["enquiry_id"]

    assert found(client, tenant, **{key: str(wanted["enquiry_id"])}) == {wanted["order_id"]}


def test_client_reference_ids_are_exact_and_keep_case(client: TestClient, tenant: Tenant) -> None:
    upper, lower, _other = add_orders(
        client, tenant,
        element(order={"client_reference_id": "REF-1"}),
        element(order={"client_reference_id": "ref-2"}),
        element(order={"client_reference_id": "REF-3"}),
    )

    assert found(client, tenant, clientReferenceIds="REF-1, ref-2") == {upper, lower}
    assert found(client, tenant, clientReferenceIds="ref-1") == set()
    assert found(client, tenant, clientReferenceIds="REF") == set()


@pytest.mark.parametrize(
    ("key", "field"), [("erpOrderId", "erp_order_id"), ("erpInvoiceId", "erp_invoice_id")]
)
def test_erp_ids_are_exact_and_a_comma_list_means_any_of(
    client: TestClient, tenant: Tenant, key: str, field: str
) -> None:
    first, second, _third = add_orders(
        client, tenant,
        element(order={field: "ERP-100"}),
        element(order={field: "ERP-200"}),
        element(order={field: "ERP-300"}),
    )

    assert found(client, tenant, **{key: "ERP-100"}) == {first}
    assert found(client, tenant, **{key: "ERP-100,ERP-200"}) == {first, second}
    assert found(client, tenant, **{key: "erp-100"}) == set()
    assert found(client, tenant, **{key: "ERP-10"}) == set()


# ---------------------------------------------------------------------------------------
# Customer name, phone, email, address


def test_name_is_a_case_insensitive_substring(client: TestClient, tenant: Tenant) -> None:
    asha, _ravi = add_orders(
        client, tenant,
        element(customer={"customer_name": "Asha Verma"}),
        element(customer={"customer_name": "Ravi Kumar"}),
    )

    assert found(client, tenant, name="sha ver") == {asha}
    assert found(client, tenant, name="  VERMA ") == {asha}


def test_name_folds_unicode_case(client: TestClient, tenant: Tenant) -> None:
    muller, strasse, _other = add_orders(
        client, tenant,
        element(customer={"customer_name": "Müller GmbH"}),
        element(customer={"customer_name": "Hauptstraße Traders"}),
        element(customer={"customer_name": "Muller Brothers"}),
    )

    assert found(client, tenant, name="MÜLLER") == {muller}
    assert found(client, tenant, name="Mu\u0308ller") == {muller}  # decomposed ü: NFC
    assert found(client, tenant, name="HAUPTSTRASSE") == {strasse}


@pytest.mark.parametrize(
    ("query", "wanted", "decoy"),
    [
        ("100%", "100% Cotton", "1000 Cotton"),
        ("e_C", "Snake_Case Ltd", "SnakeXCase Ltd"),
        ("o'b", "O'Brien & Sons", "Ob Traders"),
        ("k\\s", "Back\\slash Ltd", "Backslash Ltd"),
    ],
)
def test_name_wildcards_are_literal(
    client: TestClient, tenant: Tenant, query: str, wanted: str, decoy: str
) -> None:
    match, _decoy = add_orders(
        client, tenant,
        element(customer={"customer_name": wanted}),
        element(customer={"customer_name": decoy}),
    )

    assert found(client, tenant, name=query) == {match}


def test_phone_compares_the_last_ten_digits(client: TestClient, tenant: Tenant) -> None:
    mobile, landline = add_orders(
        client, tenant,
        element(customer={"phone": "9380491257"}),
        element(customer={"phone": "080 2345 6789"}),
    )

    assert found(client, tenant, phone="+91 93804-91257") == {mobile}
    assert found(client, tenant, phone="09380491257") == {mobile}
    assert found(client, tenant, phone=9380491257) == {mobile}
    assert found(client, tenant, phone="+91 80 2345 6789") == {landline}  # stored with a 0


def test_short_phone_query_needs_exactly_those_digits(
    client: TestClient, tenant: Tenant
) -> None:
    mobile, extension = add_orders(
        client, tenant,
        element(customer={"phone": "9380491257"}),
        element(customer={"phone": "49-12"}),
    )

    assert found(client, tenant, phone="91257") == set()  # not a suffix match
    assert found(client, tenant, phone="4912") == {extension}  # not a substring either
    assert found(client, tenant, phone="9380491257, 4912") == {mobile, extension}


def test_email_is_case_insensitive_and_exact(client: TestClient, tenant: Tenant) -> None:
    asha, _ravi = add_orders(
        client, tenant,
        element(customer={"email_id": "Asha@Example.com"}),
        element(customer={"email_id": "ravi@example.com"}),
    )

    assert found(client, tenant, email="asha@EXAMPLE.com") == {asha}
    assert found(client, tenant, email="asha@example") == set()


def test_phone_and_email_also_match_contacts(client: TestClient, tenant: Tenant) -> None:
    contact = {
        "contact_person_name": "Buyer",
        "contact_person_phone": "98450 12345",
        "contact_person_email": "Buyer@Acme.example",
    }
    acme, _other = add_orders(
        client, tenant,
        element(customer={"customer_name": "Acme", "phone": "9000000003"}, contacts=[contact]),
        element(customer={"customer_name": "Other", "phone": "9000000004"}),
    )

    assert found(client, tenant, phone="+91 98450-12345") == {acme}
    assert found(client, tenant, email="buyer@acme.EXAMPLE") == {acme}


@pytest.mark.parametrize("key", ["country", "city", "state"])
def test_address_fields_are_case_insensitive_and_exact(
    client: TestClient, tenant: Tenant, key: str
) -> None:
    delhi, new_delhi = add_orders(
        client, tenant,
        element(customer={key: "Delhi"}),
        element(customer={key: "New Delhi"}),
    )

    assert found(client, tenant, **{key: "DELHI"}) == {delhi}
    assert found(client, tenant, **{key: "delhi, NEW DELHI"}) == {delhi, new_delhi}
    assert found(client, tenant, **{key: "Del"}) == set()


def test_city_folds_unicode_case(client: TestClient, tenant: Tenant) -> None:
    moscow, zurich = add_orders(
        client, tenant,
        element(customer={"city": "Москва", "country": "Россия"}),
        element(customer={"city": "Zürich", "country": "Schweiz"}),
    )

    assert found(client, tenant, city="МОСКВА") == {moscow}
    assert found(client, tenant, city="ZÜRICH") == {zurich}
    assert found(client, tenant, country="РОССИЯ") == {moscow}


# ---------------------------------------------------------------------------------------
# Date ranges. Times below are local (Asia/Kolkata), as ingest reads them.

DATE_RANGES = [
    pytest.param("createStartDate", "createEndDate", "order", "create_date", id="create"),
    pytest.param("bookingStartDate", "bookingEndDate", "order", "booking_date", id="booking"),
    pytest.param(
        "agreementStartDate", "agreementEndDate", "order", "agreement_date", id="agreement"
    ),
    pytest.param(
        "generationStartDate", "generationEndDate", "enquiry", "create_date", id="generation"
    ),
    pytest.param(
        "nextFollowupStartDate", "nextFollowupEndDate", "enquiry", "next_follow_up_date",
        id="nextFollowup",
    ),
    pytest.param(
        "lastFollowupStartDate", "lastFollowupEndDate", "enquiry", "last_follow_up_date",
        id="lastFollowup",
    ),
    pytest.param(
        "expectedClosureStartDate", "expectedClosureEndDate", "enquiry",
        "expected_closure_date", id="expectedClosure",
    ),
]

AROUND_10_MARCH = {
    "day before": "2024-03-09 23:59:59",
    "midnight": "2024-03-10 00:00:00",
    "evening": "2024-03-10 23:30:00",
    "last second": "2024-03-10 23:59:59",
    "next day": "2024-03-11 00:00:00",
}


def _orders_at(
    client: TestClient, tenant: Tenant, section: str, field: str
) -> dict[str, int]:
    """One order per moment of AROUND_10_MARCH, dated in `section`'s `field`."""
    elements = [element_with(section, field, when) for when in AROUND_10_MARCH.values()]
    return dict(zip(AROUND_10_MARCH, add_orders(client, tenant, *elements), strict=True))


@pytest.mark.parametrize(("start_key", "end_key", "section", "field"), DATE_RANGES)
def test_date_only_end_covers_the_whole_local_day(
    client: TestClient, tenant: Tenant, start_key: str, end_key: str, section: str, field: str
) -> None:
    at = _orders_at(client, tenant, section, field)

    assert found(client, tenant, **{start_key: "2024-03-10", end_key: "2024-03-10"}) == {
        at["midnight"], at["evening"], at["last second"]
    }


@pytest.mark.parametrize(("start_key", "end_key", "section", "field"), DATE_RANGES)
def test_timed_end_is_inclusive_and_either_bound_may_be_alone(
    client: TestClient, tenant: Tenant, start_key: str, end_key: str, section: str, field: str
) -> None:
    at = _orders_at(client, tenant, section, field)

    assert found(client, tenant, **{start_key: "2024-03-10", end_key: "2024-03-10 23:30"}) == {
        at["midnight"], at["evening"]
    }
    assert found(client, tenant, **{end_key: "2024-03-10 00:00:00"}) == {
        at["day before"], at["midnight"]
    }
    assert found(client, tenant, **{start_key: "2024-03-10 23:30:00"}) == {
        at["evening"], at["last second"], at["next day"]
    }


EVENING_UTC_MILLIS = int(datetime(2024, 3, 10, 18, 0, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    "end",
    [
        "2024-03-10 23:30",
        "2024-03-10 23:30:00",
        "2024-03-10T23:30:00",
        "2024-03-10T23:30:00+05:30",
        "2024-03-10T18:00:00Z",
        "2024-03-10T19:00:00+01:00",
        EVENING_UTC_MILLIS,
        str(EVENING_UTC_MILLIS),
    ],
)
def test_date_forms_name_the_same_instant(
    client: TestClient, tenant: Tenant, end: Any
) -> None:
    at = _orders_at(client, tenant, "order", "create_date")

    assert found(client, tenant, createStartDate="2024-03-10", createEndDate=end) == {
        at["midnight"], at["evening"]
    }


def test_dates_are_compared_to_the_second(client: TestClient, tenant: Tenant) -> None:
    at = _orders_at(client, tenant, "order", "create_date")

    # A fraction of a second in a bound is dropped: 23:30:00.5 is taken as 23:30:00.
    assert found(client, tenant, createStartDate="2024-03-10T23:30:00.500+05:30") == {
        at["evening"], at["last second"], at["next day"]
    }
    assert found(
        client, tenant, createStartDate="2024-03-10", createEndDate="2024-03-10T23:29:59.999"
    ) == {at["midnight"]}


# ---------------------------------------------------------------------------------------
# Statuses and other text lists

TEXT_LISTS = [
    ("bookingStatus", "order", "booking_status"),
    ("bookingSubStatus", "order", "booking_sub_status"),
    ("pricingStatus", "order", "pricing_status"),
    ("statusStr", "enquiry", "status"),
    ("subStatusStr", "enquiry", "subStatus"),
    ("leadPriorityStr", "enquiry", "priority"),
]


@pytest.mark.parametrize(("key", "section", "field"), TEXT_LISTS)
def test_status_filters_are_case_insensitive_lists(
    client: TestClient, tenant: Tenant, key: str, section: str, field: str
) -> None:
    booked, pending, _cancelled = add_orders(
        client, tenant,
        element_with(section, field, "Booked"),
        element_with(section, field, "Pending Payment"),
        element_with(section, field, "Cancelled"),
    )

    assert found(client, tenant, **{key: "BOOKED"}) == {booked}
    assert found(client, tenant, **{key: "booked, PENDING payment"}) == {booked, pending}
    assert found(client, tenant, **{key: "Book"}) == set()


def test_array_items_are_taken_whole(client: TestClient, tenant: Tenant) -> None:
    on_hold = add_order(client, tenant, order={"booking_status": "On hold, awaiting stock"})

    assert found(client, tenant, bookingStatus=["on hold, awaiting stock"]) == {on_hold}
    # A comma string is split: "on hold" and "awaiting stock" match nothing.
    assert found(client, tenant, bookingStatus="on hold, awaiting stock") == set()


ATTRS = [
    "attr1", "attr2", "attr3", "attr4", "attr5", "attr6", "attr7", "attr8",
    "attr9", "attr10", "attr11", "attr12", "attr13", "attr14", "attr15",
]


@pytest.mark.parametrize("key", ATTRS)
def test_attr_is_case_insensitive_exact_and_a_list_means_any_of(
    client: TestClient, tenant: Tenant, key: str
) -> None:
    gold, silver, bronze = add_orders(
        client, tenant,
        element(order={key: "Gold"}),
        element(order={key: "silver"}),
        element(order={key: "Bronze"}),
    )

    assert found(client, tenant, **{key: "GOLD"}) == {gold}
    assert found(client, tenant, **{key: "gold, Silver"}) == {gold, silver}
    assert found(client, tenant, **{key: ["BRONZE", "gold"]}) == {gold, bronze}
    assert found(client, tenant, **{key: "Gol"}) == set()


# ---------------------------------------------------------------------------------------
# Employees, approvals, inventory location, sources

ID_LISTS = [
    ("creatorIdStr", "order", "creator_id"),
    ("assignIdStr", "order", "assign_id"),
    ("approvedIds", "order", "approved_by_id"),
    ("approvalDesignationIds", "order", "approval_designation_id"),
    ("zoneIdStr", "order", "zone_id"),
    ("blockId", "order", "block_id"),
    ("unitId", "order", "unit_id"),
    ("assignToIdsStr", "enquiry", "assign_emp_id"),
    ("secondarySourceId", "enquiry", "secondary_source_id"),
]


@pytest.mark.parametrize(("key", "section", "field"), ID_LISTS)
def test_id_filters_match_any_id_of_the_list(
    client: TestClient, tenant: Tenant, key: str, section: str, field: str
) -> None:
    seven, eight, nine = add_orders(
        client, tenant,
        element_with(section, field, 7),
        element_with(section, field, "8"),
        element_with(section, field, 9),
    )

    assert found(client, tenant, **{key: "7, 8"}) == {seven, eight}
    assert found(client, tenant, **{key: 9}) == {nine}
    assert found(client, tenant, **{key: [70]}) == set()


def test_creator_or_assigned(client: TestClient, tenant: Tenant) -> None:
    created, assigned, _neither = add_orders(
        client, tenant,
        element(order={"creator_id": 7, "assign_id": 1}),
        element(order={"creator_id": 2, "assign_id": 7}),
        element(order={"creator_id": 3, "assign_id": 4}),
    )

    assert found(client, tenant, creatorOrAssignedIdStr="7") == {created, assigned}


def test_not_assign_to_keeps_orders_without_an_assigned_enquiry(
    client: TestClient, tenant: Tenant
) -> None:
    _to_seven, to_eight, unassigned, no_enquiry = add_orders(
        client, tenant,
        element(enquiry={"assign_emp_id": 7}),
        element(enquiry={"assign_emp_id": 8}),
        element(enquiry={"status": "Open"}),
        element(),
    )

    assert found(client, tenant, notAssignToIdsStr="7") == {to_eight, unassigned, no_enquiry}
    assert found(client, tenant, notAssignToIdsStr="7,8") == {unassigned, no_enquiry}


# ---------------------------------------------------------------------------------------
# Additional fields


def test_additional_fields_compare_as_text_case_insensitively(
    client: TestClient, tenant: Tenant
) -> None:
    number, text, _fourth_floor = add_orders(
        client, tenant,
        element(order={"additional_fields": {"floor": 3, "Wing": "East", "vip": True}}),
        element(order={"additional_fields": {"floor": "3", "wing": "west"}}),
        element(order={"additional_fields": {"floor": "4"}}),
    )

    assert found(client, tenant, additionalFields={"floor": "3"}) == {number, text}
    assert found(client, tenant, additionalFields={"floor": 3}) == {number, text}
    assert found(client, tenant, additionalFields={"FLOOR": 3, "wing": "EAST"}) == {number}
    assert found(client, tenant, additionalFields={"vip": "TRUE"}) == {number}
    # Text, not numbers: "3.0" is not "3".
    assert found(client, tenant, additionalFields={"floor": "3.0"}) == set()


# ---------------------------------------------------------------------------------------
# Filters combine with AND


def test_filters_combine_with_and(client: TestClient, tenant: Tenant) -> None:
    both, _only_status, _only_city = add_orders(
        client, tenant,
        element(customer={"city": "Pune"}, order={"booking_status": "Booked"}),
        element(customer={"city": "Goa"}, order={"booking_status": "Booked"}),
        element(customer={"city": "Pune"}, order={"booking_status": "Cancelled"}),
    )

    assert found(client, tenant, city="pune", bookingStatus="booked") == {both}


# ---------------------------------------------------------------------------------------
# The published example body

# As the API page publishes it: one key per line, a `//` comment after cmId. The seed file
# flattens it onto one line; only this multi-line form is promised to work.
PUBLISHED_EXAMPLE = """{
"cmId":1000298,//Required field, value must be > 0.
"name":"",
"phone":"",
"email":"",
"customerIds":"191696570",
"leadIdStr":"",
"enquiryIds":"",
"clientReferenceIds":"",
"attr1":"",
"attr2":"",
"attr3":"",
"attr4":"",
"attr5":"",
"attr6":"",
"attr7":"",
"attr8":"",
"attr9":"",
"attr10":"",
"attr11":"",
"attr12":"",
"attr13":"",
"attr14":"",
"attr15":"",
"viewId":"2",
"orderIds":"",
"erpOrderId":"",
"createStartDate":"",
"createEndDate":"",
"bookingStatus":"",
"bookingSubStatus":"",
"bookingStartDate":"",
"bookingEndDate":"",
"creatorIdStr":"",
"assignIdStr":"",
"zoneIdStr":"",
"blockId":"",
"unitId":"",
"approvalDesignationIds":"",
"agreementStartDate":"",
"agreementEndDate":"",
"erpInvoiceId":"",
"sortParam":"",
"limit":"",
"offset":""
}"""


def test_published_example_body_works_as_sent_by_curl(
    client: TestClient, tenant: Tenant
) -> None:
    first = ingest(client, tenant, element(customer={"customer_name": "Example Customer"}))[0]
    customer_id = first["customer_id"]
    second = add_order(client, tenant, customer={"customer_id": customer_id})
    add_order(client, tenant)  # someone else's order
    body = PUBLISHED_EXAMPLE.replace("191696570", str(customer_id))

    response = client.post(
        PULL,
        content=body.encode(),
        headers={**tenant.write_headers, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert {o["orderId"] for o in answer["orders"]} == {first["order_id"], second}
    assert {o["customerId"] for o in answer["orders"]} == {customer_id}
    assert answer["totalCount"] == 2
    assert answer["warnings"] == []
    assert "attr15" in answer["orders"][0]  # viewId "2": the standard view


# ---------------------------------------------------------------------------------------


def test_every_filter_key_has_a_test_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    quoted = set(re.findall(r'"([A-Za-z_0-9]+)"', source)) | set(
        re.findall(r"\b([A-Za-z_0-9]+)=", source)
    )
    assert sorted(set(FILTER_BY_KEY) - quoted) == []



def test_eight_digits_are_a_basic_iso_date_not_epoch_millis(
    client: TestClient, tenant: Tenant
) -> None:
    at = _orders_at(client, tenant, "order", "create_date")

    assert found(client, tenant, createStartDate="20240310", createEndDate="20240310") == (
        found(client, tenant, createStartDate="2024-03-10", createEndDate="2024-03-10")
    )
    assert at["midnight"] in found(client, tenant, createEndDate="20240310")
