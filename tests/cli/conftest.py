"""CLI tests run the commands in-process against the `database` fixture (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from typer.testing import CliRunner, Result

from ordersearch import accounts as accounts_service
from ordersearch.auth import Authenticator, Principal
from ordersearch.cli import app
from ordersearch.db.engine import Database
from ordersearch.tenancy import Account

Invoke = Callable[..., Result]


def database_url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def cli(database: Database, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run `ordersearch ARGS...` against the test database; `input` feeds stdin."""
    monkeypatch.setenv("ORDERSEARCH_DATABASE_URL", database_url(database))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def failed(result: Result) -> str:
    """The stderr of a command that exited 1 with a message, not a traceback."""
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.output
    return result.stderr


def authenticate(database: Database, username: str, password: str) -> Principal:
    with database.read() as conn:
        return Authenticator().authenticate(conn, username, password, "test")


def count(database: Database, table: Table, *where: Any) -> int:
    with database.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def make_account(cli: Invoke, cm_id: int = 1000298, subdomain: str = "acme") -> None:
    ok(cli("accounts", "create", "--cm-id", str(cm_id), "--subdomain", subdomain,
           "--name", "Acme Realty", "--timezone", "Asia/Kolkata"))


def get_account(database: Database, cm_id: int = 1000298) -> Account:
    with database.read() as conn:
        return accounts_service.get_account(conn, cm_id)
