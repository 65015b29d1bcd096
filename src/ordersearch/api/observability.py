"""Operations: request ids, one structured log line per request, Prometheus metrics, and
the readiness probe.

`install_observability(app)` wraps the whole ASGI stack (outside Starlette's error
middleware, so that a 500 produced there still carries `X-Request-Id`) in one pure ASGI
middleware, adds `GET /metrics`, keeps a readiness checker in `app.state.readiness` and
configures the `ordersearch` loggers from `ORDERSEARCH_LOG_FORMAT` / `ORDERSEARCH_LOG_LEVEL`.

Each app has its own `CollectorRegistry`, so tests that build many apps never collide.
Code that runs inside a request (the ingest service) reaches the app's metrics through a
context variable that the middleware sets; outside a request (the CLI) counting is a no-op.
Nothing here logs headers, credentials or bodies: a request line has the method, the path
(without the query string), the status, the duration and the account's cmId.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any, TextIO

import orjson
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordersearch.db import migrate
from ordersearch.db.engine import Database

REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

# Request latencies are milliseconds; the tail (exports, big ingests) seconds.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)

ACCESS_LOGGER = "ordersearch.access"
access_log = logging.getLogger(ACCESS_LOGGER)


class RequestContext:
    """What code running inside a request can learn about it."""

    __slots__ = ("metrics", "request_id")

    def __init__(self, request_id: str, metrics: Metrics) -> None:
        self.request_id = request_id
        self.metrics = metrics


_current: ContextVar[RequestContext | None] = ContextVar("ordersearch_request", default=None)


def current_request_id() -> str | None:
    context = _current.get()
    return None if context is None else context.request_id


# --- metrics ---------------------------------------------------------------------------


class PoolCollector(Collector):
    """The database pool, read when scraped (QueuePool: size, checked out, overflow).

    SQLAlchemy's `overflow()` counts from -size while the pool fills; the gauge reports
    the connections open beyond the pool size, so it is 0 until then."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterable[GaugeMetricFamily]:
        pool: Any = self.database.engine.pool
        readings = (
            ("ordersearch_db_pool_size", "Connections the pool keeps open.", "size"),
            ("ordersearch_db_pool_checked_out", "Connections in use by requests.", "checkedout"),
            ("ordersearch_db_pool_overflow", "Connections open beyond the pool size.", "overflow"),
        )
        for name, documentation, method in readings:
            reading = getattr(pool, method, None)
            if callable(reading):
                number = reading()
                if method == "overflow":
                    number = max(number, 0)
                yield GaugeMetricFamily(name, documentation, value=float(number))


class Metrics:
    """The app's collectors, in its own registry."""

    def __init__(self, database: Database) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ordersearch_requests",
            "HTTP requests answered, by route template, method and status.",
            ("endpoint", "method", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "ordersearch_request_duration_seconds",
            "Time from the request's arrival to the last byte of the answer, by route.",
            ("endpoint",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ingest = Counter(
            "ordersearch_ingest_elements",
            "add-update elements by result: added, updated or failed.",
            ("result",),
            registry=self.registry,
        )
        for result in ("added", "updated", "failed"):
            self.ingest.labels(result)
        self.registry.register(PoolCollector(database))
        # labels() takes a lock and builds a key; the children are cached here instead.
        self._request_children: dict[tuple[str, str, int], Any] = {}
        self._duration_children: dict[str, Any] = {}

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        key = (endpoint, method, status)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self.requests.labels(
                endpoint, method, str(status)
            )
        counter.inc()
        histogram = self._duration_children.get(endpoint)
        if histogram is None:
            histogram = self._duration_children[endpoint] = self.duration.labels(endpoint)
        histogram.observe(seconds)

    def exposition(self) -> bytes:
        return _generate_latest(self.registry)


def count_ingest(result: str) -> None:
    """Count one add-update element result in the current request's app, if any."""
    context = _current.get()
    if context is not None:
        context.metrics.ingest.labels(result).inc()


# --- the middleware --------------------------------------------------------------------


def request_id_of(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-Id when it is a sane token, else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            given = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(given):
                return given
            break
    return new_request_id()


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A random uuid4 as 32 hex digits. Ids need to be unique, not secret: `random` (which
    is reseeded in every forked worker) costs a tenth of `uuid.uuid4()`."""
    return f"{random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"


class ObservabilityMiddleware:
    """Pure ASGI: request id in and out, metrics and one log line per HTTP request.

    A request's `endpoint` label is the template of the route that took it (FastAPI's
    routes put themselves in the scope), else its path when that is one of `static_paths`
    (Starlette routes such as /docs do not), else the mount point of one of `mounts` it is
    under, else "unmatched": the label set stays bounded whatever paths clients send.
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        static_paths: Iterable[str] = (),
        mounts: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.static_paths = frozenset(static_paths)
        self.mounts = tuple(mount.rstrip("/") for mount in mounts)

    def endpoint(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is not None:
            return str(getattr(route, "path", UNMATCHED))
        path: str = scope["path"]
        if path in self.static_paths:
            return path
        for mount in self.mounts:
            if path.startswith(mount + "/"):
                return mount
        return UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        token = _current.set(RequestContext(request_id, self.metrics))
        # The routes' dependencies put the account's cmId here (request.state).
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        id_header = (REQUEST_ID_HEADER, request_id.encode("latin-1"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            try:
                self._record(scope, state, request_id, status, time.perf_counter() - started)
            finally:
                _current.reset(token)

    def _record(
        self, scope: Scope, state: dict[str, Any], request_id: str, status: int, seconds: float
    ) -> None:
        method = scope["method"]
        if method not in _METHODS:
            method = "OTHER"
        self.metrics.observe(self.endpoint(scope), method, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):
            return
        path: str = scope["path"]
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        cm_id = state.get("cm_id")
        if cm_id is not None:
            fields["account"] = cm_id
        # The path is percent-decoded: keep a sent %0A from starting a fake text log line.
        shown = path if path.isprintable() else repr(path)[1:-1]
        # makeRecord + handle: Logger.info without its stack walk (findCaller).
        record = access_log.makeRecord(
            ACCESS_LOGGER, logging.INFO, __file__, 0, "%s %s %d %.2fms",
            (method, shown, status, fields["duration_ms"]), None,
            extra={"fields": fields, "request_id": request_id},
        )
        access_log.handle(record)


# --- readiness -------------------------------------------------------------------------


class Readiness:
    """`SELECT 1` on every probe; the migration revision at most every `ttl` seconds."""

    def __init__(self, database: Database, ttl: float = 5.0) -> None:
        self.database = database
        self.ttl = ttl
        self._head: str | None = None
        self._checked_at = -float("inf")
        self._migration_problem: str | None = None

    def check(self) -> tuple[int, dict[str, str]]:
        now = time.monotonic()
        try:
            with self.database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                if now - self._checked_at >= self.ttl:
                    self._migration_problem = self._migrations(conn)
                    self._checked_at = now
        except Exception:
            logging.getLogger("ordersearch.api").warning("readiness: database unreachable")
            return 503, {"status": "failed", "message": "database unreachable"}
        if self._migration_problem is not None:
            return 503, {"status": "failed", "message": self._migration_problem}
        return 200, {"status": "ready"}

    def _migrations(self, conn: Any) -> str | None:
        from alembic.runtime.migration import MigrationContext

        if self._head is None:
            self._head = migrate.head_revision()
        current = MigrationContext.configure(conn).get_current_revision()
        if current == self._head:
            return None
        return f"migrations not current: at {current}, head {self._head}"


# --- logging ---------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id`: the current request's, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, then the fields
    the caller passed as `extra={"fields": {...}}`, then `exc` (the traceback) if any."""

    _second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def format(self, record: logging.LogRecord) -> str:
        second, second_text = self._second
        if int(record.created) != second:
            second = int(record.created)
            second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, second_text)
        line: dict[str, Any] = {
            "ts": f"{second_text}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id and request_id != "-":
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(log_format: str | None = None, level: str | None = None) -> None:
    """Give the `ordersearch` loggers one stderr handler (JSON or text); calling it again
    replaces that handler instead of adding another. Records still propagate to the root
    logger, which has no handler unless something (pytest, an embedding app) adds one."""
    log_format = (log_format or os.environ.get("ORDERSEARCH_LOG_FORMAT") or "json").lower()
    if log_format not in ("json", "text"):
        raise ValueError(f"ORDERSEARCH_LOG_FORMAT must be json or text, not {log_format!r}")
    level_name = (level or os.environ.get("ORDERSEARCH_LOG_LEVEL") or "INFO").upper()
    if not isinstance(logging.getLevelName(level_name), int):
        raise ValueError(f"ORDERSEARCH_LOG_LEVEL: unknown level {level_name!r}")
    logger = logging.getLogger("ordersearch")
    for handler in list(logger.handlers):
        if isinstance(handler, StderrHandler):
            logger.removeHandler(handler)
    handler = StderrHandler()
    handler.addFilter(RequestIdFilter())
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.setLevel(level_name)


# --- installation ----------------------------------------------------------------------


def install_observability(app: FastAPI) -> None:
    """Call once, after `app.state.database` is set (create_app does)."""
    database: Database = app.state.database
    configure_logging()
    metrics = Metrics(database)
    app.state.metrics = metrics
    app.state.readiness = Readiness(database)

    async def prometheus_metrics(_request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", prometheus_metrics, methods=["GET"], include_in_schema=False)

    build_inner = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        # Built on the first request, when every route is in place.
        mounts = [route.path for route in app.routes if isinstance(route, Mount)]
        paths = (getattr(route, "path", "{") for route in app.routes)
        static = [path for path in paths if "{" not in path and path not in mounts]
        return ObservabilityMiddleware(build_inner(), metrics, static, mounts)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
