"""Tenant isolation (issue 5, part 2): a property test over three accounts.

Three accounts get their own data through add-update; some of it is deliberately the same
in every account (a customer named "Shared Name" with the same phone, email and code, an
order with the same erp/invoice/reference ids), the rest is unique to the account. Then,
for every example, one account's user sends a sequence of requests built from the other
accounts' identifiers:

- pull/export bodies with another account's cmId                        -> 403
- pull/export filters holding other accounts' ids, phones, emails, names ... -> 200, only
  the caller's own orders (none for another account's numeric ids)
- add-update naming another account's customer_id/order_id/enquiry_id/contact_id or
  employee code/email                                                  -> 404 (400 for an
  employee), nothing written in any account
- add-update with another account's cmId                               -> 403, nothing written
- add-update with another account's erp_order_id, phone, email, customer_code -> a new
  order (and customer) in the caller's own account
- any call with a Host of another account's subdomain, when the base domain is set -> 401

After every request, every other account's rows (every table, `WHERE account_id = ...`)
are compared with a snapshot taken before it, and every order in an answer (with its
customer, contacts and enquiry in view 3) must be one of the caller's.

ORDERSEARCH_ISOLATION_EXAMPLES sets the number of examples per backend (default 100).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, select

from ordersearch import accounts as accounts_service
from ordersearch.api.app import create_app
from ordersearch.auth import Authenticator
from ordersearch.config import Settings
from ordersearch.db.engine import Database
from ordersearch.db.tables import (
    accounts,
    api_users,
    contacts,
    customers,
    employees,
    enquiries,
    order_fields,
    order_items,
    orders,
)
from tests.conftest import ADD_UPDATE, PULL, Tenant

EXPORT = "/ms/customer-search/order-search/api/v1/export"
BASE_DOMAIN = "orders.example.com"
EXAMPLES = int(os.environ.get("ORDERSEARCH_ISOLATION_EXAMPLES", "100"))
TENANT_TABLES: tuple[Table, ...] = (
    api_users, employees, customers, contacts, enquiries, orders, order_items, order_fields,
)
SHARED = {
    "name": "Shared Name",
    "phone": "9000000000",
    "email": "shared@example.com",
    "code": "SHARED-CODE",
    "erp": "SHARED-ERP",
    "invoice": "SHARED-INV",
    "reference": "SHARED-REF",
    "attr": "shared",
}

Snapshot = dict[str, list[tuple[Any, ...]]]


# --------------------------------------------------------------------------- the accounts


@dataclass
class Facts:
    """One account and every identifier its data holds, as an attacker would use them."""

    index: int
    tenant: Tenant
    prefix: str
    customer_ids: list[int] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)
    enquiry_ids: list[int] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    erp_ids: list[str] = field(default_factory=list)
    invoice_ids: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    employee_codes: list[str] = field(default_factory=list)
    employee_emails: list[str] = field(default_factory=list)
    attrs: list[str] = field(default_factory=list)

    @property
    def cm_id(self) -> int:
        return self.tenant.account.cm_id

    @property
    def account_id(self) -> int:
        return self.tenant.account.id

    @property
    def subdomain(self) -> str:
        return self.tenant.account.subdomain


def _elements(prefix: str, index: int) -> list[dict[str, Any]]:
    phone = f"98{index:02d}000001"
    unique_customer = {
        "customer_name": f"{prefix.title()} Unique Person", "phone": phone,
        "email_id": f"{prefix}@example.com", "customer_code": f"{prefix}-CODE",
        "city": f"{prefix}-city",
    }
    return [
        {
            "customer_info": unique_customer,
            "contact_info": [{"contact_person_name": f"{prefix} contact",
                              "contact_person_phone": f"97{index:02d}000001",
                              "contact_person_email": f"contact@{prefix}.example.com"}],
            "enquiry_info": {"status": "Open", "priority": f"{prefix}-priority"},
            "order_info": {
                "erp_order_id": f"{prefix}-ERP-1", "erp_invoice_id": f"{prefix}-INV-1",
                "client_reference_id": f"{prefix}-REF-1", "attr1": f"{prefix}-attr",
                "amount": "100.00", "booking_status": "Booked",
                "additional_fields": {"tenant": prefix},
                "product_details": [{"sku_id": f"{prefix}-SKU", "quantity": "1"}],
            },
        },
        {
            "customer_info": {
                "customer_name": SHARED["name"], "phone": SHARED["phone"],
                "email_id": SHARED["email"], "customer_code": SHARED["code"],
            },
            "contact_info": [{"contact_person_name": "Shared contact",
                              "contact_person_phone": "9111111111"}],
            "enquiry_info": {"status": "Shared"},
            "order_info": {
                "erp_order_id": SHARED["erp"], "erp_invoice_id": SHARED["invoice"],
                "client_reference_id": SHARED["reference"], "attr1": SHARED["attr"],
                "additional_fields": {"shared": "yes"},
                "product_details": [{"sku_id": "SHARED-SKU", "quantity": "2"}],
            },
        },
        {
            "customer_info": {"phone": phone},
            "order_info": {"erp_order_id": f"{prefix}-ERP-2", "booking_status": "Cancelled",
                           "additional_fields": {"tenant": prefix, "n": 2}},
        },
    ]


def _populate(client: TestClient, database: Database, facts: Facts) -> None:
    tenant = facts.tenant
    with database.write() as conn:
        accounts_service.add_employee(
            conn, tenant.account, code=f"{facts.prefix}-EMP", name=f"{facts.prefix} emp",
            email=f"emp@{facts.prefix}.example.com", emp_id=100 + facts.index,
        )
    response = client.post(ADD_UPDATE, json=_elements(facts.prefix, facts.index),
                           headers=tenant.write_headers)
    assert response.status_code == 200, response.text
    results = response.json()
    assert [r["status"] for r in results] == ["success"] * 3, results
    account_id = facts.account_id
    with database.read() as conn:
        def ids(table: Table) -> list[int]:
            return list(conn.scalars(
                select(table.c.id).where(table.c.account_id == account_id).order_by(table.c.id)
            ))

        facts.customer_ids = ids(customers)
        # In array order (ids are handed out in another order when a batch mixes paths).
        facts.order_ids = [int(result["order_id"]) for result in results]
        assert sorted(facts.order_ids) == ids(orders)
        facts.enquiry_ids = ids(enquiries)
        facts.contact_ids = ids(contacts)
    facts.erp_ids = [f"{facts.prefix}-ERP-1", f"{facts.prefix}-ERP-2", SHARED["erp"]]
    facts.invoice_ids = [f"{facts.prefix}-INV-1", SHARED["invoice"]]
    facts.references = [f"{facts.prefix}-REF-1", SHARED["reference"]]
    facts.phones = [f"98{facts.index:02d}000001", f"+91 97{facts.index:02d}0-00001",
                    SHARED["phone"]]
    facts.emails = [f"{facts.prefix}@example.com", f"CONTACT@{facts.prefix}.example.com",
                    SHARED["email"]]
    facts.names = [f"{facts.prefix.title()} Unique", facts.prefix.upper(), "shared name"]
    facts.codes = [f"{facts.prefix}-CODE", SHARED["code"]]
    facts.employee_codes = [f"{facts.prefix}-EMP"]
    facts.employee_emails = [f"emp@{facts.prefix}.example.com"]
    facts.attrs = [f"{facts.prefix}-attr", SHARED["attr"]]


PREFIXES = ("alpha", "bravo", "charlie")


@pytest.fixture
def world(
    client: TestClient, database: Database, make_tenant: Callable[..., Tenant]
) -> list[Facts]:
    world = []
    for index, prefix in enumerate(PREFIXES):
        tenant = make_tenant(cm_id=2_000_001 + index, subdomain=prefix, timezone="UTC")
        facts = Facts(index, tenant, prefix)
        _populate(client, database, facts)
        world.append(facts)
    return world


@pytest.fixture
def routed_client(database: Database) -> Iterator[TestClient]:
    """The app with ORDERSEARCH_BASE_DOMAIN set; its own authenticator never throttles, so
    the 401s of wrong hosts cannot turn into 429s however many examples run."""
    app = create_app(
        Settings(database_url=str(database.engine.url), base_domain=BASE_DOMAIN),
        database=database,
        authenticator=Authenticator(max_failures=10**9),
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# --------------------------------------------------------------------------- checks


def snapshot(database: Database, account_ids: list[int]) -> dict[int, Snapshot]:
    """Every row of each account, in every table that holds tenant data, in one read
    snapshot and one query per table."""
    taken: dict[int, Snapshot] = {
        account_id: {table.name: [] for table in (accounts, *TENANT_TABLES)}
        for account_id in account_ids
    }
    with database.read() as conn:
        for row in conn.execute(select(accounts).where(accounts.c.id.in_(account_ids))):
            taken[row.id]["accounts"].append(tuple(row))
        for table in TENANT_TABLES:
            result = conn.execute(
                select(table).where(table.c.account_id.in_(account_ids)).order_by(table.c.id)
            )
            for row in result:
                taken[row.account_id][table.name].append(tuple(row))
    return taken


def owned(database: Database, account_id: int) -> dict[str, set[int]]:
    with database.read() as conn:
        return {
            table.name: set(conn.scalars(
                select(table.c.id).where(table.c.account_id == account_id)))
            for table in (customers, contacts, enquiries, orders)
        }


def assert_own_orders(
    database: Database, caller: Facts, answer_orders: list[dict[str, Any]]
) -> None:
    """Every order of an answer, and everything nested in it, is the caller's."""
    mine = owned(database, caller.account_id)
    for order in answer_orders:
        assert int(order["orderId"]) in mine["orders"], order
        if order.get("customerId") not in (None, ""):
            assert int(order["customerId"]) in mine["customers"], order
        if order.get("enquiryId") not in (None, ""):
            assert int(order["enquiryId"]) in mine["enquiries"], order
        customer = order.get("customer")
        if isinstance(customer, dict):
            assert customer["customerId"] in mine["customers"], order
            assert {c["contactId"] for c in customer["contacts"]} <= mine["contacts"], order
        enquiry = order.get("enquiry")
        if isinstance(enquiry, dict):
            assert enquiry["enquiryId"] in mine["enquiries"], order


def export_orders(body_bytes: bytes, export_format: str) -> list[dict[str, Any]]:
    if export_format == "csv":
        return list(csv.DictReader(io.StringIO(body_bytes.decode())))
    return [orjson.loads(line) for line in body_bytes.splitlines() if line.strip()]


def assert_failed(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "failed" and body["message"], body


# --------------------------------------------------------------------------- strategies


@dataclass
class Case:
    """One request an attacker sends, and what must come back."""

    kind: str
    path: str
    body: Any
    host: str | None = None
    export_format: str = "ndjson"
    expect_empty: bool = False
    notes: dict[str, Any] = field(default_factory=dict)


ID_FILTERS = {
    "customerIds": "customer_ids", "customer_Ids": "customer_ids",
    "orderIds": "order_ids", "enquiryIds": "enquiry_ids", "leadIdStr": "enquiry_ids",
}
TEXT_FILTERS = {
    "erpOrderId": "erp_ids", "erpInvoiceId": "invoice_ids",
    "clientReferenceIds": "references", "phone": "phones", "email": "emails",
    "attr1": "attrs",
}


def list_form(draw: st.DrawFn, values: list[Any]) -> Any:
    """A list filter in one of its accepted forms."""
    form = draw(st.sampled_from(["array", "comma", "single"]))
    if form == "single" or len(values) == 1:
        return values[0] if form != "array" else [values[0]]
    if form == "comma":
        return ", ".join(str(v) for v in values)
    return values


@st.composite
def cases(draw: st.DrawFn, world: list[Facts], caller: Facts) -> Case:
    others = [f for f in world if f is not caller]
    victim = draw(st.sampled_from(others))
    kind = draw(st.sampled_from([
        "pull_foreign_cm_id", "pull_foreign_ids", "pull_foreign_text", "pull_foreign_mixed",
        "ingest_foreign_ids", "ingest_foreign_cm_id", "ingest_foreign_erp",
        "foreign_host",
    ]))
    view = draw(st.sampled_from([1, 2, 3]))
    endpoint = draw(st.sampled_from([PULL, PULL, EXPORT]))
    export_format = draw(st.sampled_from(["ndjson", "csv"]))

    def pull_case(body: dict[str, Any], expect_empty: bool) -> Case:
        body = {**body, "viewId": view}
        if endpoint == EXPORT:
            body["format"] = export_format
        else:
            body["limit"] = 500
        return Case(kind, endpoint, body, export_format=export_format,
                    expect_empty=expect_empty)

    if kind == "pull_foreign_cm_id":
        cm_id: Any = draw(st.sampled_from([victim.cm_id, str(victim.cm_id)]))
        return pull_case({"cmId": cm_id, "orderIds": caller.order_ids}, False)

    if kind == "pull_foreign_ids":
        key = draw(st.sampled_from(sorted(ID_FILTERS)))
        pool = getattr(victim, ID_FILTERS[key])
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        return pull_case({"cmId": caller.cm_id, key: list_form(draw, values)}, True)

    if kind == "pull_foreign_text":
        key = draw(st.sampled_from([*sorted(TEXT_FILTERS), "name", "additionalFields",
                                    "customerCode"]))
        if key == "name":
            value: Any = draw(st.sampled_from(victim.names))
        elif key == "additionalFields":
            value = draw(st.sampled_from([{"tenant": victim.prefix}, {"shared": "yes"},
                                          {"n": 2}]))
        elif key == "customerCode":
            # Not a filter: reported in warnings; the body still needs a real filter.
            return pull_case({"cmId": caller.cm_id, "customerCode": victim.codes[0],
                              "phone": victim.phones[0]}, False)
        else:
            pool = getattr(victim, TEXT_FILTERS[key])
            values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
            value = list_form(draw, values)
        return pull_case({"cmId": caller.cm_id, key: value}, False)

    if kind == "pull_foreign_mixed":
        # Own and foreign ids in one list: only the caller's own come back.
        key = draw(st.sampled_from(sorted(ID_FILTERS)))
        mixed = getattr(victim, ID_FILTERS[key]) + getattr(caller, ID_FILTERS[key])
        values = draw(st.permutations(mixed))
        extras: list[dict[str, Any]] = [
            {}, {"erpOrderId": victim.erp_ids + caller.erp_ids}, {"name": "shared"},
        ]
        extra = draw(st.sampled_from(extras))
        return pull_case({"cmId": caller.cm_id, key: list_form(draw, values), **extra}, False)

    if kind == "ingest_foreign_cm_id":
        body = {"cmId": victim.cm_id,
                "customer_info": {"customer_name": "Intruder"},
                "order_info": {"erp_order_id": draw(st.sampled_from(victim.erp_ids))}}
        return Case(kind, ADD_UPDATE, draw(st.sampled_from([body, [body]])))

    if kind == "ingest_foreign_ids":
        which = draw(st.sampled_from(
            ["customer_id", "order_id", "enquiry_id", "contact_id", "emp_code", "emp_email"]
        ))
        element: dict[str, Any] = {
            "customer_info": {"customer_name": "Intruder", "update": True},
            "order_info": {"amount": "1.00", "remarks": "intrusion"},
        }
        if which == "customer_id":
            element["customer_info"]["customer_id"] = draw(st.sampled_from(victim.customer_ids))
        elif which == "order_id":
            element["order_info"]["order_id"] = draw(st.sampled_from(victim.order_ids))
            element["order_info"]["product_details"] = [{"sku_id": "EVIL"}]
        elif which == "enquiry_id":
            element["enquiry_info"] = {"enquiry_id": draw(st.sampled_from(victim.enquiry_ids)),
                                       "status": "Hijacked", "update": True}
        elif which == "contact_id":
            element["customer_info"] = {"customer_id": caller.customer_ids[0]}
            element["contact_info"] = [{"contact_id": draw(st.sampled_from(victim.contact_ids)),
                                        "contact_person_name": "Hijacked"}]
        elif which == "emp_code":
            element["order_info"]["assign_emp_code"] = victim.employee_codes[0]
        else:
            element["enquiry_info"] = {"status": "x",
                                       "assign_emp_email": victim.employee_emails[0]}
        if draw(st.booleans()):
            element["order_info"]["erp_order_id"] = draw(st.sampled_from(victim.erp_ids))
        status = 400 if which.startswith("emp_") else 404
        as_array = draw(st.booleans())
        return Case(kind, ADD_UPDATE, [element] if as_array else element,
                    notes={"status": status, "array": as_array})

    if kind == "ingest_foreign_erp":
        customer: dict[str, Any] = {"customer_name": "Copycat"}
        for key, pool in (("phone", victim.phones), ("email_id", victim.emails),
                          ("customer_code", victim.codes)):
            if draw(st.booleans()):
                customer[key] = draw(st.sampled_from(pool))
        customer["update"] = draw(st.booleans())
        element = {
            "customer_info": customer,
            "order_info": {"erp_order_id": draw(st.sampled_from(victim.erp_ids)),
                           "erp_invoice_id": draw(st.sampled_from(victim.invoice_ids)),
                           "amount": "9.99", "additional_fields": {"tenant": victim.prefix},
                           "product_details": [{"sku_id": "COPY", "quantity": "3"}]},
        }
        if draw(st.booleans()):
            element["enquiry_info"] = {"status": "Copied", "update": True}
        as_array = draw(st.booleans())
        return Case(kind, ADD_UPDATE, [element] if as_array else element,
                    notes={"array": as_array})

    # foreign_host: the caller's credentials on another account's subdomain.
    path = draw(st.sampled_from([PULL, ADD_UPDATE, EXPORT]))
    if path == ADD_UPDATE:
        body = {"customer_info": {"customer_name": "Wrong host"},
                "order_info": {"erp_order_id": "HOST-ERP"}}
    else:
        body = {"cmId": caller.cm_id, "orderIds": caller.order_ids}
    host = draw(st.sampled_from([f"{victim.subdomain}.{BASE_DOMAIN}",
                                 f"{victim.subdomain}.{BASE_DOMAIN}:443",
                                 f"{victim.subdomain.upper()}.{BASE_DOMAIN}."]))
    return Case(kind, path, body, host=host)


# --------------------------------------------------------------------------- the property


def run_case(
    case: Case, caller: Facts, client: TestClient, routed: TestClient, database: Database,
    stats: dict[str, int],
) -> None:
    stats[case.kind] = stats.get(case.kind, 0) + 1
    headers = caller.tenant.write_headers
    if case.host is not None:
        response = routed.post(case.path, json=case.body, headers={**headers, "Host": case.host})
        assert_failed(response, 401)
        assert response.json()["message"] == "Invalid Auth Key"
        return
    response = client.post(case.path, json=case.body, headers=headers)

    if case.kind == "pull_foreign_cm_id":
        assert_failed(response, 403)
        assert response.json()["message"] == "cmId does not match the authenticated account"
        return
    if case.kind.startswith("pull_"):
        assert response.status_code == 200, response.text
        if case.path == EXPORT:
            answer = export_orders(response.content, case.export_format)
        else:
            body = response.json()
            assert body["cmId"] == caller.cm_id
            answer = body["orders"]
            assert body["totalCount"] in (None, len(answer)), body
        assert_own_orders(database, caller, answer)
        if case.expect_empty:
            assert answer == [], answer
        return
    if case.kind == "ingest_foreign_cm_id":
        if isinstance(case.body, list):
            # An array is answered per element (§3): the element fails with the 403 message.
            assert response.status_code == 200, response.text
            [result] = response.json()
            assert result["status"] == "failed", result
            assert result["message"] == "cmId does not match the authenticated account"
        else:
            assert_failed(response, 403)
        return
    if case.kind == "ingest_foreign_ids":
        if case.notes["array"]:
            assert response.status_code == 200, response.text
            [result] = response.json()
            assert result["status"] == "failed", result
        else:
            assert_failed(response, case.notes["status"])
        return
    # ingest_foreign_erp: a new (or the caller's own, on a repeat) order in the caller's
    # account, never the other account's order with the same erp_order_id.
    assert response.status_code == 200, response.text
    result = response.json()[0] if case.notes["array"] else response.json()
    assert result["status"] == "success", result
    mine = owned(database, caller.account_id)
    assert result["order_id"] in mine["orders"], result
    assert result["customer_id"] in mine["customers"], result
    assert result["enquiry_id"] is None or result["enquiry_id"] in mine["enquiries"], result


WRITES_NOTHING = {"ingest_foreign_cm_id", "ingest_foreign_ids", "foreign_host",
                  "pull_foreign_cm_id", "pull_foreign_ids", "pull_foreign_text",
                  "pull_foreign_mixed"}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_account_reads_or_changes_another(
    data: st.DataObject,
    world: list[Facts],
    client: TestClient,
    routed_client: TestClient,
    database: Database,
    isolation_stats: dict[str, int],
) -> None:
    caller = data.draw(st.sampled_from(world), label="caller")
    steps = data.draw(st.lists(cases(world, caller), min_size=1, max_size=4), label="steps")
    every_account = [f.account_id for f in world]
    before = snapshot(database, every_account)
    for case in steps:
        run_case(case, caller, client, routed_client, database, isolation_stats)
        after = snapshot(database, every_account)
        # Every other account must stay as it was; the caller's own too, when the request
        # is one that writes nothing (a failed ingest, a pull, a wrong host).
        for facts in world:
            if facts is caller and case.kind not in WRITES_NOTHING:
                continue
            assert after[facts.account_id] == before[facts.account_id], (
                f"{case.kind} by {caller.prefix} changed {facts.prefix}'s rows: {case.body}"
            )
        before = after


@pytest.fixture
def isolation_stats(backend: str) -> Iterator[dict[str, int]]:
    stats: dict[str, int] = {}
    yield stats
    total = sum(stats.values())
    print(f"\nisolation[{backend}]: {total} requests: "
          + ", ".join(f"{k}={v}" for k, v in sorted(stats.items())))


def test_shared_values_find_only_own_orders(
    world: list[Facts], client: TestClient, database: Database
) -> None:
    """Not vacuous: filters on values every account holds do match, in the caller's account
    only, with exactly the caller's own orders."""
    for caller in world:
        for key, value in (("erpOrderId", SHARED["erp"]), ("phone", SHARED["phone"]),
                           ("email", SHARED["email"]), ("name", "shared"),
                           ("clientReferenceIds", SHARED["reference"]),
                           ("additionalFields", {"shared": "yes"})):
            response = client.post(
                PULL, json={"cmId": caller.cm_id, key: value, "viewId": 3},
                headers=caller.tenant.write_headers,
            )
            assert response.status_code == 200, response.text
            found = response.json()["orders"]
            assert [o["orderId"] for o in found] == [caller.order_ids[1]], (key, found)
            assert_own_orders(database, caller, found)
