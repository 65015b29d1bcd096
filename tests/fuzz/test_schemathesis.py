"""Schema-driven fuzzing: schemathesis against the live ASGI app, on SQLite and PostgreSQL.

Every operation of /openapi.json is called with bodies generated from its schema, valid
ones (positive) and ones that break it (negative), plus the document's examples and
schemathesis' coverage cases (boundaries of every key), as a `write` user of the tenant.
Every answer must:

- not be a 5xx;
- have a status code, content type, headers and body the document declares for it;
- be a 4xx when the body breaks the request schema (so the schema is no stricter than
  the server: what the server accepts, the schema accepts);
- hold no stack trace, SQL, driver name or HTML;
- for an add-update array, hold no element that failed with a server error;
- for an export, be NDJSON orders of the view asked for, or CSV with that view's header.

`make test` runs the short form: the examples, the coverage cases of Pull and export, and
`DEFAULT_EXAMPLES` generated bodies per operation, on each backend. A long run draws N
bodies per operation and adds add-update's coverage cases (about 2,300 writes):

    ORDERSEARCH_FUZZ_EXAMPLES=2000 .venv/bin/pytest -q tests/fuzz

The schemathesis pytest plugin (`schemathesis.pytest.from_fixture`) does not run under the
pytest this project uses, so each operation's test is built with schemathesis' own test
builder and run inside an ordinary pytest test, with the project's fixtures.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import orjson
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from ordersearch.api.app import create_app
from ordersearch.api.openapi import ADD_UPDATE_EXAMPLE
from ordersearch.auth import Authenticator
from ordersearch.config import Settings
from ordersearch.db.engine import Database
from ordersearch.ingest.service import add_update
from ordersearch.search.parse import DEFAULT_VIEW
from ordersearch.search.render import VIEW_FIELDS
from ordersearch.values import is_blank, parse_int
from tests.conftest import Tenant
from tests.fuzz import tally

DEFAULT_EXAMPLES = 40
LONG_RUN = bool(os.environ.get("ORDERSEARCH_FUZZ_EXAMPLES"))
EXAMPLES = int(os.environ.get("ORDERSEARCH_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)

LEAKS = ("Traceback", "SELECT ", "sqlalchemy", "psycopg", "<html")


def _sent(case: Case) -> str:
    return json.dumps(case.body, default=str, ensure_ascii=False) if case.body is not None else ""


@schemathesis.check
def no_internals_leak(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """No answer shows a stack trace, SQL, a driver or HTML (contract §4), other than
    what the request itself sent (a 400 quotes the bad value)."""
    text = response.content.decode("utf-8", "replace").lower()
    sent = _sent(case).lower()
    found = [leak for leak in LEAKS if leak.lower() in text and leak.lower() not in sent]
    if found:
        raise AssertionError(f"the answer shows {found}: {text[:500]}")
    return None


@schemathesis.check
def no_element_server_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An add-update array answers a server fault in one element in its place, within a
    200: that is a 5xx all the same."""
    if response.status_code != 200 or not case.operation.path.endswith("/add-update"):
        return None
    body = orjson.loads(response.content)
    for index, result in enumerate(body if isinstance(body, list) else [body]):
        if result.get("message") == "Internal server error":
            raise AssertionError(f"element {index} failed with a server error: {result}")
    return None


def _order_validator(document: dict[str, Any], view: int) -> Any:
    return jsonschema_rs.validator_for(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": document["components"],
            "$ref": f"#/components/schemas/OrderView{view}",
        }
    )


def _view_of(case: Case) -> int:
    """The view of an export answered 200 (so its viewId is valid)."""
    raw = case.body.get("viewId") if isinstance(case.body, dict) else None
    return DEFAULT_VIEW if is_blank(raw) else parse_int(raw)


@schemathesis.check
def export_rows_are_orders(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A 200 export is NDJSON orders of the view asked for, or CSV with that view's header."""
    if response.status_code != 200 or not case.operation.path.endswith("/export"):
        return None
    view = _view_of(case)
    content_type = response.headers.get("content-type", [""])[0]
    text = response.content.decode("utf-8")
    if content_type.startswith("application/x-ndjson"):
        validator = _order_validator(case.operation.schema.raw_schema, view)
        for number, line in enumerate(text.splitlines(), 1):
            order = orjson.loads(line)
            errors = [str(error) for error in validator.iter_errors(order)]
            if errors:
                raise AssertionError(f"NDJSON line {number} is not a view {view} order: {errors}")
    else:
        header = next(csv.reader(io.StringIO(text)))
        expected = [key for key, _ in VIEW_FIELDS[view]]
        if view == 3:
            expected += ["items", "additionalFields", "customer", "enquiry"]
        if header != expected:
            raise AssertionError(f"CSV header {header} is not view {view}'s {expected}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
    no_internals_leak,
    no_element_server_error,
    export_rows_are_orders,
]

# An array answered 200 may hold failed elements: an element that breaks the schema is
# reported in its place, not with a 4xx for the whole request (docs/add-update.md).
BATCH_CHECKS = [check for check in CHECKS if check is not negative_data_rejection]


def _full_order(erp: str, phone: str) -> dict[str, Any]:
    """An order with every section filled, so that view 3 answers have all their parts."""
    return {
        "customer_info": {
            "customer_code": f"C-{erp}", "customer_name": "Müller Ørsted", "phone": phone,
            "email_id": f"{erp.lower()}@example.com", "city": "Москва", "state": "MSK",
            "country": "Russia", "address": "ул. Тверская, 1", "pincode": "125009",
            "zone": "North", "additional_fields": {"tier": "gold", "since": 2019},
        },
        "contact_info": [
            {"contact_person_name": "Anna", "contact_person_phone": "+7 495 123-45-67",
             "contact_person_email": "anna@example.com"},
        ],
        "enquiry_info": {
            "status": "Won", "subStatus": "Booked", "priority": "Hot", "assign_emp_id": 5001,
            "creator_id": 5002, "secondary_source_id": 207, "create_date": "2024-01-05",
            "next_follow_up_date": "2024-02-01 10:00", "last_follow_up_date": 1706745600000,
            "expected_closure_date": "2024-03-31T18:00:00+05:30",
        },
        "order_info": {
            "erp_order_id": erp, "erp_invoice_id": f"INV-{erp}", "client_reference_id": "CR-1",
            "create_date": "2024-02-10 09:30", "booking_status": "Booked",
            "booking_sub_status": "Agreement Signed", "booking_date": "2024-02-11",
            "agreement_date": "2024-02-20", "creator_id": 5002, "assign_id": 5001,
            "zone_id": 14, "block_id": 3, "unit_id": 902, "approval_designation_id": 7,
            "approved_by_id": 5003, "pricing_status": "Approved", "amount": "7250000.50",
            "currency": "INR", "payment_mode": "Loan", "order_type": "Primary",
            "remarks": "first floor", **{f"attr{i}": f"A{i}" for i in range(1, 16)},
            "additional_fields": {"floor": 9, "parking": "covered"},
            "product_details": [
                {"sku_id": "UNIT-902", "product_name": "2 BHK", "rate": "7250000.50",
                 "quantity": 1, "discount": "0"},
            ],
        },
    }


def seed_orders(database: Database, tenant: Tenant) -> None:
    """A few orders, sparse and full, so that pulls and exports have rows to shape."""
    bodies = [
        ADD_UPDATE_EXAMPLE,
        _full_order("SO-FUZZ-1", "9380491257"),
        _full_order("SO-FUZZ-2", "+91 93804 91258"),
        {"customer_info": {"customer_name": "Sparse"}, "order_info": {"erp_order_id": "S-1"}},
    ]
    results = add_update(database, tenant.account, bodies)
    assert all(result["status"] == "success" for result in results), results


@pytest.fixture
def fuzz_app(database: Database, settings: Settings, tenant: Tenant) -> FastAPI:
    seed_orders(database, tenant)
    # Throttling has its own tests (tests/api/test_auth.py); here the unauthenticated probes
    # of `ignored_auth` must not lock the fuzzing client out after ten of them.
    authenticator = Authenticator(max_failures=1_000_000_000)
    return create_app(settings, database=database, authenticator=authenticator)


def load_schema(app: FastAPI, tenant: Tenant, *, coverage: bool) -> Any:
    """The served document, fuzzed as the tenant's write user."""
    token = tenant.write_headers["Authorization"].removeprefix("Basic ")
    username, _, password = base64.b64decode(token).decode().partition(":")
    config = schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": EXAMPLES},
            "auth": {"basic": {"username": username, "password": password}},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@pytest.fixture
def count_cases(backend: str) -> Iterator[None]:
    with tally.timed("schemathesis", backend):
        yield


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


# Coverage cases (every key's boundaries and wrong types, unexpected methods): about 600
# for each Pull operation, 2,300 for add-update, which writes; those run in the long run.
OPERATIONS = [("pullOrders", True), ("exportOrders", True), ("addUpdateOrders", LONG_RUN)]


@pytest.mark.parametrize(("operation_id", "coverage"), OPERATIONS, ids=[o for o, _ in OPERATIONS])
def test_operation(
    fuzz_app: FastAPI,
    tenant: Tenant,
    backend: str,
    operation_id: str,
    coverage: bool,
    count_cases: None,
) -> None:
    schema = load_schema(fuzz_app, tenant, coverage=coverage)
    operation = next(
        result.ok() for result in schema.get_all_operations()
        if result.ok().definition.raw.get("operationId") == operation_id
    )

    def run(case: Case) -> None:
        tally.count("schemathesis", backend)
        checks = BATCH_CHECKS if isinstance(case.body, list) else CHECKS
        case.call_and_validate(checks=checks)

    test = build_operation_test(
        config=schema.config,
        operation=operation,
        test_func=run,
        given_kwargs={},
        feedback=FeedbackSources(),
        explicit_settings=FUZZ_SETTINGS,
    )
    test()
