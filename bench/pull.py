"""Pull latency and throughput: ordersearch vs the bare endpoint vs the raw database.

    .venv/bin/python -m bench.pull --url URL [--seconds 2] [--concurrency 1,8,32]

Needs data from `bench.generate` and `wrk` (`apt-get install -y wrk`, or `make bench`).
For every kind of the fixed mix (see bench/mix.py) against the biggest bench account (and
the selective kinds against the smallest one, at `--small-concurrency`), it prints p50 /
p95 / p99 latency (ms) and requests/s of:

- `os1`, `os2`: `ordersearch serve --workers 1|2`, over HTTP with wrk (Basic auth, warm
  credential cache);
- `bare1`, `bare2`: bench/bare.py on uvicorn with 1|2 workers: the same SQL with the same
  driver and the same JSON, without auth, validation or framework layers;
- `raw`: the same SQL run in this process on one DBAPI connection, back to back (p50 ms
  and queries/s; a "query" is all statements of one Pull: the page and the count);

and the ratios os/bare (requests/s at the same worker count) and os/raw. wrk runs one
thread, rotating the kind's 20 body variants; each server is warmed with the whole mix
first. Results also go to bench/results/pull-<backend>-<orders>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.common import basic_auth, bench_accounts, cpu_delta, cpu_seconds, median, percentile
from bench.mix import BROAD, SELECTIVE, Case, Plan, build_plan
from ordersearch.api.routes import PULL_PATH
from ordersearch.db.engine import Database, normalise_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = ROOT / ".venv" / "bin"
LUA = ROOT / "bench" / "pull.lua"


@dataclass(frozen=True)
class Target:
    name: str  # os1, os2, bare1, bare2
    kind: str  # ordersearch | bare
    workers: int


def case_key(case: Case) -> str:
    return f"{case.label}/{case.kind}"


# --- raw -----------------------------------------------------------------------------


def run_raw(database: Database, case: Case, seconds: float, dbname: str | None,
            ) -> dict[str, float]:
    raw = database.engine.raw_connection()
    db_before = cpu_seconds(database=dbname) if dbname else {}
    cpu_before = time.process_time()
    try:
        cursor = raw.cursor()
        timings: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(timings) < 5:
            for request in case.requests:
                started = time.perf_counter()
                for statement, parameters in request.statements:
                    cursor.execute(statement, parameters)
                    cursor.fetchall()
                timings.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu_before
        if dbname:
            cpu += cpu_delta(db_before, cpu_seconds(database=dbname))
        raw.rollback()
    finally:
        raw.close()
    return {"p50_ms": median(timings) * 1000, "p99_ms": percentile(timings, 99) * 1000,
            "qps": len(timings) / sum(timings), "cpu_ms": cpu / len(timings) * 1000}


# --- servers and wrk -----------------------------------------------------------------


class Server:
    def __init__(self, target: Target, url: str, plan_path: Path, port: int) -> None:
        self.target = target
        self.port = port
        env = dict(os.environ)
        if target.kind == "ordersearch":
            # What `ordersearch serve --workers N` runs, minus its migration step (so the
            # bench never changes the schema it measures; `ordersearch db upgrade` does).
            command = [str(BIN / "uvicorn"), "ordersearch.api.app:create_app", "--factory",
                       "--host", "127.0.0.1", "--port", str(port), "--workers",
                       str(target.workers), "--no-access-log"]
            env["ORDERSEARCH_DATABASE_URL"] = url
        else:
            command = [str(BIN / "uvicorn"), "bench.bare:app", "--host", "127.0.0.1",
                       "--port", str(port), "--workers", str(target.workers),
                       "--no-access-log", "--log-level", "warning"]
            env.update(BENCH_PLAN=str(plan_path), BENCH_URL=url)
        self.log = (RESULTS / f"server-{target.name}-{port}.log").open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.target.name} exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{self.target.name} not ready after {timeout:.0f} s")

    def wait_idle(self, dbname: str | None, timeout: float = 180) -> None:
        """Wait until the server has answered its backlog (its processes and its
        PostgreSQL backends stop using CPU): a slow cell must not leak queued requests
        into the next one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = cpu_seconds(group=self.process.pid)
            db_before = cpu_seconds(database=dbname) if dbname else {}
            time.sleep(0.3)
            busy = cpu_delta(before, cpu_seconds(group=self.process.pid))
            if dbname:
                busy += cpu_delta(db_before, cpu_seconds(database=dbname))
            if busy < 0.02:
                return

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def post(base: str, body: bytes, cm_id: int) -> tuple[int, Any]:
    request = urllib.request.Request(
        base + PULL_PATH, data=body,
        headers={"Content-Type": "application/json", "Authorization": basic_auth(cm_id)})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, orjson.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def bodies_file(case: Case) -> Path:
    path = RESULTS / "bodies" / f"{case.label}-{case.kind}.ndjson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(r.body + b"\n" for r in case.requests))
    return path


def run_wrk(server: Server, path: Path, cm_id: int, concurrency: int, seconds: float,
            dbname: str | None) -> dict[str, float]:
    base = server.base
    app_before = cpu_seconds(group=server.process.pid)
    db_before = cpu_seconds(database=dbname) if dbname else {}
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
               "-s", str(LUA), base + PULL_PATH, "--", str(path), basic_auth(cm_id)]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            timeout=seconds + 60).stdout
    app_cpu = cpu_delta(app_before, cpu_seconds(group=server.process.pid))
    db_cpu = cpu_delta(db_before, cpu_seconds(database=dbname)) if dbname else 0.0
    line = [x for x in output.splitlines() if x.startswith("{")][-1]
    data = json.loads(line)
    served = max(1, data["requests"])
    return {
        "app_cpu_ms": app_cpu / served * 1000, "db_cpu_ms": db_cpu / served * 1000,
        "cpu_ms": (app_cpu + db_cpu) / served * 1000,
        "p50_ms": data["p50_us"] / 1000, "p95_ms": data["p95_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "errors": data["status_errors"] + data["socket_errors"],
    }


# --- the run -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pull", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=int, default=2, help="wrk run per cell")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--small-concurrency", default="8")
    parser.add_argument("--targets", default="os1,os2,bare1,bare2")
    parser.add_argument("--kinds", default="", help="comma list; default every kind")
    parser.add_argument("--port", type=int, default=8190)
    parser.add_argument("--raw-seconds", type=float, default=1.0)
    parser.add_argument("--plan", type=Path,
                        help="reuse a plan-*.pkl of an earlier run on the same data")
    parser.add_argument("--pg-options", default="-c plan_cache_mode=force_custom_plan",
                        help="PGOPTIONS for every process of the run ('' for none)")
    parser.add_argument("--tag", default="", help="added to the results file name")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (or make bench)")
    url = normalise_url(args.url)
    # Custom plans for every execution, in every process of the run (see
    # docs/performance.md: generic plans of prepared statements go wrong on skewed tenants).
    if args.pg_options:
        os.environ["PGOPTIONS"] = args.pg_options
    database = Database.from_url(url)
    dialect = database.engine.dialect.name
    dbname = database.engine.url.database if dialect == "postgresql" else None
    found = bench_accounts(database.engine)
    if not found or found[0].orders == 0:
        raise SystemExit("no bench data here: run python -m bench.generate first")
    total = sum(b.orders for b in found)
    big, small = found[0], found[-1]
    started = time.perf_counter()
    if args.plan:
        plan = Plan.load(args.plan)
    else:
        plan = build_plan(database, [("big", big), ("small", small)])
    wanted = set(filter(None, args.kinds.split(",")))
    plan.cases = [c for c in plan.cases if (not wanted or c.kind in wanted)
                  and (c.label == "big" or c.kind in SELECTIVE)]
    tag = f"{dialect}-{total}{'-' + args.tag if args.tag else ''}"
    plan_path = RESULTS / f"plan-{tag}.pkl"
    plan.save(plan_path)
    print(f"{dialect}, {total:,} orders; big account cmId {big.account.cm_id} "
          f"({big.orders:,} orders), small cmId {small.account.cm_id} ({small.orders:,}); "
          f"plan built in {time.perf_counter() - started:.1f} s", flush=True)

    results: dict[str, dict[str, Any]] = {case_key(c): {"cells": {}} for c in plan.cases}
    for case in plan.cases:
        results[case_key(case)]["raw"] = run_raw(database, case, args.raw_seconds, dbname)
    print("raw done", flush=True)
    database.dispose()
    if dbname:  # the servers' backends from here on; let the raw loop's backend go
        time.sleep(0.5)

    concurrencies = {"big": [int(c) for c in args.concurrency.split(",")],
                     "small": [int(c) for c in args.small_concurrency.split(",")]}
    targets = [Target(name, _target_kind(name), int(name[-1]))
               for name in args.targets.split(",")]
    reference: dict[str, Any] = {}
    for target in targets:
        server = Server(target, url, plan_path, args.port)
        try:
            server.wait_ready()
            mismatches = check_answers(server, plan, reference)
            warm = RESULTS / "bodies" / "all.ndjson"
            warm.parent.mkdir(parents=True, exist_ok=True)
            warm.write_bytes(b"".join(r.body + b"\n" for c in plan.cases if c.label == "big"
                                      for r in c.requests if c.kind != "broadCount"))
            run_wrk(server, warm, big.account.cm_id, 8, 2, dbname)
            for case in plan.cases:
                path = bodies_file(case)
                for concurrency in concurrencies[case.label]:
                    server.wait_idle(dbname)
                    cell = run_wrk(server, path, case.cm_id, concurrency, args.seconds,
                                   dbname)
                    results[case_key(case)]["cells"][f"{target.name}@{concurrency}"] = cell
            print(f"{target.name} done ({mismatches} answers differ from os1)", flush=True)
        finally:
            server.stop()

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"pull-{tag}.json").write_text(json.dumps(
        {"dialect": dialect, "orders": total, "big": big.orders, "small": small.orders,
         "load": os.getloadavg(), "results": results}, indent=1))
    print_table(plan, results, targets, concurrencies, dialect, total, big.orders, small.orders)


def _target_kind(name: str) -> str:
    for prefix, kind in (("os", "ordersearch"), ("bare", "bare")):
        if name.startswith(prefix):
            return kind
    raise SystemExit(f"unknown target {name!r}: os1, os2, bare1, bare2")


def check_answers(server: Server, plan: Plan, reference: dict[str, Any]) -> int:
    """Every body answers 200; bare's orders equal ordersearch's (first target seen)."""
    mismatches = 0
    for case in plan.cases:
        for request in case.requests[:2]:
            status, answer = post(server.base, request.body, case.cm_id)
            if status != 200:
                raise SystemExit(f"{server.target.name} {case_key(case)}: HTTP {status} "
                                 f"{answer!r:.300}")
            key = request.body.decode()
            orders = [{k: v for k, v in o.items()} for o in answer["orders"]]
            if key in reference:
                mismatches += reference[key] != (orders, answer["totalCount"])
            else:
                reference[key] = (orders, answer["totalCount"])
    return mismatches


def print_table(plan: Plan, results: dict[str, Any], targets: list[Target],
                concurrencies: dict[str, list[int]], dialect: str, total: int, big: int,
                small: int) -> None:
    print()
    print(f"## {dialect}, {total:,} orders (big account {big:,}, small {small:,}); "
          f"load average {os.getloadavg()[0]:.1f}")
    print()
    head = ["account", "kind", "c"]
    for target in targets:
        head.append(f"{target.name} p50/p95/p99 ms")
        head.append(f"{target.name} req/s")
        head.append(f"{target.name} cpu ms/req")
    head += ["raw p50 ms", "raw q/s", "raw cpu ms/q"]
    pairs = [(t.name, f"bare{t.workers}") for t in targets
             if t.kind != "bare" and any(b.name == f"bare{t.workers}" for b in targets)]
    head += [f"{o}/{b} req/s" for o, b in pairs]
    head += [f"{b}/{o} cpu" for o, b in pairs]
    os_targets = [t.name for t in targets if t.kind != "bare"]
    head += [f"{o} p50/raw p50" for o in os_targets]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    order = {kind: i for i, kind in enumerate(SELECTIVE + BROAD)}
    for case in sorted(plan.cases, key=lambda c: (c.label != "big", order[c.kind])):
        result = results[case_key(case)]
        raw = result["raw"]
        for concurrency in concurrencies[case.label]:
            cells = result["cells"]
            line = [case.label, case.kind, str(concurrency)]
            for target in targets:
                cell = cells.get(f"{target.name}@{concurrency}")
                if cell is None:
                    line += ["-", "-", "-"]
                    continue
                errors = f" ({cell['errors']} err)" if cell["errors"] else ""
                line.append(f"{cell['p50_ms']:.1f}/{cell['p95_ms']:.1f}/{cell['p99_ms']:.1f}"
                            f"{errors}")
                line.append(f"{cell['rps']:,.0f}")
                line.append(f"{cell['cpu_ms']:.2f}")
            line += [f"{raw['p50_ms']:.2f}", f"{raw['qps']:,.0f}", f"{raw['cpu_ms']:.2f}"]
            for o, b in pairs:
                oc, bc = cells.get(f"{o}@{concurrency}"), cells.get(f"{b}@{concurrency}")
                line.append(f"{oc['rps'] / bc['rps']:.0%}" if oc and bc and bc["rps"] else "-")
            for o, b in pairs:
                oc, bc = cells.get(f"{o}@{concurrency}"), cells.get(f"{b}@{concurrency}")
                line.append(f"{bc['cpu_ms'] / oc['cpu_ms']:.0%}" if oc and bc else "-")
            for o in os_targets:
                oc = cells.get(f"{o}@{concurrency}")
                line.append(f"{oc['p50_ms'] / raw['p50_ms']:.1f}x" if oc else "-")
            print("| " + " | ".join(line) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
