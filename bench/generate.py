"""Fill an empty database with bench data, fast.

    .venv/bin/python -m bench.generate --url URL --orders N [--workers 2]

N orders across 50 accounts (cmId 3000001..3000050, user `bench-<cmId>`, password `bench`,
role write, timezone Asia/Kolkata): the first account holds half of them, the others share
the rest as 1/k (Zipf). Rows come from `ordersearch.demo.demo_rows` (Zipf-like orders per
customer, realistic statuses, three years of dates, attrs, additional fields, items,
enquiries, contacts), one call per unit of at most `--chunk` orders with its own seed and
its own id range, so units are independent and `--workers` processes generate them side by
side. Same N and seed, same data.

Loading: the secondary indexes of the six data tables are dropped first and rebuilt at the
end (one sort per index instead of millions of B-tree inserts). PostgreSQL: every worker
COPYs its units itself (psycopg `copy.write_row`, foreign-key triggers off for the session
via `session_replication_role = replica`), then the id sequences are moved past the new
ids, then VACUUM ANALYZE. SQLite: workers generate, the parent inserts everything in one
transaction with `executemany` (PRAGMA synchronous=OFF for the load only), then ANALYZE.

The run is bounded by `--max-seconds` (exit status 2 when exceeded). The database must not
hold bench accounts yet: use a fresh SQLite file or PostgreSQL database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Engine, Table, insert, select, text
from sqlalchemy.dialects import sqlite as sqlite_dialect

from bench.common import ACCOUNT_COUNT, FIRST_CM_ID, PASSWORD, TIMEZONE, account_sizes, username
from ordersearch.accounts import password_hasher
from ordersearch.db import migrate
from ordersearch.db.engine import make_engine
from ordersearch.db.tables import accounts, api_users, customers
from ordersearch.demo import DEMO_CUSTOMER_ID, DEMO_TABLES, demo_rows

# Upper bound of rows per order in each table (see demo.py): disjoint id ranges per unit.
ROWS_PER_ORDER = {
    "customers": 1, "contacts": 2, "enquiries": 1, "orders": 1, "order_items": 3,
    "order_fields": 5,
}
TABLES: dict[str, Table] = {table.name: table for table in DEMO_TABLES}


@dataclass(frozen=True)
class Unit:
    number: int
    account_id: int
    orders: int
    seed: int
    first_ids: dict[str, int]
    keep_seed_customer: bool  # the seed's customer 191696570 (first account, first unit)

    @property
    def seed_customer_id(self) -> int:
        """Every demo_rows call starts with the seed's customer; other units renumber it."""
        return DEMO_CUSTOMER_ID if self.keep_seed_customer else DEMO_CUSTOMER_ID + self.number


def plan_units(
    account_ids: list[int], sizes: list[int], chunk: int, seed: int
) -> list[Unit]:
    units: list[Unit] = []
    done = 0
    for index, (account_id, size) in enumerate(zip(account_ids, sizes, strict=True)):
        for part, start in enumerate(range(0, size, chunk)):
            count = min(chunk, size - start)
            first_ids = {name: per * done + 1 for name, per in ROWS_PER_ORDER.items()}
            units.append(Unit(len(units), account_id, count, seed + index * 10_000 + part,
                              first_ids, index == 0 and part == 0))
            done += count
    return units


# --- generating rows -----------------------------------------------------------------


def _converters(table: Table, dialect: str) -> list[Any]:
    """Per column: how a Python value becomes what the driver is handed."""
    result: list[Any] = []
    for column in table.c:
        if isinstance(column.type, JSON):
            result.append(lambda v: None if v is None else orjson.dumps(v).decode())
        elif dialect == "sqlite":
            impl = column.type.dialect_impl(sqlite_dialect.dialect())
            result.append(impl.bind_processor(sqlite_dialect.dialect()))
        else:
            result.append(None)
    return result


def unit_rows(unit: Unit, now: datetime, dialect: str) -> dict[str, list[tuple[Any, ...]]]:
    """The unit's rows as tuples in table column order, ready for COPY or executemany."""
    columns = {name: [c.name for c in table.c] for name, table in TABLES.items()}
    converters = {name: _converters(table, dialect) for name, table in TABLES.items()}
    out: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    renumber = not unit.keep_seed_customer
    for table, row in demo_rows(
        unit.account_id, unit.orders, seed=unit.seed, first_ids=unit.first_ids, now=now,
        emit_seed_customer=True,
    ):
        name = table.name
        if renumber:
            key = "id" if table is customers else "customer_id"
            if row.get(key) == DEMO_CUSTOMER_ID:
                row[key] = unit.seed_customer_id
        values = []
        for column, convert in zip(columns[name], converters[name], strict=True):
            value = row.get(column)
            if convert is not None and value is not None:
                value = convert(value)
            values.append(value)
        out[name].append(tuple(values))
    return out


def _copy_unit(url: str, unit: Unit, now: datetime) -> tuple[int, int]:
    """PostgreSQL worker: generate one unit and COPY it; returns (orders, rows)."""
    rows = unit_rows(unit, now, "postgresql")
    engine = _worker_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET session_replication_role = replica")
        for name, table in TABLES.items():
            names = ", ".join(c.name for c in table.c)
            with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
                for values in rows[name]:
                    copy.write_row(values)
        raw.commit()
    finally:
        raw.close()
    return len(rows["orders"]), sum(len(v) for v in rows.values())


_ENGINES: dict[str, Engine] = {}


def _worker_engine(url: str) -> Engine:
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url, pool_size=1, max_overflow=0)
    return _ENGINES[url]


def _generate_unit(unit: Unit, now: datetime) -> dict[str, list[tuple[Any, ...]]]:
    return unit_rows(unit, now, "sqlite")


# --- indexes, accounts ---------------------------------------------------------------


def _secondary_indexes(engine: Engine) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every non-constraint index of the data tables."""
    names = list(TABLES)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT "
                     "NULL AND tbl_name IN (" + ", ".join(f"'{n}'" for n in names) + ")")
            ).all()
        else:
            found = conn.execute(text(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relname = ANY(:names) AND NOT i.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            ), {"names": names}).all()
    return [(row[0], row[1]) for row in found]


def _create_accounts(engine: Engine, count: int) -> list[int]:
    password_hash = password_hasher.hash(PASSWORD)  # one hash (argon2 is slow on purpose)
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = []
    with engine.begin() as conn:
        taken = conn.scalar(select(accounts.c.id).where(accounts.c.cm_id == FIRST_CM_ID))
        if taken is not None:
            raise SystemExit("this database holds bench accounts already; use a fresh one")
        for index in range(count):
            cm_id = FIRST_CM_ID + index
            account_id = conn.execute(insert(accounts).values(
                cm_id=cm_id, subdomain=f"bench-{cm_id}", name=f"Bench {index + 1}",
                timezone=TIMEZONE, created_at=now,
            )).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(insert(api_users).values(
                account_id=account_id, username=username(cm_id), password_hash=password_hash,
                role="write", enabled=True, version=1, updated_at=now,
            ))
            ids.append(account_id)
    return ids


# --- the load ------------------------------------------------------------------------


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def check(self, pool: ProcessPoolExecutor | None = None) -> None:
        if time.monotonic() > self.end:
            if pool is not None:
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
                pool.shutdown(wait=False, cancel_futures=True)
            print(f"stopped: the load took more than {self.seconds:.0f} s", file=sys.stderr)
            raise SystemExit(2)


def _run_units(
    pool: ProcessPoolExecutor, units: list[Unit], deadline: Deadline, submit: Any,
    depth: int,
) -> Iterator[Any]:
    """Submit units keeping at most `depth` in flight; yield results in completion order."""
    pending: set[Future[Any]] = set()
    queue = iter(units)
    for unit in queue:
        pending.add(submit(unit))
        if len(pending) >= depth:
            break
    while pending:
        done, pending = wait(pending, timeout=5, return_when=FIRST_COMPLETED)
        deadline.check(pool)
        for future in done:
            yield future.result()
            unit = next(queue, None)
            if unit is not None:
                pending.add(submit(unit))


def load(url: str, total: int, *, workers: int, chunk: int, seed: int, max_seconds: float,
         ) -> None:
    deadline = Deadline(max_seconds)
    engine = make_engine(url)
    dialect = engine.dialect.name
    migrate.upgrade(engine)
    started = time.perf_counter()
    account_ids = _create_accounts(engine, ACCOUNT_COUNT)
    sizes = account_sizes(total)
    units = plan_units(account_ids, sizes, chunk, seed)
    now = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    indexes = _secondary_indexes(engine)
    with engine.begin() as conn:
        for name, _ in indexes:
            conn.execute(text(f"DROP INDEX {name}"))
    print(f"{dialect}: {total:,} orders in {len(units)} units over {ACCOUNT_COUNT} accounts "
          f"(biggest {sizes[0]:,}, smallest {sizes[-1]:,}); {len(indexes)} indexes dropped "
          f"for the load; {workers} workers", flush=True)

    orders_done = rows_done = 0
    last_report = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        if dialect == "postgresql":
            engine.dispose()
            results = _run_units(pool, units, deadline,
                                 lambda u: pool.submit(_copy_unit, url, u, now), workers * 2)
            for orders_n, rows_n in results:
                orders_done += orders_n
                rows_done += rows_n
                last_report = _progress(started, orders_done, rows_done, total, last_report)
        else:
            raw = engine.raw_connection()
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("BEGIN")
            statements = {
                name: f"INSERT INTO {name} ({', '.join(c.name for c in table.c)}) VALUES "
                f"({', '.join('?' for _ in table.c)})"
                for name, table in TABLES.items()
            }
            results = _run_units(pool, units, deadline,
                                 lambda u: pool.submit(_generate_unit, u, now), workers + 1)
            for rows in results:
                for name in TABLES:
                    cursor.executemany(statements[name], rows[name])
                    rows_done += len(rows[name])
                orders_done += len(rows["orders"])
                last_report = _progress(started, orders_done, rows_done, total, last_report)
            cursor.execute("COMMIT")
            cursor.execute("PRAGMA synchronous=NORMAL")
            raw.close()
    loaded = time.perf_counter() - started
    print(f"loaded {orders_done:,} orders ({rows_done:,} rows) in {loaded:.1f} s: "
          f"{rows_done / loaded:,.0f} rows/s, {orders_done / loaded:,.0f} orders/s", flush=True)

    index_started = time.perf_counter()
    _rebuild_indexes(engine, indexes, workers, deadline)
    print(f"rebuilt {len(indexes)} indexes in {time.perf_counter() - index_started:.1f} s",
          flush=True)
    finish_started = time.perf_counter()
    if dialect == "postgresql":
        with engine.begin() as conn:
            for name in TABLES:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                ))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        what = "setval, VACUUM ANALYZE"
    else:
        raw = engine.raw_connection()
        raw.cursor().execute("ANALYZE")
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
        what = "ANALYZE, checkpoint"
    total_seconds = time.perf_counter() - started
    print(f"{what} in {time.perf_counter() - finish_started:.1f} s")
    print(f"total {total_seconds:.1f} s: {rows_done / total_seconds:,.0f} rows/s, "
          f"{orders_done / total_seconds:,.0f} orders/s end to end (indexes and statistics "
          "included)")
    engine.dispose()


def _progress(started: float, orders_done: int, rows_done: int, total: int, last: float,
              ) -> float:
    now = time.perf_counter()
    if now - last < 10 and orders_done < total:
        return last
    seconds = now - started
    print(f"  {orders_done:>11,} / {total:,} orders, {rows_done:,} rows, {seconds:6.1f} s, "
          f"{orders_done / seconds:,.0f} orders/s", flush=True)
    return now


def _rebuild_indexes(
    engine: Engine, indexes: list[tuple[str, str]], workers: int, deadline: Deadline
) -> None:
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        for _, statement in indexes:
            raw.cursor().execute(statement)
            deadline.check()
        raw.close()
        return
    from concurrent.futures import ThreadPoolExecutor

    def build(statement: str) -> None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SET maintenance_work_mem = '256MB'"))
            conn.execute(text(statement))

    # Biggest tables first, so the two builders finish together.
    ordered = sorted(indexes, key=lambda i: (" ON public.order" not in i[1], i[0]))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(build, statement) for _, statement in ordered]:
            future.result(timeout=max(1.0, deadline.end - time.monotonic()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty database")
    parser.add_argument("--orders", type=int, required=True, help="orders in all (>= 50)")
    parser.add_argument("--workers", type=int, default=2, help="generator processes")
    parser.add_argument("--chunk", type=int, default=20_000, help="orders per unit")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--max-seconds", type=float, default=1800,
                        help="give up (exit 2) after this long")
    args = parser.parse_args(argv)
    load(args.url, args.orders, workers=args.workers, chunk=args.chunk, seed=args.seed,
         max_seconds=args.max_seconds)


if __name__ == "__main__":
    main()
