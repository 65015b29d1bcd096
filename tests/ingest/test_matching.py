"""Which customer, contact, enquiry and employee an element lands on, and 404s for ids
that are not the account's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordersearch import accounts
from ordersearch.db.engine import Database
from ordersearch.db.tables import contacts, customers, enquiries, orders
from tests.conftest import Tenant
from tests.ingest.conftest import Push, count, failed, ok, order_body, row, rows


def with_customer(erp: str, **customer: Any) -> dict[str, Any]:
    return order_body(customer=customer, order={"erp_order_id": erp})


# ---- customers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"customer_code": "C-1", "phone": "111"}, {"customer_code": "C-1", "phone": "222"}),
        ({"phone": "9380491257"}, {"phone": "+91 93804-91257"}),
        ({"phone": "+91 93804-91257"}, {"phone": "09380491257"}),
        ({"phone": "12345"}, {"phone": "1-2-3-4-5"}),
        ({"email_id": "Asha@Example.COM"}, {"email_id": "asha@example.com"}),
        ({"phone": "111", "email_id": "a@b.c"}, {"phone": "222", "email_id": "A@B.C"}),
    ],
    ids=["code", "phone-formats", "phone-prefix", "short-phone", "email-case", "email-after-phone"],
)
def test_customer_is_found_by_code_phone_or_email(
    push: Push, database: Database, first: dict[str, Any], second: dict[str, Any]
) -> None:
    a = ok(push(with_customer("E-1", customer_name="A", **first)))
    b = ok(push(with_customer("E-2", customer_name="B", **second)))
    assert b["customer_id"] == a["customer_id"]
    assert count(database, customers) == 1 and count(database, orders) == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"phone": "12345"}, {"phone": "912345"}),
        ({"phone": "9380491257"}, {"phone": "9380491258"}),
        ({"email_id": "a@b.c"}, {"email_id": "a@b.cc"}),
        # A code names one customer: a new code sharing a phone is a new customer.
        ({"customer_code": "C-1", "phone": "9380491257"},
         {"customer_code": "C-2", "phone": "9380491257"}),
    ],
    ids=["short-phone", "phone", "email", "other-code"],
)
def test_customer_is_created_when_nothing_matches(
    push: Push, database: Database, first: dict[str, Any], second: dict[str, Any]
) -> None:
    a = ok(push(with_customer("E-1", **first)))
    b = ok(push(with_customer("E-2", **second)))
    assert b["customer_id"] != a["customer_id"]
    assert count(database, customers) == 2


def test_customer_by_id_and_the_update_flag(push: Push, database: Database) -> None:
    created = ok(push(with_customer(
        "E-1", customer_name="Asha", phone="9380491257", city="Chennai",
        additional_fields={"a": 1}, locality="Adyar",
    )))
    cid = created["customer_id"]
    kept = ok(push(with_customer(
        "E-2", customer_id=str(cid), customer_name="Renamed", city="", update=False
    )))
    assert kept["customer_id"] == cid
    assert row(database, customers, cid)["name"] == "Asha"

    ok(push(with_customer(
        "E-3", customer_id=cid, customer_name="Asha R", city="", state="TN",
        additional_fields={"b": 2}, locality="", type="individual", update=True,
    )))
    customer = row(database, customers, cid)
    assert (customer["name"], customer["name_folded"]) == ("Asha R", "asha r")
    assert (customer["city"], customer["state"]) == ("Chennai", "TN")
    assert customer["additional_fields"] == {"a": 1, "b": 2}
    assert customer["extra"] == {"locality": "Adyar", "type": "individual"}
    assert customer["phone"] == "9380491257"
    assert count(database, customers) == 1


def test_update_true_by_phone_also_changes_the_phone_form(push: Push, database: Database) -> None:
    cid = ok(push(with_customer("E-1", phone="9380491257")))["customer_id"]
    ok(push(with_customer("E-2", phone="+91 93804 91257", update="true")))
    customer = row(database, customers, cid)
    assert (customer["phone"], customer["phone_digits"]) == ("+91 93804 91257", "919380491257")


def test_an_order_update_without_customer_keys_stays_with_its_customer(
    push: Push, database: Database
) -> None:
    created = ok(push(with_customer("E-1", customer_name="Asha", phone="9380491257")))
    again = ok(push(with_customer("E-1", customer_name="Asha Rao", update=True)))
    assert again["customer_id"] == created["customer_id"]
    assert row(database, customers, created["customer_id"])["name"] == "Asha Rao"
    bare = ok(push({"order_info": {"erp_order_id": "E-1"}}))
    assert bare["customer_id"] == created["customer_id"]
    assert count(database, customers) == 1


def test_an_order_moves_to_another_found_customer(push: Push, database: Database) -> None:
    created = ok(push(with_customer("E-1", phone="9380491257")))
    moved = ok(push(with_customer("E-1", email_id="other@example.com")))
    assert moved["customer_id"] != created["customer_id"]
    assert row(database, orders, created["order_id"])["customer_id"] == moved["customer_id"]


def test_a_new_order_needs_a_customer(push: Push, database: Database) -> None:
    for customer in ({}, {"customer_id": "", "update": True}):
        failed(push(order_body(customer=customer)), 400, "customer_info")
    assert count(database, customers) == 0 and count(database, orders) == 0


# ---- contacts --------------------------------------------------------------------------


def test_contacts_are_matched_within_the_customer(push: Push, database: Database) -> None:
    body = order_body(contact_info=[
        {"contact_person_name": "Ravi", "contact_person_phone": "+91 90000-00001"},
        {"contact_person_name": "Mina", "contact_person_email": "Mina@x.com"},
        {"contact_person_name": "", "contact_person_phone": "", "contact_person_email": ""},
    ])
    ok(push(body))
    assert [c["name"] for c in rows(database, contacts)] == ["Ravi", "Mina"]
    ravi, mina = rows(database, contacts)

    ok(push(order_body(contact_info=[
        {"contact_person_phone": "9000000001", "contact_person_email": "ravi@x.com",
         "gender": "M"},
        {"contact_person_name": "Mina K", "contact_person_email": "mina@X.com"},
        {"contact_id": mina["id"], "contact_person_phone": "9111111111"},
        {"contact_person_name": "New", "contact_person_phone": "9222222222"},
    ])))
    stored = rows(database, contacts)
    assert [(c["id"], c["name"]) for c in stored] == [
        (ravi["id"], "Ravi"), (mina["id"], "Mina K"), (stored[2]["id"], "New")
    ]
    assert (stored[0]["email"], stored[0]["extra"]) == ("ravi@x.com", {"gender": "M"})
    assert stored[1]["phone_last10"] == "9111111111"

    # The same phone under another customer is that customer's own contact.
    other = order_body(customer={"phone": "9333333333"}, order={"erp_order_id": "E-9"},
                       contact_info={"contact_person_phone": "9000000001"})
    ok(push(other))
    assert count(database, contacts) == 4


def test_a_contact_id_of_another_customer_is_404(push: Push, database: Database) -> None:
    ok(push(order_body(contact_info=[{"contact_person_phone": "9000000001"}])))
    [contact] = rows(database, contacts)
    other = order_body(customer={"phone": "9333333333"}, order={"erp_order_id": "E-2"},
                       contact_info=[{"contact_id": contact["id"], "contact_person_name": "X"}])
    failed(push(other), 404)
    assert count(database, customers) == 1 and count(database, orders) == 1


# ---- enquiries -------------------------------------------------------------------------


def test_no_enquiry_without_enquiry_values(push: Push, database: Database) -> None:
    empty = {"enquiry_id": "", "status": "", "create_date": None, "update": False}
    answer = ok(push(order_body(enquiry_info=empty)))
    assert answer["enquiry_id"] is None and count(database, enquiries) == 0
    assert row(database, orders, answer["order_id"])["enquiry_id"] is None


def test_enquiry_is_created_with_a_default_create_date(push: Push, database: Database) -> None:
    answer = ok(push(order_body(enquiry_info={"remarks": "walk-in"})))
    enquiry = row(database, enquiries, answer["enquiry_id"])
    assert enquiry["create_date"] is not None and enquiry["extra"] == {"remarks": "walk-in"}


def test_an_updated_order_keeps_its_enquiry_and_the_update_flag_applies(
    push: Push, database: Database
) -> None:
    created = ok(push(order_body(enquiry_info={"status": "Open"})))
    eid = created["enquiry_id"]
    kept = ok(push(order_body(enquiry_info={"status": "Won"})))
    assert kept["enquiry_id"] == eid and row(database, enquiries, eid)["status"] == "Open"
    ok(push(order_body(enquiry_info={"status": "Won", "priority": "", "update": True})))
    assert row(database, enquiries, eid)["status_folded"] == "won"
    assert ok(push(order_body()))["enquiry_id"] == eid
    assert count(database, enquiries) == 1


def test_an_enquiry_by_id_is_linked_to_the_order(push: Push, database: Database) -> None:
    eid = ok(push(order_body(enquiry_info={"status": "Open"})))["enquiry_id"]
    linked = ok(push(order_body(order={"erp_order_id": "E-2"},
                                enquiry_info={"enquiry_id": eid, "status": "Lost"})))
    assert linked["enquiry_id"] == eid
    assert row(database, orders, linked["order_id"])["enquiry_id"] == eid
    assert row(database, enquiries, eid)["status"] == "Open"


def test_an_order_without_enquiry_gets_one_on_update(push: Push, database: Database) -> None:
    created = ok(push(order_body()))
    assert created["enquiry_id"] is None
    updated = ok(push(order_body(enquiry_info={"status": "Open"})))
    assert row(database, orders, created["order_id"])["enquiry_id"] == updated["enquiry_id"]


# ---- other accounts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "answer_key"),
    [
        ("customer_info", "customer_id", "customer_id"),
        ("order_info", "order_id", "order_id"),
        ("enquiry_info", "enquiry_id", "enquiry_id"),
    ],
)
def test_ids_of_another_account_are_404_and_write_nothing(
    client: Any, push: Push, database: Database, make_tenant: Callable[..., Tenant],
    section: str, key: str, answer_key: str,
) -> None:
    other = make_tenant(cm_id=2000001, subdomain="other")
    theirs = ok(push(order_body(enquiry_info={"status": "Open"}), headers=other.write_headers))

    # A new customer first, so a 404 found later has something to undo.
    body = order_body(customer={"phone": "9777777777"}, order={"erp_order_id": "MINE"})
    body.setdefault(section, {})[key] = theirs[answer_key]
    answer = failed(push(body), 404)
    assert key in answer["message"]
    assert count(database, customers) == 1 and count(database, orders) == 1
    assert count(database, enquiries) == 1


def test_same_phone_in_another_account_is_another_customer(
    push: Push, database: Database, make_tenant: Callable[..., Tenant]
) -> None:
    other = make_tenant(cm_id=2000001, subdomain="other")
    theirs = ok(push(order_body(), headers=other.write_headers))
    mine = ok(push(order_body()))
    assert mine["message"] == "Order Added Successfully"
    assert mine["customer_id"] != theirs["customer_id"]
    assert mine["order_id"] != theirs["order_id"]


# ---- employees -------------------------------------------------------------------------


@pytest.fixture
def staff(database: Database, tenant: Tenant) -> None:
    with database.write() as conn:
        accounts.add_employee(conn, tenant.account, code="E-ASHA", name="Asha",
                              email="Asha@Corp.com", emp_id=41)
        accounts.add_employee(conn, tenant.account, code="E-RAVI", name="Ravi", emp_id=42)


@pytest.mark.usefixtures("staff")
def test_employee_codes_and_emails_resolve(push: Push, database: Database) -> None:
    body = order_body(
        order={"erp_order_id": "E-1", "assign_emp_code": "E-ASHA", "creator_emp_code": "E-RAVI"},
        enquiry_info={"assign_emp_email": "asha@corp.COM", "creator_emp_code": "E-RAVI"},
    )
    answer = ok(push(body))
    order = row(database, orders, answer["order_id"])
    enquiry = row(database, enquiries, answer["enquiry_id"])
    assert (order["assign_id"], order["creator_id"]) == (41, 42)
    assert (enquiry["assign_emp_id"], enquiry["creator_id"]) == (41, 42)
    # An id need not be registered; an id and a code that agree are fine.
    body["order_info"] |= {"assign_id": "41", "approved_by_id": 999}
    ok(push(body))


@pytest.mark.usefixtures("staff")
def test_unknown_or_contradicting_employees_are_400_and_write_nothing(
    push: Push, database: Database, make_tenant: Callable[..., Tenant]
) -> None:
    body = order_body(
        customer={"phone": "9777777777"},
        order={"erp_order_id": "E-1", "assign_emp_code": "NOBODY", "assign_emp_email": "x@y.z",
               "creator_emp_code": "E-RAVI", "creator_id": 7},
        enquiry_info={"assign_emp_email": "nobody@corp.com"},
    )
    answer = failed(push(body), 400, "order_info.assign_emp_code", "order_info.assign_emp_email",
                    "order_info.creator_emp_code", "enquiry_info.assign_emp_email")
    assert "'NOBODY'" in answer["message"] and "'nobody@corp.com'" in answer["message"]
    assert count(database, customers) == 0 and count(database, orders) == 0

    # Another account's employees are not this account's.
    other = make_tenant(cm_id=2000001, subdomain="other")
    with database.write() as conn:
        accounts.add_employee(conn, other.account, code="THEIRS", name="T", emp_id=5)
    failed(push(order_body(order={"erp_order_id": "E", "assign_emp_code": "THEIRS"})), 400,
           "order_info.assign_emp_code")
