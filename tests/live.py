"""A real `ordersearch serve` subprocess on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from bench.soak import free_port, server_env

ROOT = Path(__file__).resolve().parents[1]
ORDERSEARCH = Path(sys.executable).with_name("ordersearch")


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def running_server(database_url: str, log_path: Path) -> Iterator[LiveServer]:
    """`ordersearch serve` over `database_url` until /healthz answers; stopped on exit."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(ORDERSEARCH), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env(database_url), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=ROOT, start_new_session=True,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=2.0) as probe:
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited with {process.returncode}:\n"
                                f"{log_path.read_text(errors='replace')}")
                with contextlib.suppress(httpx.HTTPError):
                    if probe.get(f"{server.url}/healthz").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start:\n{log_path.read_text()}")
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
