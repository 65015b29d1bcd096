"""`ordersearch demo` and the pure generator behind it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from ordersearch.accounts import create_account
from ordersearch.db.engine import Database
from ordersearch.db.tables import (
    accounts,
    contacts,
    customers,
    employees,
    enquiries,
    order_fields,
    order_items,
    orders,
)
from ordersearch.demo import (
    DEMO_CM_ID,
    DEMO_CUSTOMER_ID,
    DEMO_TABLES,
    demo_rows,
    example_add_update_body,
    insert_many,
    seed_pull_body,
)
from ordersearch.ingest.service import ingest_one
from tests.cli.conftest import Invoke, authenticate, count, get_account, ok
from tests.conftest import PULL, basic_auth

_NOW = datetime(2026, 1, 15, 12, 0, 0)


def test_demo_loads_orders(cli: Invoke, database: Database) -> None:
    result = ok(cli("demo", "--orders", "300"))
    assert "300 orders" in result.stdout and "orders/s" in result.stdout
    account = get_account(database, DEMO_CM_ID)
    assert (account.subdomain, account.name, account.timezone) == (
        "demo", "Demo Realty", "Asia/Kolkata"
    )
    assert authenticate(database, "demo", "demo").role == "write"
    mine = orders.c.account_id == account.id
    assert count(database, orders, mine) == 300
    assert count(database, employees, employees.c.account_id == account.id) == 20
    assert count(database, customers, customers.c.account_id == account.id) >= 100
    assert count(database, enquiries, enquiries.c.account_id == account.id) >= 200
    assert count(database, contacts, contacts.c.account_id == account.id) >= 10
    assert count(database, order_items, order_items.c.account_id == account.id) >= 300
    assert count(database, order_fields, order_fields.c.account_id == account.id) >= 600
    with database.read() as conn:
        rahul = conn.execute(select(customers).where(customers.c.id == DEMO_CUSTOMER_ID)).one()
    assert (rahul.account_id, rahul.name, rahul.phone_last10) == (
        account.id, "Rahul Sharma", "9380491257"
    )
    assert count(database, orders, orders.c.customer_id == DEMO_CUSTOMER_ID) >= 2


def test_demo_twice_adds_orders_but_not_a_second_account(cli: Invoke, database: Database) -> None:
    ok(cli("demo", "--orders", "30"))
    result = ok(cli("demo", "--orders", "20"))
    assert "Added to the demo account" in result.stdout
    assert count(database, accounts, accounts.c.cm_id == DEMO_CM_ID) == 1
    assert count(database, orders) == 50
    assert count(database, customers, customers.c.id == DEMO_CUSTOMER_ID) == 1
    assert count(database, employees) == 20


def test_ingest_after_demo_gets_fresh_ids(cli: Invoke, database: Database) -> None:
    """PostgreSQL's id sequences are moved past the demo's explicit ids."""
    ok(cli("demo", "--orders", "40"))
    result = ingest_one(database, get_account(database, DEMO_CM_ID), example_add_update_body())
    assert result["customer_id"] == DEMO_CUSTOMER_ID
    assert result["order_id"] > 40
    assert count(database, orders) == 41


def test_seed_body_finds_the_demo_orders(cli: Invoke, client: TestClient) -> None:
    ok(cli("demo", "--orders", "50"))
    response = client.post(PULL, json=seed_pull_body(), headers=basic_auth("demo", "demo"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["totalCount"] >= 2
    assert {order["customerId"] for order in answer["orders"]} == {DEMO_CUSTOMER_ID}


def test_demo_rows_are_reproducible() -> None:
    first = list(demo_rows(1, 200, seed=7, now=_NOW))
    again = list(demo_rows(1, 200, seed=7, now=_NOW))
    other = list(demo_rows(1, 200, seed=8, now=_NOW))
    assert first == again
    assert first != other


def test_demo_rows_respect_foreign_keys_and_first_ids() -> None:
    seen: dict[str, set[int]] = {table.name: set() for table in DEMO_TABLES}
    first_ids = {table.name: 1000 for table in DEMO_TABLES}
    for table, row in demo_rows(3, 500, first_ids=first_ids, now=_NOW):
        assert row["account_id"] == 3
        if table.name != "customers" or row["id"] != DEMO_CUSTOMER_ID:
            assert row["id"] >= 1000
        for column, parent in (("customer_id", "customers"), ("order_id", "orders")):
            if column in row and table.name != parent:
                assert row[column] in seen[parent], (table.name, row)
        if table is orders and row["enquiry_id"] is not None:
            assert row["enquiry_id"] in seen["enquiries"]
        seen[table.name].add(row["id"])
    assert len(seen["orders"]) == 500


def test_demo_rows_look_real() -> None:
    rows = [row for table, row in demo_rows(1, 3000, now=_NOW) if table is customers]
    names = " ".join(row["name"] for row in rows)
    assert re.search(r"[^\x00-\x7f]", names)  # Müller, Łukasz, José ...
    assert re.search(r"[\u0400-\u04ff]", names)  # Cyrillic
    assert re.search(r"[\u0900-\u097f]", names)  # Devanagari
    phones = [row["phone"] for row in rows]
    assert any(p.startswith("+91 ") and "-" in p for p in phones)
    assert any(p.startswith("0") for p in phones)
    assert any(re.fullmatch(r"[6-9]\d{9}", p) for p in phones)
    assert any(p.startswith("+1 (") for p in phones)
    countries = Counter(row["country"] for row in rows)
    assert countries.most_common(1)[0][0] == "India" and len(countries) > 3
    order_rows = [row for table, row in demo_rows(1, 1000, now=_NOW) if table is orders]
    assert {row["booking_status"] for row in order_rows} == {
        "Booked", "Agreement Signed", "Registered", "Cancelled", "On Hold"
    }
    assert Counter(row["currency"] for row in order_rows).most_common(1)[0][0] == "INR"
    assert all(re.fullmatch(r"\d+\.\d{2}", row["amount"]) for row in order_rows)
    assert all(row["attr1"] is None or row["attr1"].startswith("Tower ") for row in order_rows)
    assert all("floor" in row["additional_fields"] for row in order_rows)


def test_insert_many_stores_what_core_executemany_stores(database: Database) -> None:
    """The same rows, in two accounts: once through insert_many, once through Core."""
    references = ("id", "customer_id", "enquiry_id", "order_id")
    with database.write() as conn:
        first = create_account(conn, cm_id=1, subdomain="one", name="One")
        second = create_account(conn, cm_id=2, subdomain="two", name="Two")
        rows = list(demo_rows(first.id, 30, now=_NOW))
        for table, row in rows:
            insert_many(conn, table, [row])
        for table, row in rows:
            moved = {key: value + 1_000_000 if key in references and value is not None else value
                     for key, value in row.items()}
            conn.execute(table.insert(), [{**moved, "account_id": second.id}])
    with database.read() as conn:
        for table in DEMO_TABLES:
            stored = [
                {key: value for key, value in row._mapping.items()
                 if key not in (*references, "account_id")}
                for row in conn.execute(select(table).order_by(table.c.account_id, table.c.id))
            ]
            half = len(stored) // 2
            assert half > 0 and stored[:half] == stored[half:], table.name
