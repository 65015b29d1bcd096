"""Soak: mixed pushes and pulls at a fixed concurrency for a set time.

    .venv/bin/python -m bench.soak [--url URL --username U --password P --cm-id N [--pid PID]]
                                   [--database-url URL] [--seconds 60] [--concurrency 32]
                                   [--preload N] [--pulls-only] [--keep DIR]

Without `--url` it starts `ordersearch serve` on a free 127.0.0.1 port over a fresh SQLite
file (or `--database-url`, which gets a new account of its own), creating the account and a
write user with the CLI, and stops it at the end. With `--url` it targets a running server
(the user must have the write role); the server's RSS is sampled when its pid is given with
`--pid` or can be found as the local listener of the URL's port.

Every `--concurrency` workers loop over a fixed mix: single and batched pushes (new orders
with items and additional fields, some on shared customers, some updates of acknowledged
orders) and pulls (by erp id of an acknowledged order, customer, phone, name, recent
orders, status plus additional field). It reports requests/s, p50/p95 latency and errors
per kind; an error is any non-200 answer, failed element, transport error, or an
acknowledged order that a pull by its erp id does not return. It samples the server's
VmRSS every `--sample-every` seconds and reports the first, last and maximum and whether
memory is flat (after the warm-up, it grew by less than max(8 MiB, 10%)). Afterwards every
acknowledged order is pulled again by its erp id (`--no-verify` skips it). Exit status 1
when there was any error or a missing order. With a started server, its log lines other
than INFO (tracebacks) are printed; `--keep DIR` keeps the log and the SQLite file.

`--preload N` pushes N orders before the clock starts; with `--pulls-only` the timed mix
has no pushes, so the data does not grow while memory is watched (on SQLite, each pooled
connection's page cache grows with the data it has read: a growing database alone makes
RSS climb).

A single request is sent before the clock starts, to fill the server's credential cache:
a cold burst of concurrent requests would each pay the argon2id hash (64 MiB each).

The server helpers here (`ServerProcess`, `create_tenant`, `free_port`) are also used by
tests/reliability.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
PULL_PATH = "/ms/customer-search/order-search/api/v1/pull-internal"
ADD_UPDATE_PATH = "/ms/customer/order/api/v1/add-update"
MAX_SECONDS = 3600.0
MAX_CONCURRENCY = 256
FLAT_SLACK_KIB = 8 * 1024
FLAT_SLACK_RATIO = 0.10


# --------------------------------------------------------------------------- servers


def ordersearch_bin() -> str:
    """The `ordersearch` script of this interpreter's environment (the project's .venv)."""
    beside = Path(sys.executable).with_name("ordersearch")
    if beside.exists():
        return str(beside)
    return str(ROOT / ".venv" / "bin" / "ordersearch")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["ORDERSEARCH_DATABASE_URL"] = database_url
    env.pop("ORDERSEARCH_BASE_DOMAIN", None)  # no Host routing: clients use 127.0.0.1
    return env


def run_cli(database_url: str, *args: str, stdin: str | None = None) -> str:
    """Run `ordersearch ARGS` against the database; its stdout, or RuntimeError."""
    result = subprocess.run(
        [ordersearch_bin(), *args], env=server_env(database_url), input=stdin,
        capture_output=True, text=True, timeout=120, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ordersearch {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def create_tenant(
    database_url: str, *, cm_id: int, subdomain: str, username: str, password: str
) -> None:
    """An account and a write user, made with the CLI as an operator would."""
    run_cli(database_url, "accounts", "create", "--cm-id", str(cm_id), "--subdomain",
            subdomain, "--name", f"Reliability {subdomain}", "--timezone", "Asia/Kolkata")
    run_cli(database_url, "users", "create", "--cm-id", str(cm_id), "--username", username,
            "--role", "write", "--password-stdin", stdin=password + "\n")


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class ServerProcess:
    """`ordersearch serve` on 127.0.0.1 in its own process group (one uvicorn worker, so the
    group leader is the server itself: its pid is the one to kill and to measure)."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def start(self, timeout: float = 60.0) -> None:
        """Start on a fresh free port; return when /healthz answers 200."""
        assert self.process is None, "already started"
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [ordersearch_bin(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=server_env(self.database_url), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, cwd=ROOT,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    self.process = None
                    raise RuntimeError(f"the server exited with {code}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"the server did not start in {timeout} s:\n"
                                       f"{self.log_tail()}")
                time.sleep(0.05)

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the server (and anything in its process group) and reap it."""
        if self.process is None:
            return
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.process is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextlib.contextmanager
def running_server(database_url: str, log_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, log_path)
    try:
        server.start()
        yield server
    except BaseException:
        server.kill()
        raise
    finally:
        server.stop()


# --------------------------------------------------------------------------- memory


def rss_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB, None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def find_listener_pid(port: int) -> int | None:
    """The pid of the local process listening on TCP `port` (best effort, Linux only)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as handle:
            for line in list(handle)[1:]:
                parts = line.split()
                if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(parts[9])
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{entry}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{entry}/fd/{fd}") in targets:
                        return int(entry)
    return None


@dataclass
class MemoryReport:
    samples: list[tuple[float, int]]  # (seconds since start, KiB)
    warmup: float

    @property
    def first(self) -> int:
        return self.samples[0][1]

    @property
    def last(self) -> int:
        return self.samples[-1][1]

    @property
    def peak(self) -> int:
        return max(kib for _, kib in self.samples)

    @property
    def growth_after_warmup(self) -> int:
        warm = [kib for t, kib in self.samples if t >= self.warmup] or [self.first]
        return self.last - warm[0]

    @property
    def flat(self) -> bool:
        warm = [kib for t, kib in self.samples if t >= self.warmup] or [self.first]
        return self.last - warm[0] <= max(FLAT_SLACK_KIB, FLAT_SLACK_RATIO * warm[0])

    def describe(self) -> str:
        mib = 1024
        trail = ", ".join(f"{t:.0f}s:{kib / mib:.0f}" for t, kib in self.samples)
        return (
            f"server RSS MiB: first {self.first / mib:.1f}, last {self.last / mib:.1f}, "
            f"max {self.peak / mib:.1f}; after the {self.warmup:.0f} s warm-up it grew "
            f"{self.growth_after_warmup / mib:+.1f} MiB: {'flat' if self.flat else 'NOT flat'}"
            f"\n  samples (s:MiB): {trail}"
        )


# --------------------------------------------------------------------------- the workload


@dataclass
class KindStats:
    count: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Acked:
    order_id: int
    customer_id: int
    phone: str


@dataclass
class SoakReport:
    seconds: float
    concurrency: int
    kinds: dict[str, KindStats]
    error_samples: list[str]
    acknowledged: dict[str, Acked]
    memory: MemoryReport | None
    missing: list[str] | None = None
    server_errors: list[str] = field(default_factory=list)  # log lines other than INFO

    @property
    def errors(self) -> int:
        return sum(stats.errors for stats in self.kinds.values())

    def rate(self, prefix: str) -> float:
        served = sum(s.count for k, s in self.kinds.items() if k.startswith(prefix))
        return served / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        lines = [f"soak: {self.seconds:.1f} s at concurrency {self.concurrency}"]
        lines.append(f"  {'kind':<16}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
                     f"{'errors':>8}")
        for kind, stats in sorted(self.kinds.items()):
            lines.append(
                f"  {kind:<16}{stats.count:>10}{stats.count / self.seconds:>9.1f}"
                f"{stats.percentile(50) * 1000:>9.1f}{stats.percentile(95) * 1000:>9.1f}"
                f"{stats.errors:>8}"
            )
        total = sum(s.count for s in self.kinds.values())
        lines.append(
            f"  total {total} requests, {total / self.seconds:.1f} req/s (pushes "
            f"{self.rate('push'):.1f}/s, pulls {self.rate('pull'):.1f}/s); "
            f"{len(self.acknowledged)} orders acknowledged; errors: {self.errors}"
        )
        lines.extend(f"  error: {sample}" for sample in self.error_samples)
        if self.server_errors:
            lines.append("  server log (all but INFO lines, first 80):")
            lines.extend(f"    {line}" for line in self.server_errors[:80])
        if self.memory is not None and self.memory.samples:
            lines.append("  " + self.memory.describe())
        else:
            lines.append("  server RSS: not sampled (pid unknown)")
        if self.missing is not None:
            lines.append(f"  verify: {len(self.acknowledged) - len(self.missing)} of "
                         f"{len(self.acknowledged)} acknowledged orders pulled back; "
                         f"missing {len(self.missing)} {self.missing[:10]}")
        return "\n".join(lines)


CITIES = ["Chennai", "Mumbai", "Pune", "Delhi", "Kolkata", "München", "Москва"]
STATUSES = ["Booked", "Pending", "Cancelled", "Registered"]
CHANNELS = ["web", "store", "phone", "partner"]
MIX: list[tuple[str, int]] = [
    ("push_one", 18), ("push_batch", 4), ("push_update", 6),
    ("pull_erp", 18), ("pull_customer", 10), ("pull_phone", 10), ("pull_name", 10),
    ("pull_recent", 14), ("pull_status", 10),
]
BATCH = 10
SHARED_PHONES = 300


class Workload:
    """What the workers send and what they remember of it."""

    def __init__(self, cm_id: int, seed: int, pulls_only: bool = False) -> None:
        self.cm_id = cm_id
        self.run = secrets.token_hex(3)
        self.rng = random.Random(seed)
        self.counter = 0
        self.acknowledged: dict[str, Acked] = {}
        self.order: list[str] = []  # erp ids in acknowledgement order, for random picks
        mix = [(k, w) for k, w in MIX if k.startswith("pull")] if pulls_only else MIX
        self.kinds = [kind for kind, _ in mix]
        self.weights = [weight for _, weight in mix]

    def next_kind(self) -> str:
        return self.rng.choices(self.kinds, self.weights)[0]

    def new_element(self) -> dict[str, Any]:
        self.counter += 1
        n = self.counter
        rng = self.rng
        # 30% on a small pool of phones: mostly existing customers, found and reused.
        phone = f"6{rng.randrange(SHARED_PHONES):09d}" if rng.random() < 0.3 else f"7{n:09d}"
        element: dict[str, Any] = {
            "cmId": self.cm_id,
            "customer_info": {
                "customer_name": f"Soak Customer {n % 997}", "phone": phone,
                "email_id": f"soak{n}@example.com", "city": rng.choice(CITIES),
            },
            "order_info": {
                "erp_order_id": f"SOAK-{self.run}-{n}",
                "booking_status": rng.choice(STATUSES),
                "amount": f"{rng.randrange(100, 10**6)}.{rng.randrange(100):02d}",
                "currency": "INR",
                "additional_fields": {"channel": rng.choice(CHANNELS), "run": self.run},
                "product_details": [
                    {"sku_id": f"SKU-{rng.randrange(500)}", "product_name": "Widget",
                     "rate": f"{rng.randrange(1, 5000)}.50", "quantity": str(rng.randrange(1, 9))}
                    for _ in range(rng.randrange(1, 4))
                ],
            },
        }
        if rng.random() < 0.3:
            element["enquiry_info"] = {"status": "Open", "priority": rng.choice(["High", "Low"])}
        return element

    def update_element(self) -> dict[str, Any] | None:
        if not self.order:
            return None
        erp = self.rng.choice(self.order)
        return {
            "cmId": self.cm_id,
            "customer_info": {"phone": self.acknowledged[erp].phone},
            "order_info": {"erp_order_id": erp, "booking_status": self.rng.choice(STATUSES),
                           "amount": f"{self.rng.randrange(1, 10**5)}.00"},
        }

    def remember(self, element: dict[str, Any], result: dict[str, Any]) -> None:
        erp = element["order_info"]["erp_order_id"]
        if erp not in self.acknowledged:
            self.order.append(erp)
        self.acknowledged[erp] = Acked(
            result["order_id"], result["customer_id"], element["customer_info"]["phone"]
        )

    def pick(self) -> tuple[str, Acked] | None:
        if not self.order:
            return None
        erp = self.rng.choice(self.order)
        return erp, self.acknowledged[erp]

    def pull_body(self, kind: str) -> dict[str, Any]:
        body: dict[str, Any] = {"cmId": self.cm_id}
        picked = self.pick()
        rng = self.rng
        if kind == "pull_erp" and picked:
            body |= {"erpOrderId": picked[0], "viewId": 3}
        elif kind == "pull_customer" and picked:
            body |= {"customerIds": str(picked[1].customer_id), "viewId": 2}
        elif kind == "pull_phone" and picked:
            body |= {"phone": f"+91 {picked[1].phone}", "limit": 20}
        elif kind == "pull_name":
            body |= {"name": f"customer {rng.randrange(997)}", "limit": 20,
                     "sortParam": "amount desc"}
        elif kind == "pull_status":
            body |= {"bookingStatus": rng.choice(STATUSES),
                     "additionalFields": {"channel": rng.choice(CHANNELS)}, "limit": 20}
        else:
            since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
            body |= {"createStartDate": since, "limit": 50, "viewId": 1}
        return body


async def soak(
    url: str,
    auth: str,
    cm_id: int,
    *,
    seconds: float,
    concurrency: int,
    pid: int | None = None,
    sample_every: float = 5.0,
    seed: int = 1,
    verify: bool = True,
    preload: int = 0,
    pulls_only: bool = False,
) -> SoakReport:
    """Run the mix against `url` for `seconds` with `concurrency` workers; first push
    `preload` orders (untimed). `pulls_only` leaves the pushes out of the timed mix, so
    the data stays the same size while memory is watched."""
    seconds = min(max(seconds, 1.0), MAX_SECONDS)
    concurrency = min(max(concurrency, 1), MAX_CONCURRENCY)
    workload = Workload(cm_id, seed, pulls_only)
    kinds: dict[str, KindStats] = {kind: KindStats() for kind, _ in MIX}
    samples: list[str] = []
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive timeout closes
    # them: with equal timeouts a request can race the server's close and fail to read.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency,
                           keepalive_expiry=2.0)
    memory = MemoryReport([], warmup=min(10.0, seconds * 0.2)) if pid else None

    def error(kind: str, message: str) -> None:
        kinds[kind].errors += 1
        if len(samples) < 10:
            samples.append(f"{kind}: {message[:300]}")

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                  timeout=60.0) as client:
        # One request first, alone: it pays the slow password hash and fills the server's
        # credential cache, so the timed run measures the steady state (a cold burst of
        # `concurrency` requests would each pay the hash).
        warm = await client.post(PULL_PATH, json={"cmId": cm_id, "orderIds": "1"})
        if warm.status_code != 200:
            raise RuntimeError(f"warm-up pull: HTTP {warm.status_code}: {warm.text}")

        async def preloader() -> None:
            while workload.counter < preload:
                elements = [workload.new_element() for _ in range(BATCH)]
                response = await client.post(ADD_UPDATE_PATH, json=elements)
                response.raise_for_status()
                for sent, result in zip(elements, response.json(), strict=True):
                    if result.get("status") != "success":
                        raise RuntimeError(f"preload: element failed: {result}")
                    workload.remember(sent, result)

        await asyncio.gather(*(preloader() for _ in range(min(concurrency, 8))))
        started = time.monotonic()
        deadline = started + seconds

        async def timed(kind: str, call: Callable[[], Awaitable[None]]) -> None:
            begin = time.monotonic()
            try:
                await call()
            except httpx.HTTPError as exc:
                error(kind, f"{type(exc).__name__}: {exc}")
            except (ValueError, KeyError, TypeError) as exc:
                error(kind, f"unexpected answer: {exc!r}")
            kinds[kind].count += 1
            kinds[kind].latencies.append(time.monotonic() - begin)

        async def push(kind: str) -> None:
            if kind == "push_batch":
                elements = [workload.new_element() for _ in range(BATCH)]
                body: Any = elements
            else:
                element = workload.update_element() if kind == "push_update" else None
                elements = [element or workload.new_element()]
                body = elements[0]
            response = await client.post(ADD_UPDATE_PATH, json=body)
            if response.status_code != 200:
                error(kind, f"HTTP {response.status_code}: {response.text}")
                return
            answer = response.json()
            results = answer if isinstance(body, list) else [answer]
            for sent, result in zip(elements, results, strict=True):
                if result.get("status") != "success":
                    error(kind, f"element failed: {result}")
                else:
                    workload.remember(sent, result)

        async def pull(kind: str) -> None:
            body = workload.pull_body(kind)
            response = await client.post(PULL_PATH, json=body)
            if response.status_code != 200:
                error(kind, f"HTTP {response.status_code}: {response.text}")
                return
            answer = response.json()
            if answer.get("status") != "success":
                error(kind, f"not a success: {answer}")
            elif kind == "pull_erp" and "erpOrderId" in body:
                acked = workload.acknowledged[body["erpOrderId"]]
                if [o["orderId"] for o in answer["orders"]] != [acked.order_id]:
                    error(kind, f"acknowledged order {body['erpOrderId']} (id "
                                f"{acked.order_id}) not returned: {answer['orders']}")

        async def worker() -> None:
            while time.monotonic() < deadline:
                kind = workload.next_kind()
                call = push if kind.startswith("push") else pull
                await timed(kind, functools.partial(call, kind))

        async def sampler() -> None:
            assert memory is not None and pid is not None
            while True:
                kib = rss_kib(pid)
                if kib is not None:
                    memory.samples.append((time.monotonic() - started, kib))
                if time.monotonic() >= deadline:
                    return
                await asyncio.sleep(min(sample_every, max(0.0, deadline - time.monotonic())))

        tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
        sampling = asyncio.create_task(sampler()) if memory is not None else None
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        if sampling is not None:
            await sampling
            kib = rss_kib(pid) if pid else None
            if memory is not None and kib is not None:
                memory.samples.append((time.monotonic() - started, kib))
        report = SoakReport(elapsed, concurrency, kinds, samples, workload.acknowledged, memory)
        if verify:
            report.missing = await missing_orders(client, cm_id, workload.acknowledged)
    return report


async def missing_orders(
    client: httpx.AsyncClient, cm_id: int, acknowledged: dict[str, Acked]
) -> list[str]:
    """The acknowledged erp ids that a pull by erp id does not return with their order id."""
    erps = sorted(acknowledged)
    found: dict[str, int] = {}
    for start in range(0, len(erps), 500):
        chunk = erps[start:start + 500]
        response = await client.post(PULL_PATH, json={
            "cmId": cm_id, "erpOrderId": chunk, "limit": 500, "viewId": 1,
        })
        if response.status_code != 200:
            raise RuntimeError(f"verify pull: HTTP {response.status_code}: {response.text}")
        for order in response.json()["orders"]:
            found[order["erpOrderId"]] = order["orderId"]
    return [erp for erp in erps if found.get(erp) != acknowledged[erp].order_id]


# --------------------------------------------------------------------------- running it


def soak_own_server(
    database_url: str | None,
    workdir: Path,
    *,
    seconds: float,
    concurrency: int,
    sample_every: float = 5.0,
    seed: int = 1,
    verify: bool = True,
    preload: int = 0,
    pulls_only: bool = False,
) -> SoakReport:
    """Create a tenant with the CLI, start a server over the database (a fresh SQLite file
    in `workdir` by default), soak it, stop it."""
    url = database_url or f"sqlite:///{workdir / 'soak.db'}"
    token = secrets.token_hex(4)
    cm_id = 5_000_000 + int(token, 16) % 1_000_000
    username, password = f"soak-{token}", secrets.token_urlsafe(16)
    create_tenant(url, cm_id=cm_id, subdomain=f"soak-{token}", username=username,
                  password=password)
    log_path = workdir / "server.log"
    with running_server(url, log_path) as server:
        report = asyncio.run(soak(
            server.url, basic_auth(username, password), cm_id, seconds=seconds,
            concurrency=concurrency, pid=server.pid, sample_every=sample_every, seed=seed,
            verify=verify, preload=preload, pulls_only=pulls_only,
        ))
    report.server_errors = [
        line for line in log_path.read_text(errors="replace").splitlines() if _notable(line)
    ]
    return report


def _notable(line: str) -> bool:
    """A server log line worth showing: not blank, not an INFO line (plain or JSON)."""
    text = line.strip()
    if not text or text.startswith(("INFO:", "DEBUG:")):
        return False
    if text.startswith("{"):
        try:
            level = json.loads(text).get("level", "")
        except (ValueError, AttributeError):
            return True
        return str(level).upper() not in ("INFO", "DEBUG")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--username", help="write user of the running server")
    parser.add_argument("--password", help="its password")
    parser.add_argument("--cm-id", type=int, help="its account's cmId")
    parser.add_argument("--pid", type=int, help="the running server's pid, for its RSS")
    parser.add_argument("--database-url", help="database of the started server "
                        "(default: a fresh SQLite file)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help=f"how long (default 60, at most {MAX_SECONDS:.0f})")
    parser.add_argument("--concurrency", type=int, default=32, help="workers (default 32)")
    parser.add_argument("--sample-every", type=float, default=5.0,
                        help="seconds between RSS samples (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip pulling every acknowledged order back at the end")
    parser.add_argument("--preload", type=int, default=0,
                        help="push this many orders first, untimed (default 0)")
    parser.add_argument("--pulls-only", action="store_true",
                        help="no pushes in the timed mix (the data size stays fixed)")
    parser.add_argument("--keep", type=Path, help="keep the started server's log (and its "
                        "SQLite file) in this directory instead of a temporary one")
    args = parser.parse_args(argv)
    if args.url:
        if not (args.username and args.password and args.cm_id):
            parser.error("--url needs --username, --password and --cm-id")
        pid = args.pid
        port = urlsplit(args.url).port
        if pid is None and urlsplit(args.url).hostname in ("127.0.0.1", "localhost") and port:
            pid = find_listener_pid(port)
        report = asyncio.run(soak(
            args.url.rstrip("/"), basic_auth(args.username, args.password), args.cm_id,
            seconds=args.seconds, concurrency=args.concurrency, pid=pid,
            sample_every=args.sample_every, seed=args.seed, verify=args.verify,
            preload=args.preload, pulls_only=args.pulls_only,
        ))
    else:
        with contextlib.ExitStack() as stack:
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                workdir = args.keep
            else:
                workdir = Path(stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="ordersearch-soak-")))
            report = soak_own_server(
                args.database_url, workdir, seconds=args.seconds,
                concurrency=args.concurrency, sample_every=args.sample_every, seed=args.seed,
                verify=args.verify, preload=args.preload, pulls_only=args.pulls_only,
            )
    print(report.describe())
    return 1 if report.errors or report.missing else 0


if __name__ == "__main__":
    sys.exit(main())
