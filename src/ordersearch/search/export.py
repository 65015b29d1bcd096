"""Export: every order matching a Pull body, streamed as NDJSON or CSV in constant memory.

The body is parsed and validated before the first byte is sent (so errors are proper
400s); rows are then read in keyset batches inside one read snapshot, so the export is
consistent and memory stays flat however many orders match. `limit`, `offset` and
`cursor` do not apply: an export is the whole result.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson

from ordersearch.db.engine import Database
from ordersearch.errors import InvalidRequest
from ordersearch.search.cursor import Cursor
from ordersearch.search.parse import PullQuery, parse_pull
from ordersearch.search.query import page_statement, sort_value
from ordersearch.search.render import VIEW_FIELDS, render_orders
from ordersearch.tenancy import Account
from ordersearch.values import is_blank, show

BATCH_SIZE = 1000
FORMATS = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class ExportPlan:
    query: PullQuery
    format: str

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]


def plan_export(account: Account, body: Any) -> ExportPlan:
    query = parse_pull(body, account, extra_keys=("format",))
    raw_format = body.get("format")
    export_format = "ndjson" if is_blank(raw_format) else str(raw_format).strip().lower()
    if export_format not in FORMATS:
        raise InvalidRequest.single(
            "format", f"{show(raw_format)} is not one of {', '.join(FORMATS)}"
        )
    batch_query = replace(query, limit=BATCH_SIZE, offset=0, cursor=None, include_total=False)
    return ExportPlan(batch_query, export_format)


def _batches(database: Database, account: Account, query: PullQuery) -> Iterator[list[Any]]:
    with database.read() as conn:
        while True:
            rows = list(conn.execute(page_statement(account, query, conn.dialect.name)))
            page = rows[: query.limit]
            if page:
                yield render_orders(conn, account, page, query.view)
            if len(rows) <= query.limit:
                return
            last = page[-1]
            query = replace(query, cursor=Cursor(sort_value(query, last), last.id))


def _csv_line(values: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue().encode()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return "" if value is None else value


def stream_export(database: Database, account: Account, plan: ExportPlan) -> Iterator[bytes]:
    header = [key for key, _ in VIEW_FIELDS[plan.query.view]]
    if plan.query.view == 3:
        header += ["items", "additionalFields", "customer", "enquiry"]
    if plan.format == "csv":
        yield _csv_line(header)
    for orders in _batches(database, account, plan.query):
        if plan.format == "csv":
            yield b"".join(_csv_line([_csv_cell(o.get(k)) for k in header]) for o in orders)
        else:
            yield b"".join(orjson.dumps(order) + b"\n" for order in orders)
