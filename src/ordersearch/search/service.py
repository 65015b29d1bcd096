"""Pull Order: parse the body, run the count and the page in one snapshot, shape the answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ordersearch.search.cursor import encode_cursor
from ordersearch.search.parse import parse_pull
from ordersearch.search.query import count_statement, page_statement, sort_value
from ordersearch.search.render import render_orders
from ordersearch.tenancy import Account


def pull_orders(conn: Connection, account: Account, body: Any) -> dict[str, Any]:
    query = parse_pull(body, account)
    rows = list(conn.execute(page_statement(account, query, conn.dialect.name)))
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    total: int | None = None
    if query.include_total:
        if not has_more and query.cursor is None and (rows or query.offset == 0):
            # The page holds the last match: the count would say the same.
            total = query.offset + len(rows)
        else:
            total = conn.scalar(count_statement(account, query))
    next_cursor = None
    if has_more and rows:
        next_cursor = encode_cursor(query, sort_value(query, rows[-1]), rows[-1].id)
    return {
        "status": "success",
        "message": "Orders fetched successfully",
        "cmId": query.cm_id,
        "totalCount": total,
        "limit": query.limit,
        "offset": query.offset,
        "orders": render_orders(conn, account, rows, query.view),
        "nextCursor": next_cursor,
        "warnings": query.warnings,
    }
