"""A short soak (issue 5, part 4): `bench.soak` for ~10 s at concurrency 8 on each backend.

The real server runs as a subprocess over a fresh database. Asserted: zero errors (every
answer 200, every element a success, every pull by erp id of an acknowledged order
returns it) and every acknowledged order pullable afterwards. Throughput and memory are
printed, not asserted: the machine is shared. The full run is
`.venv/bin/python -m bench.soak --seconds 60 --concurrency 32`.

ORDERSEARCH_SOAK_SECONDS sets the duration (default 10).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.soak import soak_own_server

from tests.conftest import create_pg_database, drop_pg_database

SECONDS = float(os.environ.get("ORDERSEARCH_SOAK_SECONDS", "10"))
CONCURRENCY = 8


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'soak.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def test_short_soak_has_no_errors_and_loses_nothing(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    report = soak_own_server(
        database_url, tmp_path, seconds=SECONDS, concurrency=CONCURRENCY, sample_every=1.0
    )
    summary = report.describe()
    print(f"\nsoak[{backend}]: {summary}")
    assert report.errors == 0, summary
    assert report.acknowledged, f"no push was acknowledged\n{summary}"
    assert sum(s.count for k, s in report.kinds.items() if k.startswith("pull")) > 0, summary
    assert report.missing == [], summary
