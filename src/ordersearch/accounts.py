"""Accounts, API users and employees: the administration used by the CLI and auth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ordersearch.db.tables import accounts, api_users, employees
from ordersearch.errors import InvalidRequest, NotFound
from ordersearch.tenancy import Account, scoped
from ordersearch.values import fold, utc_now

ROLES = ("read", "write")
SUBDOMAIN_RE = re.compile(r"[a-z0-9-]{1,63}")

# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
password_hasher = PasswordHasher()


@dataclass(frozen=True)
class ApiUser:
    id: int
    username: str
    role: str
    enabled: bool
    version: int
    password_hash: str
    account: Account


def create_account(
    conn: Connection, *, cm_id: int, subdomain: str, name: str, timezone: str = "UTC"
) -> Account:
    if cm_id <= 0:
        raise InvalidRequest.single("cmId", f"{cm_id} must be an integer > 0")
    if not SUBDOMAIN_RE.fullmatch(subdomain):
        raise InvalidRequest.single("subdomain", f"{subdomain!r} must match [a-z0-9-]{{1,63}}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest.single("timezone", f"{timezone!r} is not an IANA timezone") from None
    if conn.scalar(select(accounts.c.id).where(accounts.c.cm_id == cm_id)) is not None:
        raise InvalidRequest.single("cmId", f"an account with cmId {cm_id} exists already")
    if conn.scalar(select(accounts.c.id).where(accounts.c.subdomain == subdomain)) is not None:
        raise InvalidRequest.single("subdomain", f"subdomain {subdomain!r} is taken")
    account_id = conn.execute(
        insert(accounts).values(
            cm_id=cm_id, subdomain=subdomain, name=name, timezone=timezone, created_at=utc_now()
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return Account(account_id, cm_id, subdomain, name, timezone)


def get_account(conn: Connection, cm_id: int) -> Account:
    row = conn.execute(select(accounts).where(accounts.c.cm_id == cm_id)).first()
    if row is None:
        raise NotFound(f"no account with cmId {cm_id}")
    return Account.from_row(row)


def find_account(conn: Connection, cm_id: int) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.cm_id == cm_id)).first()
    return None if row is None else Account.from_row(row)


def create_user(
    conn: Connection, account: Account, *, username: str, password: str, role: str = "read"
) -> int:
    if role not in ROLES:
        raise InvalidRequest.single("role", f"{role!r} must be one of {', '.join(ROLES)}")
    if not username or ":" in username or len(username) > 255:
        raise InvalidRequest.single("username", f"{username!r} must be 1-255 characters, no ':'")
    _check_password(password)
    try:
        with conn.begin_nested():
            return conn.execute(
                insert(api_users).values(
                    account_id=account.id, username=username,
                    password_hash=password_hasher.hash(password), role=role, enabled=True,
                    version=1, updated_at=utc_now(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
    except IntegrityError:
        raise InvalidRequest.single("username", f"{username!r} is taken") from None


def _check_password(password: str) -> None:
    if not password:
        raise InvalidRequest.single("password", "must not be empty")
    if len(password) > 1024:
        raise InvalidRequest.single("password", "must be at most 1024 characters")


def _change_user(conn: Connection, username: str, **values: Any) -> None:
    result = conn.execute(
        update(api_users)
        .where(api_users.c.username == username)
        .values(version=api_users.c.version + 1, updated_at=utc_now(), **values)
    )
    if result.rowcount == 0:
        raise NotFound(f"no user {username!r}")


def disable_user(conn: Connection, username: str) -> None:
    _change_user(conn, username, enabled=False)


def enable_user(conn: Connection, username: str) -> None:
    _change_user(conn, username, enabled=True)


def set_password(conn: Connection, username: str, password: str) -> None:
    _check_password(password)
    _change_user(conn, username, password_hash=password_hasher.hash(password))


# Built once: every authenticated request runs it, and building a statement costs more
# than running this one.
_USER_BY_NAME = (
    select(
        api_users.c.id, api_users.c.username, api_users.c.role, api_users.c.enabled,
        api_users.c.version, api_users.c.password_hash,
        accounts.c.id.label("account_id"), accounts.c.cm_id, accounts.c.subdomain,
        accounts.c.name, accounts.c.timezone,
    )
    .join(accounts, accounts.c.id == api_users.c.account_id)
    .where(api_users.c.username == bindparam("username"))
)


def load_user(conn: Connection, username: str) -> ApiUser | None:
    row = conn.execute(_USER_BY_NAME, {"username": username}).first()
    if row is None:
        return None
    account = Account(row.account_id, row.cm_id, row.subdomain, row.name, row.timezone)
    return ApiUser(
        row.id, row.username, row.role, bool(row.enabled), row.version, row.password_hash, account
    )


@dataclass(frozen=True)
class Employee:
    emp_id: int
    code: str
    name: str
    email: str | None


def add_employee(
    conn: Connection,
    account: Account,
    *,
    code: str,
    name: str,
    email: str | None = None,
    emp_id: int | None = None,
) -> Employee:
    """Register an employee; the id defaults to the next free one in the account."""
    if not code.strip():
        raise InvalidRequest.single("code", "must not be empty")
    if not name.strip():
        raise InvalidRequest.single("name", "must not be empty")
    existing = scoped(account, employees, employees.c.id).where(employees.c.code == code)
    if conn.scalar(existing) is not None:
        raise InvalidRequest.single("code", f"employee code {code!r} exists already")
    if emp_id is None:
        highest = conn.scalar(scoped(account, employees, func.max(employees.c.emp_id)))
        emp_id = (highest or 0) + 1
    elif conn.scalar(
        scoped(account, employees, employees.c.id).where(employees.c.emp_id == emp_id)
    ) is not None:
        raise InvalidRequest.single("id", f"employee id {emp_id} exists already")
    email = email.strip() if email and email.strip() else None
    conn.execute(
        insert(employees).values(
            account_id=account.id, emp_id=emp_id, code=code, name=name, email=email,
            email_folded=fold(email) if email else None,
        )
    )
    return Employee(emp_id, code, name, email)


def resolve_employee(
    conn: Connection, account: Account, *, code: str | None = None, email: str | None = None
) -> int | None:
    """The id of the account's employee with this code (or email), None when there is none."""
    statement = scoped(account, employees, employees.c.emp_id)
    if code is not None:
        statement = statement.where(employees.c.code == code.strip())
    elif email is not None:
        statement = statement.where(employees.c.email_folded == fold(email))
    else:
        return None
    return conn.scalar(statement.limit(1))
