"""`serve` (its setup step and wiring, without starting uvicorn) and the `db` commands."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ordersearch import cli as cli_module
from ordersearch.api.routes import ADD_UPDATE_PATH, PULL_PATH
from ordersearch.db import migrate
from ordersearch.db.engine import Database
from ordersearch.db.tables import accounts, orders
from ordersearch.demo import DemoLoad, example_add_update_body, seed_pull_body
from ordersearch.tenancy import Account
from tests.cli.conftest import failed, ok
from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty, never migrated database, set as ORDERSEARCH_DATABASE_URL."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh' / 'ordersearch.db'}"
    else:
        url = create_pg_database()
    monkeypatch.setenv("ORDERSEARCH_DATABASE_URL", url)
    yield url
    if backend == "postgresql":
        drop_pg_database(url)


def test_setup_migrates_and_loads_the_demo_once(fresh_url: str) -> None:
    first = cli_module.setup_database(demo_orders=60)
    second = cli_module.setup_database(demo_orders=60)
    assert (first.account_created, first.orders) == (True, 60)
    assert (second.account_created, second.orders) == (False, 0)
    database = Database.from_url(fresh_url)
    try:
        assert migrate.is_current(database.engine)
        with database.read() as conn:
            assert conn.scalar(select(func.count()).select_from(accounts)) == 1
            assert conn.scalar(select(func.count()).select_from(orders)) == 60
    finally:
        database.dispose()


def test_db_check_and_upgrade(fresh_url: str) -> None:
    runner = CliRunner()
    assert "run `ordersearch db upgrade`" in failed(runner.invoke(cli_module.app, ["db", "check"]))
    ok(runner.invoke(cli_module.app, ["db", "upgrade"]))
    assert "(current)" in ok(runner.invoke(cli_module.app, ["db", "check"])).stdout


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERSEARCH_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    result = CliRunner().invoke(cli_module.app, ["db", "upgrade"])
    assert failed(result).startswith("error: database unavailable:")


def _body_after_d(command: str) -> Any:
    words = shlex.split(command)
    return json.loads(words[words.index("-d") + 1])


def test_curl_examples_paste_as_is() -> None:
    pull, add_update = cli_module.curl_examples("0.0.0.0", 8123)
    assert "-u demo:demo" in pull
    assert f"http://127.0.0.1:8123{PULL_PATH}" in pull
    assert _body_after_d(pull) == seed_pull_body()
    assert _body_after_d(pull)["customerIds"] == "191696570"
    assert f"http://127.0.0.1:8123{ADD_UPDATE_PATH}" in add_update
    assert _body_after_d(add_update) == example_add_update_body()
    assert "http://[::1]:80/" in cli_module.curl_examples("::1", 80)[0]


class FakeServer:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))


@pytest.fixture
def fake_uvicorn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeServer:
    server = FakeServer()
    monkeypatch.setattr(cli_module.uvicorn, "run", server)
    monkeypatch.setenv("ORDERSEARCH_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    return server


def test_serve_runs_the_app_factory(
    fake_uvicorn: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "9001")
    ok(CliRunner().invoke(cli_module.app, ["serve", "--workers", "3"]))
    assert fake_uvicorn.calls == [
        (("ordersearch.api.app:create_app",),
         {"factory": True, "host": "127.0.0.1", "port": 9001, "workers": 3,
          "access_log": False}),
    ]
    ok(CliRunner().invoke(cli_module.app, ["serve", "--port", "9002"]))
    assert fake_uvicorn.calls[-1][1]["port"] == 9002


def test_serve_setup_prints_curls_before_serving(
    fake_uvicorn: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[int] = []

    def fake_setup(**kwargs: Any) -> DemoLoad:
        loads.append(1)
        account = Account(1, 1000298, "demo", "Demo Realty", "Asia/Kolkata")
        return DemoLoad(account, True, 10_000, 80_000, 2.0)

    monkeypatch.setattr(cli_module, "setup_database", fake_setup)
    result = ok(CliRunner().invoke(
        cli_module.app, ["serve", "--setup", "--host", "0.0.0.0", "--port", "8000"]
    ))
    assert loads == [1]
    assert "Loaded the demo: 10,000 orders" in result.stdout
    assert f"curl -s -u demo:demo -H 'Content-Type: application/json' " \
        f"http://127.0.0.1:8000{PULL_PATH}" in result.stdout
    assert fake_uvicorn.calls[0][1]["host"] == "0.0.0.0"
