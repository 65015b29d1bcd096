"""Fixtures: every test runs against a real SQLite file and a real PostgreSQL database.

`database` is parametrised over both backends. SQLite tests get a copy of a migrated file;
PostgreSQL tests share one migrated database per session, emptied before each test.
With CI=true an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import text

from ordersearch import accounts as accounts_service
from ordersearch import auth as auth_module
from ordersearch.api.app import create_app
from ordersearch.auth import Authenticator
from ordersearch.config import Settings
from ordersearch.db import migrate
from ordersearch.db.engine import Database, make_engine
from ordersearch.db.tables import metadata
from ordersearch.tenancy import Account

PG_ADMIN_DSN = os.environ.get(
    "ORDERSEARCH_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]

# argon2id with the production profile costs ~50 ms and 64 MiB per hash; tests that are not
# about the hash itself use the same algorithm with the smallest parameters.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts_service, "password_hasher", CHEAP_HASHER)
        patch.setattr(auth_module, "password_hasher", CHEAP_HASHER)
        yield


def _pg_admin() -> psycopg.Connection[Any]:
    return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)


def create_pg_database() -> str:
    """Create an empty PostgreSQL database and return its SQLAlchemy URL."""
    name = f"ordersearch_test_{uuid.uuid4().hex[:12]}"
    try:
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable at {PG_ADMIN_DSN} and CI=true: {exc}")
        pytest.skip(f"PostgreSQL is unreachable: {exc}")
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[Database]:
    url = create_pg_database()
    database = Database.from_url(url)
    migrate.upgrade(database.engine)
    yield database
    database.dispose()
    drop_pg_database(url)


def _empty_pg(database: Database) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def fresh_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[str], Database]:
    """A factory: an empty, migrated database of the named backend."""
    opened: list[Database] = []

    def make(backend: str) -> Database:
        if backend == "sqlite":
            template = request.getfixturevalue("sqlite_template")
            path = tmp_path / f"ordersearch-{uuid.uuid4().hex[:8]}.db"
            shutil.copy(template, path)
            database = Database.from_url(f"sqlite:///{path}")
            opened.append(database)
            return database
        database = request.getfixturevalue("pg_database")
        _empty_pg(database)
        return database  # type: ignore[no-any-return]

    yield make  # type: ignore[misc]
    for database in opened:
        database.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def database(backend: str, fresh_database: Callable[[str], Database]) -> Database:
    return fresh_database(backend)


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class Tenant:
    """An account with a write user and a read user, and headers for each."""

    account: Account
    write_headers: dict[str, str]
    read_headers: dict[str, str]


@pytest.fixture
def make_tenant(database: Database) -> Callable[..., Tenant]:
    def make(
        cm_id: int = 1000298, subdomain: str = "demo", timezone: str = "Asia/Kolkata"
    ) -> Tenant:
        with database.write() as conn:
            account = accounts_service.create_account(
                conn, cm_id=cm_id, subdomain=subdomain, name=f"Account {cm_id}",
                timezone=timezone,
            )
            accounts_service.create_user(
                conn, account, username=f"{subdomain}-writer", password="write-pass",
                role="write",
            )
            accounts_service.create_user(
                conn, account, username=f"{subdomain}-reader", password="read-pass",
                role="read",
            )
        return Tenant(
            account,
            basic_auth(f"{subdomain}-writer", "write-pass"),
            basic_auth(f"{subdomain}-reader", "read-pass"),
        )

    return make


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()  # type: ignore[no-any-return]


@pytest.fixture
def authenticator() -> Authenticator:
    return Authenticator()


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=str(database.engine.url), base_domain=None)


@pytest.fixture
def client(
    database: Database, settings: Settings, authenticator: Authenticator
) -> Iterator[TestClient]:
    app = create_app(settings, database=database, authenticator=authenticator)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


PULL = "/ms/customer-search/order-search/api/v1/pull-internal"
ADD_UPDATE = "/ms/customer/order/api/v1/add-update"
