"""Crash safety (issue 5, part 3; contract §4): SIGKILL the server while orders are pushed.

The real server runs as a subprocess (`ordersearch serve` on 127.0.0.1, over a fresh
SQLite file or a fresh PostgreSQL database; the account and its write user are made with
the CLI). Client threads push orders through add-update, as single objects and as arrays,
each order with a unique erp_order_id, a new customer (unique phone and email), sometimes
contacts and an enquiry, line items and additional fields. The ledger records exactly
what was sent and which elements were acknowledged (HTTP 200 and `"status": "success"`,
with their ids). Each round kills the server with SIGKILL at a random moment while
pushes are in flight, then checks the database directly:

- every acknowledged order is there, under the acknowledged ids, and complete: its
  fields, its customer, contacts and enquiry, its items (in order), its additional fields
  and their `order_fields` index rows are exactly what was sent;
- nothing is half-written: every order in the database was sent (acknowledged, or in
  flight when the server died) and is complete in the same sense; no erp_order_id appears
  twice; no customer, contact or enquiry exists that no order uses (each element creates
  its own, in the element's one transaction, so such a row could only be a torn write).

Elements whose request got no answer are pushed again in the next round, as a client
would retry them (an erp_order_id already stored updates that order: no duplicate).
After the last round the server is started once more and every acknowledged order is
pulled back through the API (view 3) and compared with what was sent.

ORDERSEARCH_CRASH_ROUNDS sets the number of kill rounds per backend (default 5).
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from bench.soak import ServerProcess, basic_auth, create_tenant
from sqlalchemy import select

from ordersearch.db.engine import Database
from ordersearch.db.tables import (
    accounts,
    contacts,
    customers,
    enquiries,
    order_fields,
    order_items,
    orders,
)
from tests.conftest import ADD_UPDATE, PULL, create_pg_database, drop_pg_database

ROUNDS = int(os.environ.get("ORDERSEARCH_CRASH_ROUNDS", "5"))
CLIENT_THREADS = 3
CM_ID = 4_040_404
USERNAME = "crash-writer"
PASSWORD = "crash-test-password"


# --------------------------------------------------------------------------- the ledger


@dataclass(frozen=True)
class Ack:
    order_id: int
    customer_id: int
    enquiry_id: int | None


@dataclass
class Ledger:
    """What the clients sent, and what the server acknowledged."""

    rng: random.Random
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # erp -> element
    acked: dict[str, Ack] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)  # to push again next round
    problems: list[str] = field(default_factory=list)  # answers that were not 200/success
    requests: int = 0
    round_acks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: Iterator[int] = field(default_factory=itertools.count)

    def new_element(self) -> dict[str, Any]:
        with self.lock:
            n = next(self.counter)
            rng = random.Random(self.rng.random())
        element: dict[str, Any] = {
            "cmId": CM_ID,
            "customer_info": {
                "customer_name": f"Crash Customer {n}", "phone": f"9{n:09d}",
                "email_id": f"crash{n}@example.com", "city": rng.choice(["Pune", "Chennai"]),
            },
            "order_info": {
                "erp_order_id": f"CRASH-{n}",
                "amount": f"{rng.randrange(1, 10**6)}.{rng.randrange(100):02d}",
                "currency": "INR",
                "booking_status": rng.choice(["Booked", "Pending"]),
                "remarks": f"element {n}",
                "additional_fields": {
                    f"field{k}": f"value-{n}-{k}" for k in range(rng.randrange(1, 4))
                },
                "product_details": [
                    {"sku_id": f"SKU-{n}-{k}", "product_name": f"Product {k}",
                     "rate": f"{rng.randrange(1, 999)}.50", "quantity": str(rng.randrange(1, 9))}
                    for k in range(rng.randrange(1, 5))
                ],
            },
        }
        if rng.random() < 0.5:
            element["contact_info"] = [
                {"contact_person_name": f"Contact {n}-{k}",
                 "contact_person_phone": f"8{n:07d}{k:02d}"}
                for k in range(rng.randrange(1, 3))
            ]
        if rng.random() < 0.5:
            element["enquiry_info"] = {"status": "Open", "priority": f"P{n % 3}"}
        with self.lock:
            self.sent[element["order_info"]["erp_order_id"]] = element
        return element

    def next_body(self) -> tuple[Any, list[dict[str, Any]]]:
        """The next request: left-over elements first, else new ones; single or array."""
        with self.lock:
            retry = [self.unanswered.pop() for _ in range(min(4, len(self.unanswered)))]
            shape = self.rng.random()
        elements = [self.sent[erp] for erp in retry]
        if not elements:
            count = 1 if shape < 0.5 else 2 + int(shape * 10) % 5
            elements = [self.new_element() for _ in range(count)]
        body: Any = elements[0] if len(elements) == 1 and shape < 0.5 else elements
        return body, elements

    def answered(self, elements: list[dict[str, Any]], status: int, answer: Any) -> None:
        results = answer if isinstance(answer, list) else [answer]
        with self.lock:
            self.requests += 1
            if status != 200 or len(results) != len(elements):
                self.problems.append(f"HTTP {status}: {str(answer)[:300]}")
                self.unanswered.extend(e["order_info"]["erp_order_id"] for e in elements)
                return
            for element, result in zip(elements, results, strict=True):
                erp = element["order_info"]["erp_order_id"]
                if result.get("status") != "success":
                    self.problems.append(f"{erp}: {result}")
                    self.unanswered.append(erp)
                    continue
                ack = Ack(result["order_id"], result["customer_id"], result["enquiry_id"])
                if erp in self.acked and self.acked[erp] != ack:
                    self.problems.append(f"{erp}: acknowledged as {self.acked[erp]}, then {ack}")
                self.acked[erp] = ack
                self.round_acks += 1

    def unanswered_request(self, elements: list[dict[str, Any]]) -> None:
        with self.lock:
            self.requests += 1
            self.unanswered.extend(e["order_info"]["erp_order_id"] for e in elements)


def push_until_dead(base_url: str, ledger: Ledger, stop: threading.Event) -> None:
    """One client: push until the server stops answering (or the round is over)."""
    headers = {"Authorization": basic_auth(USERNAME, PASSWORD)}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as client:
        while not stop.is_set():
            body, elements = ledger.next_body()
            try:
                response = client.post(ADD_UPDATE, json=body)
                answer = response.json()
            except (httpx.HTTPError, ValueError):
                ledger.unanswered_request(elements)
                return
            ledger.answered(elements, response.status_code, answer)


# --------------------------------------------------------------------------- the checks


def _rows(conn: Any, table: Any, account_id: int) -> list[Any]:
    return list(conn.execute(
        select(table).where(table.c.account_id == account_id).order_by(table.c.id)
    ))


@dataclass
class Check:
    acked_verified: int = 0
    in_flight_present: set[str] = field(default_factory=set)  # erps committed, unanswered
    orders: int = 0


def wait_for_no_other_sessions(url: str, timeout: float = 20.0) -> None:
    """PostgreSQL: let the killed server's backends finish (they roll back whatever has not
    been committed once they notice the closed socket) before reading."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            others = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            if not others or others[0] == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.05)


def check_database(url: str, ledger: Ledger) -> Check:
    """Every acknowledged order present and complete; nothing half-written."""
    if url.startswith("postgresql"):
        wait_for_no_other_sessions(url)
    database = Database.from_url(url)
    try:
        with database.read() as conn:
            account_id = conn.scalar(select(accounts.c.id).where(accounts.c.cm_id == CM_ID))
            assert account_id is not None
            order_rows = _rows(conn, orders, account_id)
            customer_rows = {r.id: r for r in _rows(conn, customers, account_id)}
            contact_rows = _rows(conn, contacts, account_id)
            enquiry_rows = {r.id: r for r in _rows(conn, enquiries, account_id)}
            item_rows = _rows(conn, order_items, account_id)
            field_rows = _rows(conn, order_fields, account_id)
    finally:
        database.dispose()

    problems: list[str] = []
    items_of: dict[int, list[Any]] = {}
    for item in sorted(item_rows, key=lambda r: (r.order_id, r.position)):
        items_of.setdefault(item.order_id, []).append(item)
    fields_of: dict[int, list[Any]] = {}
    for row in field_rows:
        fields_of.setdefault(row.order_id, []).append(row)
    contacts_of: dict[int, list[Any]] = {}
    for contact in contact_rows:
        contacts_of.setdefault(contact.customer_id, []).append(contact)

    by_erp: dict[str, Any] = {}
    for order in order_rows:
        if order.erp_order_id in by_erp:
            problems.append(f"erp_order_id {order.erp_order_id} stored twice")
        by_erp[order.erp_order_id] = order
    with ledger.lock:
        sent = dict(ledger.sent)
        acked = dict(ledger.acked)

    check = Check(orders=len(order_rows))
    for erp, ack in acked.items():
        order = by_erp.get(erp)
        if order is None:
            problems.append(f"LOST acknowledged order {erp} {ack}")
            continue
        got = (order.id, order.customer_id, order.enquiry_id)
        if got != (ack.order_id, ack.customer_id, ack.enquiry_id):
            problems.append(f"{erp}: stored ids {got}, acknowledged {ack}")
    for erp, order in by_erp.items():
        element = sent.get(erp)
        if element is None:
            problems.append(f"order {order.id} with erp {erp!r} was never sent")
            continue
        problems.extend(
            f"{erp} ({'acknowledged' if erp in acked else 'in flight'}): {problem}"
            for problem in incomplete(element, order, customer_rows, contacts_of,
                                      enquiry_rows, items_of, fields_of)
        )
        if erp in acked:
            check.acked_verified += 1
        else:
            check.in_flight_present.add(erp)

    used_customers = {o.customer_id for o in order_rows}
    used_enquiries = {o.enquiry_id for o in order_rows if o.enquiry_id is not None}
    order_ids = {o.id for o in order_rows}
    problems.extend(f"customer {c} belongs to no order (half-written)"
                    for c in set(customer_rows) - used_customers)
    problems.extend(f"enquiry {e} belongs to no order (half-written)"
                    for e in set(enquiry_rows) - used_enquiries)
    problems.extend(f"contact {c.id} of customer {c.customer_id}, which no order uses"
                    for c in contact_rows if c.customer_id not in used_customers)
    problems.extend(f"item {i.id} of missing order {i.order_id}"
                    for i in item_rows if i.order_id not in order_ids)
    problems.extend(f"order_fields {f.id} of missing order {f.order_id}"
                    for f in field_rows if f.order_id not in order_ids)
    assert not problems, "\n".join(problems[:40])
    return check


def incomplete(
    element: dict[str, Any],
    order: Any,
    customer_rows: dict[int, Any],
    contacts_of: dict[int, list[Any]],
    enquiry_rows: dict[int, Any],
    items_of: dict[int, list[Any]],
    fields_of: dict[int, list[Any]],
) -> list[str]:
    """How the stored order differs from the element that was sent ([] when complete)."""
    problems = []
    sent_order = element["order_info"]
    for key in ("amount", "currency", "booking_status", "remarks", "additional_fields"):
        if getattr(order, key) != sent_order[key]:
            problems.append(f"order.{key} is {getattr(order, key)!r}, sent {sent_order[key]!r}")
    expected_items = [
        (i["sku_id"], i["product_name"], i["rate"], i["quantity"])
        for i in sent_order["product_details"]
    ]
    stored_items = [(i.sku_id, i.product_name, i.rate, i.quantity)
                    for i in items_of.get(order.id, [])]
    if stored_items != expected_items:
        problems.append(f"items {stored_items}, sent {expected_items}")
    expected_fields = sorted((k.lower(), v.lower())
                             for k, v in sent_order["additional_fields"].items())
    stored_fields = sorted((f.key_folded, f.value_folded) for f in fields_of.get(order.id, []))
    if stored_fields != expected_fields:
        problems.append(f"order_fields {stored_fields}, sent {expected_fields}")

    customer = customer_rows.get(order.customer_id)
    sent_customer = element["customer_info"]
    if customer is None:
        problems.append(f"customer {order.customer_id} missing")
    else:
        stored = (customer.name, customer.phone, customer.email, customer.city)
        expected = (sent_customer["customer_name"], sent_customer["phone"],
                    sent_customer["email_id"], sent_customer["city"])
        if stored != expected:
            problems.append(f"customer {stored}, sent {expected}")
    expected_contacts = sorted((c["contact_person_name"], c["contact_person_phone"])
                               for c in element.get("contact_info", []))
    stored_contacts = sorted((c.name, c.phone) for c in contacts_of.get(order.customer_id, []))
    if stored_contacts != expected_contacts:
        problems.append(f"contacts {stored_contacts}, sent {expected_contacts}")

    sent_enquiry = element.get("enquiry_info")
    if sent_enquiry is None:
        if order.enquiry_id is not None:
            problems.append(f"enquiry {order.enquiry_id} where none was sent")
    else:
        enquiry = enquiry_rows.get(order.enquiry_id)
        if enquiry is None:
            problems.append(f"enquiry {order.enquiry_id} missing")
        elif (enquiry.status, enquiry.priority, enquiry.customer_id) != (
            sent_enquiry["status"], sent_enquiry["priority"], order.customer_id
        ):
            problems.append(f"enquiry {enquiry.status, enquiry.priority, enquiry.customer_id}")
    return problems


def check_through_api(base_url: str, ledger: Ledger) -> int:
    """Pull every acknowledged order back (view 3) and compare it with what was sent."""
    headers = {"Authorization": basic_auth(USERNAME, PASSWORD)}
    erps = sorted(ledger.acked)
    seen = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as client:
        for start in range(0, len(erps), 200):
            chunk = erps[start:start + 200]
            response = client.post(PULL, json={"cmId": CM_ID, "erpOrderId": chunk,
                                               "viewId": 3, "limit": 500})
            assert response.status_code == 200, response.text
            answer = {o["erpOrderId"]: o for o in response.json()["orders"]}
            for erp in chunk:
                order, sent = answer.get(erp), ledger.sent[erp]["order_info"]
                assert order is not None, f"acknowledged {erp} not returned by a pull"
                assert order["orderId"] == ledger.acked[erp].order_id
                assert order["additionalFields"] == sent["additional_fields"]
                assert [(i["skuId"], i["rate"], i["quantity"]) for i in order["items"]] == [
                    (i["sku_id"], i["rate"], i["quantity"]) for i in sent["product_details"]
                ], erp
                seen += 1
    return seen


# --------------------------------------------------------------------------- the test


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of the backend, with the account and user made by the CLI."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.db'}"
        create_tenant(url, cm_id=CM_ID, subdomain="crash", username=USERNAME, password=PASSWORD)
        yield url
        return
    url = create_pg_database()
    try:
        create_tenant(url, cm_id=CM_ID, subdomain="crash", username=USERNAME, password=PASSWORD)
        yield url
    finally:
        drop_pg_database(url)


def test_acknowledged_writes_survive_sigkill(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    ledger = Ledger(random.Random(f"{backend}-{os.getpid()}-{time.time()}"))
    server = ServerProcess(database_url, tmp_path / "server.log")
    committed_unanswered: set[str] = set()
    started = time.monotonic()
    starting = 0.0
    try:
        for round_number in range(ROUNDS):
            begin = time.monotonic()
            server.start()
            starting += time.monotonic() - begin
            stop = threading.Event()
            ledger.round_acks = 0
            clients = [
                threading.Thread(target=push_until_dead, args=(server.url, ledger, stop),
                                 daemon=True)
                for _ in range(CLIENT_THREADS)
            ]
            for thread in clients:
                thread.start()
            # Kill while pushes are flowing: after the first acknowledgement of the round
            # (the first request pays the slow password hash), at a random moment.
            deadline = time.monotonic() + 30
            while ledger.round_acks == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert ledger.round_acks, f"round {round_number}: nothing acknowledged in 30 s:\n" \
                f"{server.log_tail()}\n{ledger.problems[:5]}"
            time.sleep(ledger.rng.uniform(0.0, 1.5))
            server.kill()
            stop.set()
            for thread in clients:
                thread.join(timeout=60)
                assert not thread.is_alive(), "a client thread did not stop"
            assert not ledger.problems, ledger.problems[:10]
            committed_unanswered |= check_database(database_url, ledger).in_flight_present
        # A last start: push what was never answered again (a client's retry), then pull
        # every acknowledged order back through the API.
        server.start()
        headers = {"Authorization": basic_auth(USERNAME, PASSWORD)}
        with httpx.Client(base_url=server.url, timeout=60.0, headers=headers) as client:
            while ledger.unanswered:
                body, elements = ledger.next_body()
                response = client.post(ADD_UPDATE, json=body)
                ledger.answered(elements, response.status_code, response.json())
        assert not ledger.problems, ledger.problems[:10]
        through_api = check_through_api(server.url, ledger)
        server.stop()
    finally:
        server.kill()
    final = check_database(database_url, ledger)
    assert final.acked_verified == len(ledger.acked) == len(ledger.sent)
    print(
        f"\ncrash[{backend}]: {ROUNDS} SIGKILL rounds survived in "
        f"{time.monotonic() - started:.0f} s ({starting:.0f} s starting servers); "
        f"{ledger.requests} requests; {len(ledger.sent)} orders sent, all acknowledged in "
        f"the end and verified complete in the database and through the API "
        f"({through_api}); {len(committed_unanswered)} were found committed and complete "
        f"after a kill before their request was answered; 0 lost, 0 half-written"
    )
