"""The Alembic migrations build exactly the schema of `ordersearch.db.tables.metadata`.

Each test starts from a brand-new, empty database: a SQLite file, or a PostgreSQL database
made for the test with conftest's `create_pg_database` and dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, Index, UniqueConstraint, inspect, text

from ordersearch.db import migrate
from ordersearch.db.engine import make_engine
from ordersearch.db.tables import metadata
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database

ALEMBIC_TABLE = "alembic_version"


@pytest.fixture(params=BACKENDS)
def new_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'brand-new.db'}")
        yield engine
        engine.dispose()
        return
    url = create_pg_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_pg_database(url)


def app_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {ALEMBIC_TABLE}


def snapshot(engine: Engine) -> dict[str, Any]:
    """What the database has: per table its columns, indexes, unique constraints, FKs."""
    inspector = inspect(engine)
    result: dict[str, Any] = {}
    for table in sorted(app_tables(engine)):
        result[table] = {
            "columns": {
                c["name"]: (c["nullable"], bool(c.get("primary_key")))
                for c in inspector.get_columns(table)
            },
            "primary_key": tuple(inspector.get_pk_constraint(table)["constrained_columns"]),
            "indexes": {
                i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            },
            "unique": {
                u["name"]: tuple(u["column_names"])
                for u in inspector.get_unique_constraints(table)
            },
            "foreign_keys": {
                (tuple(fk["constrained_columns"]), fk["referred_table"],
                 tuple(fk["referred_columns"]))
                for fk in inspector.get_foreign_keys(table)
            },
        }
    return result


def assert_matches_metadata(engine: Engine) -> None:
    actual = snapshot(engine)
    assert set(actual) == set(metadata.tables)
    for name, table in metadata.tables.items():
        have = actual[name]
        assert set(have["columns"]) == {c.name for c in table.columns}, name
        for column in table.columns:
            assert have["columns"][column.name][0] == column.nullable, (name, column.name)
        assert have["primary_key"] == tuple(c.name for c in table.primary_key.columns), name
        for index in table.indexes:
            assert isinstance(index, Index)
            assert index.name in have["indexes"], (name, index.name, sorted(have["indexes"]))
            assert have["indexes"][index.name] == (
                tuple(c.name for c in index.columns),
                bool(index.unique),
            ), (name, index.name)
        uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
        for constraint in uniques:
            assert have["unique"].get(str(constraint.name)) == tuple(
                c.name for c in constraint.columns
            ), (name, constraint.name, have["unique"])
        expected_fks = {
            (
                tuple(c.parent.name for c in fk.elements),
                fk.referred_table.name,
                tuple(c.column.name for c in fk.elements),
            )
            for fk in table.foreign_key_constraints
        }
        assert have["foreign_keys"] == expected_fks, name


def test_upgrade_builds_every_table_and_index(new_engine: Engine) -> None:
    assert app_tables(new_engine) == set()
    assert migrate.current_revision(new_engine) is None
    assert not migrate.is_current(new_engine)
    migrate.upgrade(new_engine)
    assert_matches_metadata(new_engine)
    assert migrate.is_current(new_engine)
    assert migrate.current_revision(new_engine) == migrate.head_revision()


def test_upgrade_twice_is_a_no_op(new_engine: Engine) -> None:
    migrate.upgrade(new_engine)
    before = snapshot(new_engine)
    migrate.upgrade(new_engine)
    assert snapshot(new_engine) == before
    assert migrate.is_current(new_engine)


def test_downgrade_to_base_and_upgrade_again(new_engine: Engine) -> None:
    migrate.upgrade(new_engine)
    first = snapshot(new_engine)
    migrate.downgrade(new_engine, "base")
    assert app_tables(new_engine) == set()
    assert migrate.current_revision(new_engine) is None
    assert not migrate.is_current(new_engine)
    migrate.upgrade(new_engine)
    assert migrate.is_current(new_engine)
    assert_matches_metadata(new_engine)
    assert snapshot(new_engine) == first
    # The rebuilt schema takes rows.
    with new_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (cm_id, subdomain, name, timezone, created_at) "
                "VALUES (1, 'x', 'X', 'UTC', CURRENT_TIMESTAMP)"
            )
        )
        assert conn.scalar(text("SELECT count(*) FROM accounts")) == 1


def test_autogenerate_finds_no_difference(new_engine: Engine) -> None:
    migrate.upgrade(new_engine)
    with new_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []
