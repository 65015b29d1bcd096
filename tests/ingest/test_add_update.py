"""Add / update through the HTTP endpoint: the order itself, answers, validation, batches."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ordersearch.db.engine import Database
from ordersearch.db.tables import (
    contacts,
    customers,
    enquiries,
    order_fields,
    order_items,
    orders,
)
from ordersearch.values import utc_now
from tests.conftest import Tenant
from tests.ingest.conftest import Push, count, failed, ok, order_body, row, rows

ALL_TABLES = (customers, contacts, enquiries, orders, order_items, order_fields)

FULL_ELEMENT = {
    "cmId": 1000298,
    "customer_info": {
        "customer_id": "", "customer_code": "C-77", "customer_name": "Asha Rao",
        "phone": "+91 93804-91257", "email_id": "Asha@Example.com", "city": "Chennai",
        "state": "Tamil Nadu", "country": "India", "address": "12 Beach Rd", "pincode": "600001",
        "zone": "South", "additional_fields": {"segment": "retail"}, "update": False,
        "locality": "Adyar", "primary_source": "web",
    },
    "contact_info": [{
        "contact_person_name": "Ravi", "contact_person_phone": "9000000001",
        "contact_person_email": "ravi@example.com", "title": "Mr", "dob": "1990-01-02",
    }],
    "enquiry_info": {
        "enquiry_id": "", "status": "Open", "subStatus": "Hot", "priority": "High",
        "assign_emp_id": "41", "creator_id": 42, "secondary_source_id": "7",
        "create_date": "2024-02-01", "next_follow_up_date": "2024-03-05 10:00",
        "last_follow_up_date": "", "expected_closure_date": "2024-04-01T12:00:00+00:00",
        "update": False, "remarks": "called twice", "round_robin_key": "rr-1",
    },
    "order_info": {
        "order_id": "", "erp_order_id": "ERP-1001", "erp_invoice_id": "INV-9",
        "client_reference_id": "REF-1", "create_date": "2024-03-01 10:30",
        "booking_status": "Booked", "booking_sub_status": "Paid", "booking_date": "2024-03-02",
        "agreement_date": 1709337600000, "creator_id": "42", "assign_id": 41, "zone_id": "3",
        "block_id": 4, "unit_id": "5", "approval_designation_id": "6", "approved_by_id": "43",
        "pricing_status": "Final", "amount": "1250.50", "currency": "INR",
        "payment_mode": "UPI", "order_type": "Retail", "remarks": "first order",
        "attr1": "Gold", "attr15": "last", "additional_fields": {"channel": "Web", "floor": 3},
        "product_details": [
            {"sku_id": "SKU-1", "product_name": "Sofa", "rate": "1000", "quantity": 1,
             "discount": "0"},
            {"sku_id": "SKU-2", "product_name": "Lamp", "rate": 125.25, "quantity": "2",
             "discount": ""},
        ],
    },
}


def test_new_order_answers_ids_and_stores_every_section(push: Push, database: Database) -> None:
    body = ok(push(FULL_ELEMENT))
    assert body["message"] == "Order Added Successfully"
    assert body["warnings"] == []
    assert all(isinstance(body[k], int) for k in ("order_id", "customer_id", "enquiry_id"))

    order = row(database, orders, body["order_id"])
    assert order["customer_id"] == body["customer_id"]
    assert order["enquiry_id"] == body["enquiry_id"]
    assert order["amount"] == "1250.50" and order["amount_value"] == 1250.5
    # Asia/Kolkata is UTC+05:30: local times without an offset are read in it.
    assert order["create_date"] == datetime(2024, 3, 1, 5, 0)
    assert order["booking_date"] == datetime(2024, 3, 1, 18, 30)
    assert order["agreement_date"] == datetime(2024, 3, 2, 0, 0)
    assert (order["creator_id"], order["assign_id"], order["approved_by_id"]) == (42, 41, 43)
    assert order["booking_status"] == "Booked" and order["booking_status_folded"] == "booked"
    assert order["attr1"] == "Gold" and order["attr15"] == "last" and order["attr2"] is None
    assert order["additional_fields"] == {"channel": "Web", "floor": 3}

    customer = row(database, customers, body["customer_id"])
    assert customer["name"] == "Asha Rao" and customer["phone_last10"] == "9380491257"
    assert (customer["email"], customer["email_folded"]) == ("Asha@Example.com", "asha@example.com")
    assert customer["extra"] == {"locality": "Adyar", "primary_source": "web"}
    assert customer["additional_fields"] == {"segment": "retail"}

    [contact] = rows(database, contacts)
    assert contact["customer_id"] == body["customer_id"] and contact["name"] == "Ravi"
    assert contact["extra"] == {"title": "Mr", "dob": "1990-01-02"}

    enquiry = row(database, enquiries, body["enquiry_id"])
    assert enquiry["customer_id"] == body["customer_id"]
    assert (enquiry["status"], enquiry["sub_status"]) == ("Open", "Hot")
    assert enquiry["priority"] == "High"
    assert (enquiry["assign_emp_id"], enquiry["creator_id"]) == (41, 42)
    assert enquiry["create_date"] == datetime(2024, 1, 31, 18, 30)
    assert enquiry["expected_closure_date"] == datetime(2024, 4, 1, 12, 0)
    assert enquiry["extra"] == {"remarks": "called twice", "round_robin_key": "rr-1"}

    items = rows(database, order_items)
    assert [(i["position"], i["sku_id"], i["rate"], i["quantity"], i["discount"]) for i in items] \
        == [(0, "SKU-1", "1000", "1", "0"), (1, "SKU-2", "125.25", "2", None)]
    fields = {(f["key_folded"], f["value_folded"]) for f in rows(database, order_fields)}
    assert fields == {("channel", "web"), ("floor", "3")}


def test_a_retried_push_updates_the_same_order(push: Push, database: Database) -> None:
    first = ok(push(FULL_ELEMENT))
    second = ok(push(FULL_ELEMENT))
    assert second["message"] == "Order Updated Successfully"
    for key in ("order_id", "customer_id", "enquiry_id"):
        assert second[key] == first[key]
    assert [count(database, t) for t in ALL_TABLES] == [1, 1, 1, 1, 2, 2]


def test_update_overwrites_non_empty_values_and_keeps_the_rest(
    push: Push, database: Database
) -> None:
    created = ok(push(FULL_ELEMENT))
    update = {"order_id": str(created["order_id"]), "booking_status": "Cancelled",
              "remarks": "", "amount": None, "attr2": "new", "create_date": ""}
    answer = ok(push({"order_info": update}))
    assert answer["message"] == "Order Updated Successfully"
    assert answer["customer_id"] == created["customer_id"]
    assert answer["enquiry_id"] == created["enquiry_id"]
    order = row(database, orders, created["order_id"])
    assert order["booking_status"] == "Cancelled" and order["booking_status_folded"] == "cancelled"
    assert order["remarks"] == "first order" and order["amount"] == "1250.50"
    assert order["attr2"] == "new" and order["erp_order_id"] == "ERP-1001"
    assert order["create_date"] == datetime(2024, 3, 1, 5, 0)
    assert count(database, order_items) == 2


def test_create_date_defaults_to_now_and_is_kept_on_update(
    push: Push, database: Database
) -> None:
    before = utc_now()
    created = ok(push(order_body()))
    stored = row(database, orders, created["order_id"])["create_date"]
    assert before <= stored <= utc_now()
    ok(push(order_body(order={"erp_order_id": "ERP-1", "amount": 99})))
    assert row(database, orders, created["order_id"])["create_date"] == stored


def test_ids_amounts_and_quantities_may_be_numbers(push: Push, database: Database) -> None:
    body = order_body(order={
        "erp_order_id": 5001, "amount": 10.5, "zone_id": 3.0, "block_id": "  4 ",
        "product_details": [{"sku_id": 77, "quantity": 2.5, "rate": "1e2"}],
    })
    order = row(database, orders, ok(push(body))["order_id"])
    assert (order["erp_order_id"], order["amount"], order["zone_id"], order["block_id"]) == \
        ("5001", "10.5", 3, 4)
    [item] = rows(database, order_items)
    assert (item["sku_id"], item["quantity"], Decimal(item["rate"])) == ("77", "2.5", 100)


def test_product_details_replace_the_items_only_when_sent_non_empty(
    push: Push, database: Database
) -> None:
    ok(push(FULL_ELEMENT))
    blank_item = {"sku_id": "", "product_name": "", "rate": "", "quantity": "", "discount": ""}
    for kept in ([], [blank_item], None):
        ok(push({"order_info": {"erp_order_id": "ERP-1001", "product_details": kept}}))
        assert [i["sku_id"] for i in rows(database, order_items)] == ["SKU-1", "SKU-2"]
    replacement = [{"sku_id": "SKU-9", "quantity": "3"}]
    ok(push({"order_info": {"erp_order_id": "ERP-1001", "product_details": replacement}}))
    items = rows(database, order_items)
    assert [(i["sku_id"], i["quantity"], i["position"]) for i in items] == [("SKU-9", "3", 0)]


def test_additional_fields_merge_and_order_fields_follow(push: Push, database: Database) -> None:
    created = ok(push(FULL_ELEMENT))
    sent = {"erp_order_id": "ERP-1001", "additional_fields": {"channel": "Store", "tier": "A",
                                                              "floor": ""}}
    ok(push({"order_info": sent}))
    order = row(database, orders, created["order_id"])
    assert order["additional_fields"] == {"channel": "Store", "floor": 3, "tier": "A"}
    oid = created["order_id"]
    fields = {(f["key_folded"], f["value_folded"], f["order_id"])
              for f in rows(database, order_fields)}
    assert fields == {("channel", "store", oid), ("floor", "3", oid), ("tier", "a", oid)}


def test_unknown_keys_are_ignored_and_reported(push: Push, database: Database) -> None:
    body = order_body(order={"erp_order_id": "E", "amountt": "5", "foo": 1,
                             "product_details": [{"skuId": "x", "sku_id": "S"}]},
                      extra_section={"a": 1})
    body["customer_info"]["customerName"] = "X"
    answer = ok(push(body))
    assert answer["warnings"] == [
        "unknown field 'extra_section' ignored",
        "unknown field 'customer_info.customerName' ignored; "
        "did you mean 'customer_info.customer_name'?",
        "unknown field 'order_info.amountt' ignored; did you mean 'order_info.amount'?",
        "unknown field 'order_info.foo' ignored",
        "unknown field 'order_info.product_details[0].skuId' ignored; "
        "did you mean 'order_info.product_details[0].sku_id'?",
    ]
    assert row(database, orders, answer["order_id"])["amount"] is None


def test_every_bad_field_is_reported_at_once_and_nothing_is_written(
    push: Push, database: Database
) -> None:
    body = order_body(
        customer={"customer_name": "A", "phone": "call me", "update": "maybe"},
        order={"erp_order_id": "E", "amount": "abc", "booking_date": "yesterday",
               "zone_id": "3a", "additional_fields": ["x"],
               "product_details": [{"sku_id": "S", "quantity": "two"}]},
        enquiry_info={"status": "Open", "create_date": "2024-13-01"},
        contact_info="Ravi",
    )
    answer = failed(
        push(body), 400,
        "customer_info.phone", "customer_info.update", "order_info.amount",
        "order_info.booking_date", "order_info.zone_id", "order_info.additional_fields",
        "order_info.product_details[0].quantity", "enquiry_info.create_date", "contact_info",
    )
    assert "order_info.amount: not a decimal number: 'abc'" in answer["message"]
    messages = {e["field"]: e["message"] for e in answer["errors"]}
    assert "'two'" in messages["order_info.product_details[0].quantity"]
    assert "'3a'" in messages["order_info.zone_id"]
    assert all(count(database, table) == 0 for table in ALL_TABLES)


def test_text_longer_than_its_column_is_refused(push: Push, database: Database) -> None:
    too_long = {
        ("customer_info", "customer_name"): "x" * 256,
        # Casefolding doubles ß: the folded copy would not fit its column.
        ("customer_info", "city"): "ß" * 200,
        ("order_info", "remarks"): "r" * 10_001,
        ("order_info", "currency"): "C" * 17,
        ("order_info", "additional_fields"): {"k": "v" * 1025},
    }
    for (section, key), value in too_long.items():
        body = order_body()
        body[section][key] = value
        failed(push(body), 400, f"{section}.{key}")
    body = order_body()
    body["order_info"]["remarks"] = "r" * 10_000
    ok(push(body))
    assert count(database, customers) == 1


def test_the_body_must_be_an_object_or_a_bounded_array(push: Push, database: Database) -> None:
    for body in ("text", 12, [], [order_body()] * 1001):
        failed(push(body), 400, "body")
    failed(push({"customer_info": {"customer_name": "A"}}), 400, "order_info")
    assert count(database, orders) == 0


def test_cm_id_must_match_the_account(push: Push, tenant: Tenant, database: Database) -> None:
    answer = failed(push(order_body(cmId=2000001)), 403)
    assert answer["message"] == "cmId does not match the authenticated account"
    failed(push(order_body(cmId="abc")), 400, "cmId")
    ok(push(order_body(cmId=str(tenant.account.cm_id))))
    ok(push(order_body(cmId="")))
    assert count(database, orders) == 1


def test_a_read_user_may_not_ingest(push: Push, tenant: Tenant, database: Database) -> None:
    failed(push(order_body(), headers=tenant.read_headers), 403)
    assert count(database, orders) == 0


def test_an_array_reports_each_element_in_order(push: Push, database: Database) -> None:
    good = order_body()
    bad = order_body(order={"erp_order_id": "E-2", "amount": "abc"})
    other = order_body(order={"erp_order_id": "E-3"})
    response = push([good, bad, "not an object", order_body(cmId=1), other, good])
    assert response.status_code == 200
    results = response.json()
    assert [r["status"] for r in results] == [
        "success", "failed", "failed", "failed", "success", "success"
    ]
    assert results[1]["errors"] == [
        {"field": "order_info.amount", "message": "not a decimal number: 'abc'"}
    ]
    assert results[2]["errors"][0]["field"] == "body"
    assert results[3] == {"status": "failed", "errors": [],
                          "message": "cmId does not match the authenticated account"}
    assert results[5]["message"] == "Order Updated Successfully"
    assert results[5]["order_id"] == results[0]["order_id"]
    assert {o["erp_order_id"] for o in rows(database, orders)} == {"ERP-1", "E-3"}


def test_an_array_of_one_thousand_is_accepted(push: Push, database: Database) -> None:
    batch = [order_body(order={"erp_order_id": f"E-{i}"}) for i in range(1000)]
    results = push(batch).json()
    assert len(results) == 1000 and {r["status"] for r in results} == {"success"}
    assert count(database, orders) == 1000 and count(database, customers) == 1
