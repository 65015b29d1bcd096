"""The parse step on its own: every field checked, every error collected, blanks dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from ordersearch.errors import Forbidden, InvalidRequest
from ordersearch.ingest.parse import EmployeeRef, Record, parse_element, unknown_field_warning
from ordersearch.tenancy import Account

ACCOUNT = Account(id=1, cm_id=1000298, subdomain="demo", name="Demo", timezone="Asia/Kolkata")


def errors_of(element: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        parse_element(element, ACCOUNT)
    return {error.field: error.message for error in caught.value.errors}


def test_blank_values_are_not_given() -> None:
    element = parse_element({
        "customer_info": {"customer_id": "", "customer_name": "  ", "phone": None,
                          "additional_fields": {}, "update": ""},
        "contact_info": [{"contact_person_name": ""}],
        "enquiry_info": {"update": False, "status": ""},
        "order_info": {"order_id": None, "additional_fields": {"a": "", "b": None},
                       "product_details": [{"sku_id": ""}]},
    }, ACCOUNT)
    assert element.customer == Record() and not element.customer.given
    assert element.contacts == () and element.items == ()
    assert not element.enquiry.given and element.order == Record()
    assert element.warnings == ()


def test_values_are_parsed_into_columns() -> None:
    element = parse_element({
        "customer_info": {"customer_id": "17", "customer_name": " Asha ", "email_id": "A@B.C",
                          "locality": "Adyar", "update": "true"},
        "contact_info": {"contact_person_phone": 9000000001, "dob": "1990-01-02"},
        "enquiry_info": {"subStatus": "Hot", "assign_emp_code": "E-1",
                         "create_date": "2024-02-01T10:00:00Z"},
        "order_info": {"amount": 12.50, "attr3": 7, "booking_date": "2024-03-02",
                       "product_details": [{}, {"rate": "1.50", "quantity": 2}]},
    }, ACCOUNT)
    assert element.customer == Record(
        17, {"name": "Asha", "email": "A@B.C", "extra": {"locality": "Adyar"}}, update=True
    )
    assert element.contacts == (
        Record(values={"phone": "9000000001", "extra": {"dob": "1990-01-02"}}),
    )
    assert element.enquiry.values == {
        "sub_status": "Hot", "create_date": datetime(2024, 2, 1, 10, 0)
    }
    assert element.enquiry.employees == (
        EmployeeRef("enquiry_info.assign_emp_code", "assign_emp_id", "code", "E-1"),
    )
    assert element.order.values == {
        "amount": "12.5", "attr3": "7", "booking_date": datetime(2024, 3, 1, 18, 30)
    }
    assert [item.values for item in element.items] == [{"rate": "1.50", "quantity": "2"}]


def test_all_errors_are_collected_with_their_paths() -> None:
    errors = errors_of({
        "cmId": "x",
        "customer_info": {"customer_id": "1.5", "phone": "n/a", "update": "perhaps"},
        "contact_info": [{}, {"contact_person_email": ["a"]}],
        "enquiry_info": "open",
        "order_info": {"amount": "1e400", "create_date": "soon", "unit_id": 2**63,
                       "additional_fields": {" ": 1}, "product_details": {"rate": "x"}},
    })
    assert set(errors) == {
        "cmId", "customer_info.customer_id", "customer_info.phone", "customer_info.update",
        "contact_info[1].contact_person_email", "enquiry_info", "order_info.amount",
        "order_info.create_date", "order_info.unit_id", "order_info.additional_fields",
        "order_info.product_details[0].rate",
    }
    assert errors["customer_info.phone"] == "'n/a' contains no digits"
    assert errors["enquiry_info"] == "not an object: 'open'"


def test_order_info_is_required() -> None:
    assert set(errors_of({"customer_info": {"phone": "1"}})) == {"order_info"}
    assert set(errors_of({"order_info": []})) == {"order_info"}


def test_a_foreign_cm_id_is_forbidden_before_anything_else() -> None:
    with pytest.raises(Forbidden):
        parse_element({"cmId": 1, "order_info": {"amount": "abc"}}, ACCOUNT)
    assert parse_element({"cmId": "1000298", "order_info": {}}, ACCOUNT).order == Record()


def test_kept_fields_and_decimals_have_limits() -> None:
    errors = errors_of({
        "customer_info": {"associate_fields": {"notes": "n" * 10_000}},
        "order_info": {"amount": "1E-100", "additional_fields": {"k" * 256: "v"}},
    })
    assert set(errors) == {
        "customer_info.associate_fields", "order_info.amount", "order_info.additional_fields"
    }


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("customerIds", "; did you mean 'customer_info.customer_id'?"),
        ("Email_ID", "; did you mean 'customer_info.email_id'?"),
        ("shoe_size", ""),
    ],
)
def test_unknown_field_warning_suggests_a_close_key(key: str, expected: str) -> None:
    known = ["customer_id", "email_id", "phone"]
    message = unknown_field_warning("customer_info", key, known)
    assert message == f"unknown field 'customer_info.{key}' ignored{expected}"
