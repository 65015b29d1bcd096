"""Print the query plan of every statement of the bench mix (first variant of each kind).

    .venv/bin/python -m bench.explain --url URL [--plan bench/results/plan-....pkl]
        [--analyze] [--kinds name,phone]

SQLite: EXPLAIN QUERY PLAN. PostgreSQL: EXPLAIN (or EXPLAIN (ANALYZE, BUFFERS) with
--analyze). Without --plan, the plan is built from the database (as bench.pull does).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import bench_accounts
from bench.mix import Plan, build_plan
from ordersearch.db.engine import Database, normalise_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.explain")
    parser.add_argument("--url", required=True)
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--analyze", action="store_true")
    parser.add_argument("--kinds", default="")
    parser.add_argument("--account", default="big", choices=("big", "small"))
    args = parser.parse_args(argv)
    database = Database.from_url(normalise_url(args.url))
    if args.plan:
        plan = Plan.load(args.plan)
    else:
        found = bench_accounts(database.engine)
        plan = build_plan(database, [("big", found[0]), ("small", found[-1])])
    wanted = set(filter(None, args.kinds.split(",")))
    sqlite = database.engine.dialect.name == "sqlite"
    raw = database.engine.raw_connection()
    cursor = raw.cursor()
    for case in plan.cases:
        if case.label != args.account or (wanted and case.kind not in wanted):
            continue
        request = case.requests[0]
        print(f"=== {case.label}/{case.kind}: {request.body.decode()[:200]}")
        for statement, parameters in request.statements:
            started = time.perf_counter()
            cursor.execute(statement, parameters)
            count = len(cursor.fetchall())
            took = (time.perf_counter() - started) * 1000
            print(f"--- {took:.2f} ms, {count} rows: {' '.join(statement.split())[:160]}")
            if sqlite:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                for row in cursor.fetchall():
                    print(f"    {row[1]:>3} {row[3]}")
            else:
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if args.analyze else "EXPLAIN "
                cursor.execute(prefix + statement, parameters)
                for row in cursor.fetchall():
                    print(f"    {row[0]}")
    raw.rollback()
    raw.close()


if __name__ == "__main__":
    main()
