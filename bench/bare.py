"""The bare reference endpoint: the practical ceiling of a Python HTTP stack here.

One Starlette route on uvicorn that answers the bench's Pull bodies by running the SQL
ordersearch itself runs for them (captured once by `bench.mix`, replayed verbatim with the
same driver, sqlite3 or psycopg) and returning the same JSON (view 2), without auth,
body validation, dependency injection or SQLAlchemy. `bench.pull` starts it:

    BENCH_PLAN=bench/results/plan-sqlite.pkl BENCH_URL=sqlite:////tmp/x.db \
        .venv/bin/uvicorn bench.bare:app --port 8101 --workers 1 --no-access-log
"""

from __future__ import annotations

import base64
import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import psycopg
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.mix import Plan
from ordersearch.api.routes import PULL_PATH
from ordersearch.search.render import ORDER_FIELDS
from ordersearch.values import render_datetime

PLAN = Plan.load(Path(os.environ["BENCH_PLAN"]))
URL = make_url(os.environ["BENCH_URL"])
TZ = ZoneInfo(PLAN.timezone)
# body bytes -> (cmId, limit, includeTotal, the statements ordersearch runs for it)
ANSWERS = {
    r.body: (orjson.loads(r.body)["cmId"], int(orjson.loads(r.body).get("limit", 50)),
             orjson.loads(r.body).get("includeTotal", True) is not False, r.statements)
    for case in PLAN.cases for r in case.requests
}
DATE_KEYS = {"create_date", "booking_date", "agreement_date", "updated_at"}


def connect() -> Any:
    if URL.get_backend_name() == "sqlite":
        conn = sqlite3.connect(URL.database or "", check_same_thread=False,
                               isolation_level=None)
        conn.execute("PRAGMA cache_size=-65536")
        return conn
    return psycopg.connect(host=URL.host, port=URL.port or 5432, user=URL.username,
                           password=URL.password, dbname=URL.database, autocommit=True)


CONN = connect()
_SHAPES: dict[tuple[str, ...], list[tuple[str, int, bool]]] = {}


def _shape(names: tuple[str, ...]) -> list[tuple[str, int, bool]]:
    shape = _SHAPES.get(names)
    if shape is None:
        where = {name: i for i, name in enumerate(names)}
        shape = _SHAPES[names] = [(key, where[rk], rk in DATE_KEYS) for key, rk in ORDER_FIELDS]
    return shape


def _date(value: Any) -> str | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return render_datetime(value, TZ)


async def pull(request: Request) -> Response:
    cm_id, limit, include_total, statements = ANSWERS[await request.body()]
    cursor = CONN.cursor()
    cursor.execute(*statements[0])
    rows = cursor.fetchall()
    shape = _shape(tuple(d[0] for d in cursor.description))
    page = rows[:limit]
    total = None
    if len(statements) > 1:
        cursor.execute(*statements[1])
        total = cursor.fetchone()[0]
    elif include_total:
        total = len(page)  # ordersearch skips the count when the page holds every match
    answer = [
        {key: _date(row[i]) if is_date else row[i] for key, i, is_date in shape} for row in page
    ]
    next_cursor = None
    if len(rows) > limit:
        last = answer[-1]
        next_cursor = base64.urlsafe_b64encode(
            orjson.dumps({"v": last["createDate"], "i": last["orderId"]})).decode()
    return Response(orjson.dumps({
        "status": "success", "message": "Orders fetched successfully", "cmId": cm_id,
        "totalCount": total, "limit": limit, "offset": 0, "orders": answer,
        "nextCursor": next_cursor, "warnings": [],
    }), media_type="application/json")


async def healthz(_request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(routes=[Route(PULL_PATH, pull, methods=["POST"]),
                        Route("/healthz", healthz)])
