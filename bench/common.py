"""What the bench scripts share: the bench tenants, their credentials, small helpers."""

from __future__ import annotations

import base64
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from ordersearch.db.tables import accounts, orders
from ordersearch.tenancy import Account

FIRST_CM_ID = 3_000_001
ACCOUNT_COUNT = 50
PASSWORD = "bench"
TIMEZONE = "Asia/Kolkata"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def username(cm_id: int) -> str:
    return f"bench-{cm_id}"


def basic_auth(cm_id: int) -> str:
    token = base64.b64encode(f"{username(cm_id)}:{PASSWORD}".encode()).decode()
    return f"Basic {token}"


def account_sizes(total: int, count: int = ACCOUNT_COUNT) -> list[int]:
    """Orders per account: the first holds half, the others share the rest as 1/k (Zipf)."""
    if total < count:
        raise ValueError(f"need at least {count} orders, one per account")
    big = total // 2
    rest = total - big
    weights = [1 / k for k in range(1, count)]
    scale = sum(weights)
    sizes = [max(1, int(rest * w / scale)) for w in weights]
    sizes[0] += rest - sum(sizes)  # rounding goes to the second-biggest
    return [big, *sizes]


@dataclass(frozen=True)
class BenchAccount:
    account: Account
    orders: int


def bench_accounts(engine: Engine) -> list[BenchAccount]:
    """The bench tenants present in the database, biggest first."""
    from sqlalchemy import func

    with engine.connect() as conn:
        rows = conn.execute(
            select(accounts, func.count(orders.c.id).label("n"))
            .select_from(accounts.outerjoin(orders, orders.c.account_id == accounts.c.id))
            .where(accounts.c.cm_id.between(FIRST_CM_ID, FIRST_CM_ID + ACCOUNT_COUNT - 1))
            .group_by(*accounts.c)
        ).all()
    found = [BenchAccount(Account.from_row(row), row.n) for row in rows]
    return sorted(found, key=lambda b: -b.orders)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _proc_cpu(pid: str) -> tuple[int, float] | None:
    """(process group, user+system CPU seconds) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            rest = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(rest[2]), (int(rest[11]) + int(rest[12])) / CLOCK_TICKS


def cpu_seconds(*, group: int | None = None, database: str | None = None) -> dict[str, float]:
    """CPU seconds used so far per process: those of process group `group`, or the
    PostgreSQL backends serving `database` (matched on their command line)."""
    used: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        if database is not None:
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    cmdline = handle.read()
            except OSError:
                continue
            if not cmdline.startswith(b"postgres: ") or f" {database} ".encode() not in cmdline:
                continue
        found = _proc_cpu(entry)
        if found is None or (group is not None and found[0] != group):
            continue
        used[entry] = found[1]
    return used


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> float:
    """CPU used between two snapshots (processes that ended in between are not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
