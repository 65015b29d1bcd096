"""Accounts (tenants) and the one place where queries are scoped to an account.

Every read or write of tenant data starts from `scoped(...)`, `scoped_select(...)`,
`scoped_update(...)` or `scoped_delete(...)`: a statement already filtered by the account's
id. Nothing else in the code filters by `account_id` for access control.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Delete, FromClause, Select, Table, Update, delete, select, update


@dataclass(frozen=True)
class Account:
    id: int
    cm_id: int
    subdomain: str
    name: str
    timezone: str

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_row(cls, row: Any) -> Account:
        return cls(
            id=row.id, cm_id=row.cm_id, subdomain=row.subdomain, name=row.name,
            timezone=row.timezone,
        )


def scoped(account: Account, table: FromClause, *columns: Any) -> Select[Any]:
    """SELECT from `table` (or of `columns` from it), already limited to the account."""
    statement = select(*columns).select_from(table) if columns else _all_columns(table)
    return statement.where(table.c.account_id == account.id)


@cache
def _all_columns(table: FromClause) -> Select[Any]:
    # Built once per table: selecting every column of a wide table costs more to build
    # than to run.
    return select(table)


def scoped_select(account: Account, statement: Select[Any], *tables: FromClause) -> Select[Any]:
    """A prebuilt `statement` over `tables` (a join), limited to the account in each."""
    return statement.where(*(table.c.account_id == account.id for table in tables))


def scoped_update(account: Account, table: Table) -> Update:
    return update(table).where(table.c.account_id == account.id)


def scoped_delete(account: Account, table: Table) -> Delete:
    return delete(table).where(table.c.account_id == account.id)
