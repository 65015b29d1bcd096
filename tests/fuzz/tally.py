"""How many fuzz cases ran, per suite and backend, and how long they took.

Tests add to it; tests/fuzz/conftest.py prints it at the end of the run, so the number
of cases can be quoted from any `make test` log.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

CASES: Counter[tuple[str, str]] = Counter()
SECONDS: defaultdict[tuple[str, str], float] = defaultdict(float)


def count(suite: str, backend: str, cases: int = 1) -> None:
    CASES[(suite, backend)] += cases


@contextmanager
def timed(suite: str, backend: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        SECONDS[(suite, backend)] += time.perf_counter() - start


def summary() -> list[str]:
    """One line per suite: its total and each backend's cases and seconds."""
    lines = []
    for suite in sorted({suite for suite, _ in CASES}):
        backends = sorted(backend for s, backend in CASES if s == suite)
        total = sum(CASES[(suite, backend)] for backend in backends)
        parts = ", ".join(
            f"{backend} {CASES[(suite, backend)]} in {SECONDS[(suite, backend)]:.1f} s"
            for backend in backends
        )
        lines.append(f"fuzz {suite}: {total} cases ({parts})")
    if len(lines) > 1:
        lines.append(f"fuzz total: {sum(CASES.values())} cases")
    return lines
