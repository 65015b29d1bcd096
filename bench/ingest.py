"""Export and ingest rates, in orders/s.

    .venv/bin/python -m bench.ingest export --url URL        # needs bench.generate data
    .venv/bin/python -m bench.ingest import --url URL        # an empty database

export: streams every order of the biggest bench account (createStartDate 2000-01-01,
i.e. all of them) from the export endpoint of `ordersearch` (uvicorn, 1 worker) as NDJSON
and as CSV, and reports orders/s and MB/s.

import: writes an NDJSON file of `--count` add-update bodies (default 20,000; new
customers, enquiries, orders with items and additional fields, made from
`ordersearch.demo.demo_rows`), creates account cmId 3100001 with user bench-3100001 (role
write), runs `ordersearch import FILE --cm-id 3100001` and reports its orders/s; then
POSTs another `--count` bodies to the add-update endpoint as arrays of 1,000 (one client,
then two in parallel) and reports orders/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert

from bench.common import PASSWORD, basic_auth, bench_accounts, username
from bench.pull import BIN, ROOT, Server, Target
from ordersearch.accounts import password_hasher
from ordersearch.api.routes import ADD_UPDATE_PATH, EXPORT_PATH
from ordersearch.config import MAX_BODY_BYTES
from ordersearch.db import migrate
from ordersearch.db.engine import Database, normalise_url
from ordersearch.db.tables import accounts, api_users
from ordersearch.demo import demo_rows

IMPORT_CM_ID = 3_100_001


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat()
    return value


def add_update_bodies(count: int, seed: int, prefix: str) -> Iterator[dict[str, Any]]:
    """`count` add-update bodies: each a new order (its customer, contacts, enquiry, items,
    additional fields) as an integration would push it."""
    customer: dict[str, Any] = {}
    contacts: list[dict[str, Any]] = []
    enquiry: dict[str, Any] | None = None
    order: dict[str, Any] | None = None
    items: list[dict[str, Any]] = []

    def body() -> dict[str, Any]:
        assert order is not None
        info = {k: _iso(order[k]) for k in (
            "client_reference_id", "create_date", "booking_status", "booking_sub_status",
            "booking_date", "agreement_date", "creator_id", "assign_id", "zone_id", "block_id",
            "unit_id", "approval_designation_id", "approved_by_id", "pricing_status",
            "amount", "currency", "payment_mode", "order_type", "remarks",
            *(f"attr{i}" for i in range(1, 16)))}
        info = {k: ("" if v is None else v) for k, v in info.items()}
        info["erp_order_id"] = f"{prefix}{order['id']:08d}"
        info["additional_fields"] = order["additional_fields"]
        info["product_details"] = [
            {k: item[k] for k in ("sku_id", "product_name", "rate", "quantity", "discount")}
            for item in items
        ]
        result: dict[str, Any] = {
            "customer_info": {
                "customer_name": customer["name"], "phone": customer["phone"],
                "email_id": customer["email"] or "", "city": customer["city"],
                "state": customer["state"], "country": customer["country"],
                "address": customer["address"] or "", "pincode": customer["pincode"] or "",
                "customer_code": f"{prefix}{customer['id']:09d}",
                "additional_fields": customer["additional_fields"],
            },
            "contact_info": [
                {"contact_person_name": c["name"], "contact_person_phone": c["phone"],
                 "contact_person_email": c["email"] or ""} for c in contacts
            ],
            "order_info": info,
        }
        if enquiry is not None:
            result["enquiry_info"] = {
                "status": enquiry["status"], "subStatus": enquiry["sub_status"],
                "priority": enquiry["priority"], "assign_emp_id": enquiry["assign_emp_id"],
                "creator_id": enquiry["creator_id"],
                "secondary_source_id": enquiry["secondary_source_id"] or "",
                "create_date": _iso(enquiry["create_date"]),
                "next_follow_up_date": _iso(enquiry["next_follow_up_date"]) or "",
                "last_follow_up_date": _iso(enquiry["last_follow_up_date"]) or "",
                "expected_closure_date": _iso(enquiry["expected_closure_date"]) or "",
            }
        return result

    produced = 0
    pending_enquiry: dict[str, Any] | None = None
    for table, row in demo_rows(1, count, seed=seed, emit_seed_customer=True):
        name = table.name
        if name in ("customers", "contacts", "enquiries", "orders") and order is not None:
            yield body()
            produced += 1
            order, items, enquiry = None, [], None
        if name == "customers":
            customer, contacts = row, []
        elif name == "contacts":
            contacts.append(row)
        elif name == "enquiries":
            pending_enquiry = row
        elif name == "orders":
            order, enquiry = row, pending_enquiry if row["enquiry_id"] else None
            pending_enquiry = None
        elif name == "order_items":
            items.append(row)
    if order is not None:
        yield body()


# --- export --------------------------------------------------------------------------


def run_export(url: str, port: int) -> None:
    database = Database.from_url(url)
    big = bench_accounts(database.engine)[0]
    database.dispose()
    server = Server(Target("os1", "ordersearch", 1), url, Path("/dev/null"), port)
    try:
        server.wait_ready()
        for export_format in ("ndjson", "csv"):
            body = orjson.dumps({"cmId": big.account.cm_id, "createStartDate": "2000-01-01",
                                 "format": export_format})
            request = urllib.request.Request(
                server.base + EXPORT_PATH, data=body,
                headers={"Authorization": basic_auth(big.account.cm_id)})
            started = time.perf_counter()
            lines = size = 0
            with urllib.request.urlopen(request, timeout=3600) as answer:
                while chunk := answer.read(1 << 20):
                    lines += chunk.count(b"\n")
                    size += len(chunk)
            seconds = time.perf_counter() - started
            orders = lines - (1 if export_format == "csv" else 0)
            print(f"export {export_format}: {orders:,} orders ({size / 1e6:,.0f} MB) in "
                  f"{seconds:.1f} s: {orders / seconds:,.0f} orders/s, "
                  f"{size / 1e6 / seconds:,.1f} MB/s", flush=True)
    finally:
        server.stop()


# --- import --------------------------------------------------------------------------


def _ensure_account(url: str) -> None:
    database = Database.from_url(url)
    migrate.upgrade(database.engine)
    with database.write() as conn:
        account_id = conn.execute(insert(accounts).values(
            cm_id=IMPORT_CM_ID, subdomain=f"bench-{IMPORT_CM_ID}", name="Bench import",
            timezone="Asia/Kolkata", created_at=datetime.now(UTC).replace(tzinfo=None),
        )).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(insert(api_users).values(
            account_id=account_id, username=username(IMPORT_CM_ID),
            password_hash=password_hasher.hash(PASSWORD), role="write", enabled=True,
            version=1, updated_at=datetime.now(UTC).replace(tzinfo=None),
        ))
    database.dispose()


def run_import(url: str, count: int, port: int) -> None:
    _ensure_account(url)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.ndjson"
        with path.open("wb") as handle:
            for body in add_update_bodies(count, 7, "IMP"):
                handle.write(orjson.dumps(body) + b"\n")
        env = {**os.environ, "ORDERSEARCH_DATABASE_URL": url}
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "ordersearch"), "import", str(path), "--cm-id", str(IMPORT_CM_ID)],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600)
        seconds = time.perf_counter() - started
        print(f"ordersearch import: {count:,} orders in {seconds:.1f} s (process included): "
              f"{count / seconds:,.0f} orders/s; it says: {done.stdout.strip()}"
              f"{' ' + done.stderr.strip()[-300:] if done.returncode else ''}", flush=True)

    # Arrays of up to 1,000 bodies (the endpoint's limit), cut smaller when the array
    # would exceed the 1 MiB body limit (realistic bodies are ~1.5 KB: 1,000 do not fit).
    arrays = []
    batch: list[bytes] = []
    size = 2
    for body in add_update_bodies(count, 8, "API"):
        encoded = orjson.dumps(body)
        if batch and (len(batch) == 1000 or size + len(encoded) + 1 > MAX_BODY_BYTES):
            arrays.append(b"[" + b",".join(batch) + b"]")
            batch, size = [], 2
        batch.append(encoded)
        size += len(encoded) + 1
    if batch:
        arrays.append(b"[" + b",".join(batch) + b"]")
    print(f"add-update arrays: {len(arrays)} of about {count // len(arrays):,} bodies "
          f"(bodies average {sum(map(len, arrays)) / count:,.0f} bytes)", flush=True)
    server = Server(Target("os1", "ordersearch", 1), url, Path("/dev/null"), port)
    try:
        server.wait_ready()
        half = len(arrays) // 2
        for label, groups in (("1 client", [arrays[:half]]),
                              ("2 clients", [arrays[half:][0::2], arrays[half:][1::2]])):
            sent = sum(len(orjson.loads(a)) for g in groups for a in g)
            failures: list[int] = []
            started = time.perf_counter()
            threads = [threading.Thread(target=_post_all, args=(server.base, g, failures))
                       for g in groups]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            print(f"add-update endpoint, arrays of ~{count // len(arrays):,}, {label}: "
                  f"{sent:,} orders in {seconds:.1f} s: {sent / seconds:,.0f} orders/s "
                  f"({sum(failures)} elements failed)", flush=True)
    finally:
        server.stop()


def _post_all(base: str, arrays: list[bytes], failures: list[int]) -> None:
    for payload in arrays:
        request = urllib.request.Request(
            base + ADD_UPDATE_PATH, data=payload,
            headers={"Authorization": basic_auth(IMPORT_CM_ID),
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=3600) as answer:
                results = orjson.loads(answer.read())
        except urllib.error.HTTPError as error:
            print(f"HTTP {error.code}: {error.read()[:200]!r}", flush=True)
            failures.append(payload.count(b'"customer_info"'))
            continue
        failures.append(sum(1 for r in results if r.get("status") != "success"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("export", "import"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--port", type=int, default=8191)
    args = parser.parse_args(argv)
    url = normalise_url(args.url)
    if args.what == "export":
        run_export(url, args.port)
    else:
        run_import(url, args.count, args.port)


if __name__ == "__main__":
    main()
