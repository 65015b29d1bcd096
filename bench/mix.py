"""The fixed Pull mix: which bodies `bench.pull` sends, and the SQL each one runs.

Every kind has `VARIANTS` bodies built from orders sampled evenly over the account's id
range (deterministic for a given database), so a run does not hammer one cached row.

| kind | body (besides cmId) | selective |
| --- | --- | --- |
| customerIds | one customer id | yes |
| orderIds | five order ids | yes |
| phone | a customer's phone as stored (`+91 93804-91257` style) | yes |
| email | a customer's e-mail, upper-cased | yes |
| name | the middle of a customer's full name, upper-cased (`RIYA IYE`) | yes |
| erpOrderId | one ERP order id | yes |
| dateStatus | createStartDate/EndDate: a 7-day window + that order's bookingStatus | yes |
| attr | attr1 + attr3 of an order (tower + floor) | yes |
| additionalFields | {floor, parking} of an order | yes |
| lead | statusStr + leadPriorityStr + assignToIdsStr of an order's enquiry | yes |
| broadFirst | createStartDate 2000-01-01 (every order), includeTotal false: first page | no |
| deepCursor | the same, `cursor` at depth 100,000 (+50 per variant) | no |
| broadCount | the same as broadFirst with the total counted (includeTotal true) | no |

The SQL is captured from `ordersearch.search.service.pull_orders` itself (the statements
and parameters it hands the driver), so the bare endpoint and the raw loop replay exactly
what ordersearch runs.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, event, select

from bench.common import BenchAccount
from ordersearch.db.engine import Database
from ordersearch.db.tables import customers, enquiries, orders
from ordersearch.search.cursor import encode_cursor
from ordersearch.search.parse import parse_pull
from ordersearch.search.query import page_statement, sort_value
from ordersearch.search.service import pull_orders
from ordersearch.tenancy import Account

VARIANTS = 20
DEEP = 100_000
SELECTIVE = ("customerIds", "orderIds", "phone", "email", "name", "erpOrderId", "dateStatus",
             "attr", "additionalFields", "lead")
BROAD = ("broadFirst", "deepCursor", "broadCount")
KINDS = SELECTIVE + BROAD


@dataclass
class Request:
    body: bytes
    statements: list[tuple[str, Any]] = field(default_factory=list)  # as sent to the driver


@dataclass
class Case:
    """One kind against one account: its body variants."""

    label: str  # "big" or "small"
    cm_id: int
    account_orders: int
    kind: str
    requests: list[Request]


@dataclass
class Plan:
    dialect: str
    timezone: str
    cases: list[Case]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(self))

    @staticmethod
    def load(path: Path) -> Plan:
        plan: Plan = pickle.loads(path.read_bytes())
        return plan


def _samples(engine: Engine, account: Account, count: int) -> list[Any]:
    with engine.connect() as conn:
        low, high = conn.execute(
            select(orders.c.id).where(orders.c.account_id == account.id)
            .order_by(orders.c.id).limit(1)
        ).scalar(), conn.execute(
            select(orders.c.id).where(orders.c.account_id == account.id)
            .order_by(orders.c.id.desc()).limit(1)
        ).scalar()
        assert low is not None and high is not None
        rows = []
        columns = (
            orders.c.id, orders.c.customer_id, orders.c.erp_order_id, orders.c.create_date,
            orders.c.booking_status, orders.c.attr1, orders.c.attr3, orders.c.additional_fields,
            customers.c.name, customers.c.phone, customers.c.email,
            enquiries.c.status, enquiries.c.priority, enquiries.c.assign_emp_id,
        )
        step = max(1, (high - low) // (count * 3))
        at = low
        while len(rows) < count and at <= high:
            row = conn.execute(
                select(*columns)
                .join(customers, customers.c.id == orders.c.customer_id)
                .outerjoin(enquiries, enquiries.c.id == orders.c.enquiry_id)
                .where(orders.c.account_id == account.id, orders.c.id >= at)
                .order_by(orders.c.id).limit(1)
            ).first()
            if row is None:
                break
            at = row.id + step
            if row.email and row.phone and row.status:
                rows.append(row)
        return rows


def _bodies(engine: Engine, bench: BenchAccount) -> dict[str, list[dict[str, Any]]]:
    account = bench.account
    cm = account.cm_id
    rows = _samples(engine, account, VARIANTS)
    n = len(rows)
    kinds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for i, row in enumerate(rows):
        kinds["customerIds"].append({"cmId": cm, "customerIds": str(row.customer_id)})
        kinds["orderIds"].append(
            {"cmId": cm, "orderIds": ",".join(str(rows[(i + k) % n].id) for k in range(5))}
        )
        kinds["phone"].append({"cmId": cm, "phone": row.phone})
        kinds["email"].append({"cmId": cm, "email": row.email.upper()})
        name = row.name
        kinds["name"].append({"cmId": cm, "name": name[1:-1].upper()})
        kinds["erpOrderId"].append({"cmId": cm, "erpOrderId": row.erp_order_id})
        day = row.create_date.date()
        kinds["dateStatus"].append({
            "cmId": cm, "createStartDate": str(day - timedelta(days=3)),
            "createEndDate": str(day + timedelta(days=3)), "bookingStatus": row.booking_status,
        })
        kinds["attr"].append({"cmId": cm, "attr1": row.attr1 or "Tower A",
                              "attr3": row.attr3 or "1"})
        fields = row.additional_fields or {}
        kinds["additionalFields"].append({"cmId": cm, "additionalFields": {
            "floor": str(fields.get("floor", 1)), "parking": fields.get("parking", "Open")}})
        kinds["lead"].append({
            "cmId": cm, "statusStr": row.status, "leadPriorityStr": row.priority,
            "assignToIdsStr": str(row.assign_emp_id),
        })
        broad = {"cmId": cm, "createStartDate": f"2000-01-{i % 28 + 1:02d}",
                 "includeTotal": False}
        kinds["broadFirst"].append(broad)
        kinds["broadCount"].append({**broad, "includeTotal": True})
        if bench.orders > DEEP + VARIANTS * 50 + 50:
            kinds["deepCursor"].append({**broad, "cursor": _cursor_at(
                engine, account, broad, DEEP + i * 50)})
    return {kind: bodies for kind, bodies in kinds.items() if bodies}


def _cursor_at(engine: Engine, account: Account, body: dict[str, Any], depth: int) -> str:
    """The nextCursor a client holds after paging `depth` rows deep."""
    query = parse_pull(body, account)
    with engine.connect() as conn:
        row = conn.execute(
            page_statement(account, replace(query, offset=depth - 1, limit=1),
                           conn.dialect.name)
        ).first()
    assert row is not None
    return encode_cursor(query, sort_value(query, row), row.id)


def _capture(database: Database, account: Account, body: dict[str, Any]) -> Request:
    request = Request(orjson.dumps(body))
    engine = database.engine

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip()[:6].upper() == "SELECT":  # not BEGIN and the like
            request.statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        with database.read() as conn:
            answer = pull_orders(conn, account, body)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert answer["status"] == "success", answer
    return request


def build_plan(database: Database, accounts: list[tuple[str, BenchAccount]]) -> Plan:
    cases = []
    for label, bench in accounts:
        for kind, bodies in _bodies(database.engine, bench).items():
            requests = [_capture(database, bench.account, body) for body in bodies]
            cases.append(Case(label, bench.account.cm_id, bench.orders, kind, requests))
    return Plan(database.engine.dialect.name, accounts[0][1].account.timezone, cases)
