"""Measure the filter rewrites proposed in docs/performance.md (proposals 2 and 3) in SQL.

    .venv/bin/python -m bench.rewrites --url URL --plan bench/results/plan-....pkl

For the first 6 `lead` and `additionalFields` bodies of the plan (big account), runs the
page (51 rows, createDate desc) and the count as ordersearch writes them today and as
proposed, and prints the p50 of page + count and the first match counts (equal).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

from bench.common import FIRST_CM_ID
from bench.mix import Plan
from ordersearch.db.engine import Database, normalise_url
from ordersearch.values import fold

PAGE = (
    "SELECT orders.id FROM orders JOIN customers ON customers.id = orders.customer_id "
    "AND customers.account_id = :a WHERE orders.account_id = :a AND {cond} "
    "ORDER BY orders.create_date DESC, orders.id DESC LIMIT 51"
)
COUNT = "SELECT count(*) FROM orders WHERE orders.account_id = :a AND {cond}"
Rewrite = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


def _lead_params(body: dict[str, Any]) -> dict[str, Any]:
    return {"s": fold(body["statusStr"]), "p": fold(body["leadPriorityStr"]),
            "e": int(body["assignToIdsStr"])}


def lead_now(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    sub = "orders.enquiry_id IN (SELECT id FROM enquiries WHERE account_id = :a AND {})"
    cond = " AND ".join(sub.format(c) for c in
                        ("status_folded = :s", "priority_folded = :p", "assign_emp_id = :e"))
    return cond, _lead_params(body)


def lead_proposed(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("orders.enquiry_id IN (SELECT id FROM enquiries WHERE account_id = :a AND "
            "status_folded = :s AND priority_folded = :p AND assign_emp_id = :e)",
            _lead_params(body))


def _field_params(body: dict[str, Any]) -> dict[str, Any]:
    fields = body["additionalFields"]
    return {"k1": "floor", "v1": fold(str(fields["floor"])), "k2": "parking",
            "v2": fold(str(fields["parking"]))}


def fields_now(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    sub = ("orders.id IN (SELECT order_id FROM order_fields WHERE account_id = :a AND "
           "key_folded = :k{n} AND value_folded = :v{n})")
    return f"{sub.format(n=1)} AND {sub.format(n=2)}", _field_params(body)


def fields_proposed(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("orders.id IN (SELECT f1.order_id FROM order_fields f1 JOIN order_fields f2 "
            "ON f2.order_id = f1.order_id AND f2.account_id = :a AND f2.key_folded = :k2 "
            "AND f2.value_folded = :v2 WHERE f1.account_id = :a AND f1.key_folded = :k1 "
            "AND f1.value_folded = :v1)", _field_params(body))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rewrites")
    parser.add_argument("--url", required=True)
    parser.add_argument("--plan", type=Path, required=True)
    args = parser.parse_args(argv)
    database = Database.from_url(normalise_url(args.url))
    cases = {c.kind: c for c in Plan.load(args.plan).cases if c.label == "big"}
    rewrites: tuple[tuple[str, Rewrite, Rewrite], ...] = (
        ("lead", lead_now, lead_proposed), ("additionalFields", fields_now, fields_proposed))
    with database.engine.connect() as conn:
        account = conn.execute(text("SELECT id FROM accounts WHERE cm_id = :c"),
                               {"c": FIRST_CM_ID}).scalar()
        for kind, now, proposed in rewrites:
            bodies = [orjson.loads(r.body) for r in cases[kind].requests[:6]]
            for label, build in (("now", now), ("proposed", proposed)):
                timings, counts = [], []
                for repeat in range(2):  # the first round warms the cache
                    for body in bodies:
                        condition, params = build(body)
                        params = {**params, "a": account}
                        started = time.perf_counter()
                        conn.execute(text(PAGE.format(cond=condition)), params).fetchall()
                        matches = conn.execute(text(COUNT.format(cond=condition)),
                                               params).scalar()
                        if repeat:
                            timings.append(time.perf_counter() - started)
                            counts.append(matches)
                print(f"{database.engine.dialect.name} {kind:16} {label:8}: page + count p50 "
                      f"{statistics.median(timings) * 1000:8.1f} ms (matches {counts[:3]})",
                      flush=True)


if __name__ == "__main__":
    main()
