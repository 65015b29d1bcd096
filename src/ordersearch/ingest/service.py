"""Add / update orders (contract §3): find or create the customer, its contacts, the
enquiry and the order of each element, all of it in one transaction.

Update rules, in one place:
- Non-empty values sent overwrite stored ones; empty ones change nothing. A found customer
  or enquiry is only changed when its section says `"update": true`; a found contact and
  the order are always changed.
- JSON objects (`additional_fields`, and `extra`, where Kapture's other fields are kept)
  are merged key by key into the stored ones: a push that sends one additional field does
  not drop the others, and there is no way to delete a key (a blank value is "not given").
- `product_details`, when it holds at least one non-blank item, replaces the order's items.
- `order_fields` (the index behind `additionalFields` filters) is rewritten from the stored
  `additional_fields` on every write of an order, so the two never disagree.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Row, Table, insert, or_, text
from sqlalchemy.exc import OperationalError

from ordersearch.accounts import resolve_employee
from ordersearch.api.observability import count_ingest
from ordersearch.db.engine import Database
from ordersearch.db.tables import (
    contacts,
    customers,
    enquiries,
    order_fields,
    order_items,
    orders,
)
from ordersearch.errors import FieldError, InvalidRequest, NotFound, OrderSearchError
from ordersearch.ingest import bulk
from ordersearch.ingest.parse import Element, Record, parse_element
from ordersearch.ingest.rows import additional_field_rows, new_row, with_derived
from ordersearch.tenancy import Account, scoped, scoped_delete, scoped_update
from ordersearch.values import fold, phone_digits, phone_last10, show, utc_now

MAX_BATCH = 1000

logger = logging.getLogger("ordersearch.ingest")


def add_update(database: Database, account: Account, body: Any) -> Any:
    """The add-update endpoint: one object answers one result (or raises); an array of up
    to MAX_BATCH objects answers a list of results in the same order (`ingest_batch`)."""
    if isinstance(body, dict):
        return ingest_one(database, account, body)
    if not isinstance(body, list):
        raise InvalidRequest.single(
            "body", f"must be an object or an array of objects, not {show(body)}"
        )
    if not body:
        raise InvalidRequest.single("body", f"is an empty array; send 1 to {MAX_BATCH} orders")
    if len(body) > MAX_BATCH:
        raise InvalidRequest.single(
            "body", f"has {len(body)} elements; at most {MAX_BATCH} per request"
        )
    return ingest_batch(database, account, body)


def ingest_one(database: Database, account: Account, raw: Any) -> dict[str, Any]:
    """One element in its own transaction: all of it is written, or (raising) none."""
    try:
        element = parse_element(raw, account)
        with database.write() as conn:
            _lock_identities(conn, account, [element])
            result = _apply(conn, account, element)
    except BaseException:
        count_ingest("failed")
        raise
    _count(result)
    return result


def ingest_batch(
    database: Database, account: Account, bodies: Sequence[Any]
) -> list[dict[str, Any]]:
    """Many elements in one database transaction, each inside its own savepoint: a failed
    element is undone alone and reported in place, the others are committed together.

    Committing once per batch instead of once per element is what makes arrays and
    `ordersearch import` fast (a commit is a WAL flush). The results are returned, and so
    acknowledged, only after the commit; if the commit fails nothing of the batch is kept.
    On PostgreSQL every identity lock of the batch is taken up front in one sorted order,
    so two concurrent batches cannot deadlock.
    """
    results: list[dict[str, Any] | None] = []
    elements: list[Element | None] = []
    for raw in bodies:
        try:
            elements.append(parse_element(raw, account))
            results.append(None)
        except OrderSearchError as exc:
            elements.append(None)
            results.append(_failure_of(exc))
    with database.write() as conn:
        _lock_identities(conn, account, [e for e in elements if e is not None])
        for index, result in _write_plain_new_orders(conn, account, elements):
            results[index] = result
        for index, element in enumerate(elements):
            if element is not None and results[index] is None:
                results[index] = _apply_in_savepoint(conn, account, element)
    done = [result for result in results if result is not None]
    for result in done:
        _count(result)
    return done


def _write_plain_new_orders(
    conn: Connection, account: Account, elements: list[Element | None]
) -> list[tuple[int, dict[str, Any]]]:
    """(position, result) of the elements written by the multi-row inserts (bulk.py); none
    when they failed, so that the per-element path takes (and reports) those elements."""
    plan = bulk.plain_new_orders(conn, account, elements)
    if not plan.elements:
        return []
    try:
        with conn.begin_nested():
            written = bulk.write_new_orders(conn, account, plan.elements, plan.creators)
    except OperationalError:
        raise
    except Exception:
        logger.warning("multi-row insert failed; applying its elements one by one",
                       exc_info=True)
        return []
    return [
        (index, _success(element, None, ids.order_id, ids.customer_id, ids.enquiry_id))
        for index, element, ids in zip(plan.positions, plan.elements, written, strict=True)
    ]


def _apply_in_savepoint(conn: Connection, account: Account, element: Element) -> dict[str, Any]:
    try:
        with conn.begin_nested():
            return _apply(conn, account, element)
    except OrderSearchError as exc:
        return _failure_of(exc)
    except OperationalError:
        raise  # the database itself failed: the whole batch answers 503
    except Exception:
        # One element's bug must not cost the others their writes.
        logger.exception("add-update element failed")
        return _failure("Internal server error", [])


def apply_element(conn: Connection, account: Account, raw: Any) -> dict[str, Any]:
    """One element inside the caller's transaction. A failure undoes this element's writes
    only (a savepoint), so a caller batching many elements keeps the others."""
    element = parse_element(raw, account)
    _lock_identities(conn, account, [element])
    with conn.begin_nested():
        return _apply(conn, account, element)


def _failure_of(exc: OrderSearchError) -> dict[str, Any]:
    errors = exc.errors if isinstance(exc, InvalidRequest) else []
    return _failure(exc.message, [e.as_dict() for e in errors])


def _failure(message: str, errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"status": "failed", "message": message, "errors": errors}


def _count(result: dict[str, Any]) -> None:
    if result["status"] != "success":
        count_ingest("failed")
    elif result["message"].startswith("Order Added"):
        count_ingest("added")
    else:
        count_ingest("updated")


def _apply(conn: Connection, account: Account, element: Element) -> dict[str, Any]:
    enquiry, order = _resolve_employees(conn, account, [element.enquiry, element.order])
    existing = _find_order(conn, account, order)
    customer_id = _save_customer(conn, account, element.customer, existing)
    for contact in element.contacts:
        _save_contact(conn, account, customer_id, contact)
    enquiry_id = _save_enquiry(conn, account, enquiry, customer_id, existing)
    order_id = _save_order(conn, account, order, element.items, customer_id, enquiry_id, existing)
    return _success(element, existing, order_id, customer_id, enquiry_id)


def _success(
    element: Element, existing: Row[Any] | None, order_id: int, customer_id: int,
    enquiry_id: int | None,
) -> dict[str, Any]:
    return {
        "status": "success",
        "message": "Order Added Successfully" if existing is None else "Order Updated Successfully",
        "order_id": order_id,
        "customer_id": customer_id,
        "enquiry_id": enquiry_id,
        "warnings": list(element.warnings),
    }


def _lock_identities(conn: Connection, account: Account, elements: Sequence[Element]) -> None:
    """Serialise concurrent elements that could find-or-create the same order or customer.

    Without this, a push retried while the first attempt is still running would find no
    order on PostgreSQL and create a second one. SQLite needs nothing: its writers hold the
    database lock from BEGIN IMMEDIATE. Locks are taken in one global order (sorted keys),
    so two transactions never wait on each other in a cycle.
    """
    if conn.dialect.name != "postgresql":
        return
    keys = sorted({
        _lock_key(account, identity)
        for element in elements
        for identity in bulk.identities(element)
    })
    if keys:
        # One round trip for a whole batch; the subquery fixes the order they are taken in.
        conn.execute(
            text("SELECT count(pg_advisory_xact_lock(key)) FROM "
                 "(SELECT key FROM unnest(CAST(:keys AS bigint[])) AS key ORDER BY key) AS sorted"),
            {"keys": keys},
        )


def _lock_key(account: Account, identity: str) -> int:
    digest = hashlib.blake2b(f"{account.id}:{identity}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _resolve_employees(
    conn: Connection, account: Account, records: Sequence[Record]
) -> list[Record]:
    """Turn employee codes and emails into ids; every unknown one is reported at once."""
    errors: list[FieldError] = []
    resolved: list[Record] = []
    for record in records:
        values = dict(record.values)
        for ref in record.employees:
            if ref.by == "code":
                emp_id = resolve_employee(conn, account, code=ref.value)
            else:
                emp_id = resolve_employee(conn, account, email=ref.value)
            if emp_id is None:
                errors.append(FieldError(
                    ref.field, f"no employee with {ref.by} {show(ref.value)} in this account"
                ))
            elif values.setdefault(ref.column, emp_id) != emp_id:
                errors.append(FieldError(
                    ref.field,
                    f"{show(ref.value)} is employee {emp_id}, but {ref.column} is "
                    f"{values[ref.column]}",
                ))
        resolved.append(replace(record, values=values, employees=()))
    if errors:
        raise InvalidRequest(errors)
    return resolved


def _by_id(conn: Connection, account: Account, table: Table, row_id: int) -> Row[Any] | None:
    return conn.execute(scoped(account, table).where(table.c.id == row_id)).first()


def _first(
    conn: Connection, account: Account, table: Table, *conditions: ColumnElement[bool]
) -> Row[Any] | None:
    """The oldest row matching: deterministic when several customers share a phone."""
    statement = scoped(account, table).where(*conditions).order_by(table.c.id).limit(1)
    return conn.execute(statement).first()


def _phone_or_email_matches(table: Table, values: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """Phone then email conditions, as the pull API's phone/email filters compare them:
    10+ digits match on the last 10, fewer on exactly those digits; email casefolded."""
    conditions: list[ColumnElement[bool]] = []
    if values.get("phone"):
        digits = phone_digits(values["phone"])
        last10 = phone_last10(digits)
        conditions.append(
            table.c.phone_last10 == last10 if last10 else table.c.phone_digits == digits
        )
    if values.get("email"):
        conditions.append(table.c.email_folded == fold(values["email"]))
    return conditions


def _write(
    conn: Connection,
    account: Account,
    table: Table,
    existing: Row[Any] | None,
    values: Mapping[str, Any],
    on_insert: Mapping[str, Any] | None = None,
) -> int:
    """Insert a row (with `on_insert` defaults under `values`), or overwrite the existing
    row's columns named in `values`, merging JSON objects into the stored ones."""
    # Values go as execution parameters, not `.values(...)`: SQLAlchemy then compiles one
    # statement per set of columns and reuses it, instead of building one per row.
    now = utc_now()
    if existing is None:
        row = new_row(table, account.id, now, values, on_insert)
        result = conn.execute(insert(table), row)
        return int(result.inserted_primary_key[0])  # type: ignore[index]
    stamps = {"updated_at": now} if "updated_at" in table.c else {}
    if values:
        changes = {key: _merged(table, existing, key, value) for key, value in values.items()}
        conn.execute(
            scoped_update(account, table).where(table.c.id == existing.id),
            with_derived(table, {**changes, **stamps}),
        )
    return int(existing.id)


def _merged(table: Table, existing: Row[Any], column: str, value: Any) -> Any:
    stored = getattr(existing, column)
    if isinstance(table.c[column].type, JSON) and isinstance(stored, dict):
        return {**stored, **value}
    return value


def _save_customer(
    conn: Connection, account: Account, record: Record, order: Row[Any] | None
) -> int:
    found = _find_customer(conn, account, record)
    if found is None and order is not None and not _identifies_customer(record):
        # An update that names no customer is about the order's own customer.
        found = _by_id(conn, account, customers, order.customer_id)
    if found is None:
        if not record.given:
            raise InvalidRequest.single(
                "customer_info",
                "is required for a new order: send customer_id, customer_code, phone, "
                "email_id or at least customer_name",
            )
        return _write(conn, account, customers, None, record.values)
    if record.update:
        _write(conn, account, customers, found, record.values)
    return int(found.id)


def _identifies_customer(record: Record) -> bool:
    return record.id is not None or any(
        record.values.get(key) for key in ("customer_code", "phone", "email")
    )


def _find_customer(conn: Connection, account: Account, record: Record) -> Row[Any] | None:
    """By customer_id (404 when not the account's), else customer_code, else phone, else
    email. A phone or email match never takes a customer that has a different code: a
    code names one customer, so a new code with a shared phone is a new customer."""
    if record.id is not None:
        row = _by_id(conn, account, customers, record.id)
        if row is None:
            raise NotFound(f"customer_info.customer_id: no customer {record.id} in this account")
        return row
    code = record.values.get("customer_code")
    if code:
        row = _first(conn, account, customers, customers.c.customer_code == code)
        if row is not None:
            return row
    same_code = [] if not code else [
        or_(customers.c.customer_code.is_(None), customers.c.customer_code == code)
    ]
    for condition in _phone_or_email_matches(customers, record.values):
        row = _first(conn, account, customers, condition, *same_code)
        if row is not None:
            return row
    return None


def _save_contact(conn: Connection, account: Account, customer_id: int, record: Record) -> None:
    """Matched within the customer by contact_id (404 when it is not the customer's), else
    phone, else email; a match gets the non-empty values sent, no match is a new contact."""
    of_customer = contacts.c.customer_id == customer_id
    found: Row[Any] | None = None
    if record.id is not None:
        found = _first(conn, account, contacts, of_customer, contacts.c.id == record.id)
        if found is None:
            raise NotFound(
                f"contact_info.contact_id: no contact {record.id} for customer {customer_id}"
            )
    else:
        for condition in _phone_or_email_matches(contacts, record.values):
            found = _first(conn, account, contacts, of_customer, condition)
            if found is not None:
                break
    _write(conn, account, contacts, found, record.values, on_insert={"customer_id": customer_id})


def _save_enquiry(
    conn: Connection,
    account: Account,
    record: Record,
    customer_id: int,
    order: Row[Any] | None,
) -> int | None:
    """By enquiry_id (404 when not the account's), else the updated order's enquiry, else a
    new one when enquiry_info carries anything. A found enquiry keeps its own customer."""
    found: Row[Any] | None = None
    if record.id is not None:
        found = _by_id(conn, account, enquiries, record.id)
        if found is None:
            raise NotFound(f"enquiry_info.enquiry_id: no enquiry {record.id} in this account")
    elif order is not None and order.enquiry_id is not None:
        found = _by_id(conn, account, enquiries, order.enquiry_id)
    if found is None:
        if not record.given:
            return None
        return _write(
            conn, account, enquiries, None, record.values,
            on_insert={"customer_id": customer_id, "create_date": utc_now()},
        )
    if record.update:
        _write(conn, account, enquiries, found, record.values)
    return int(found.id)


def _find_order(conn: Connection, account: Account, record: Record) -> Row[Any] | None:
    """By order_id (404 when not the account's), else the account's order with the same
    erp_order_id, so that a retried push updates instead of duplicating."""
    if record.id is not None:
        row = _by_id(conn, account, orders, record.id)
        if row is None:
            raise NotFound(f"order_info.order_id: no order {record.id} in this account")
        return row
    erp_order_id = record.values.get("erp_order_id")
    if erp_order_id:
        return _first(conn, account, orders, orders.c.erp_order_id == erp_order_id)
    return None


def _save_order(
    conn: Connection,
    account: Account,
    record: Record,
    items: Sequence[Record],
    customer_id: int,
    enquiry_id: int | None,
    existing: Row[Any] | None,
) -> int:
    values = {**record.values, "customer_id": customer_id}
    if enquiry_id is not None:
        values["enquiry_id"] = enquiry_id
    order_id = _write(
        conn, account, orders, existing, values, on_insert={"create_date": utc_now()}
    )
    if items:
        _replace_items(conn, account, order_id, items)
    _sync_order_fields(conn, account, order_id)
    return order_id


def _replace_items(
    conn: Connection, account: Account, order_id: int, items: Sequence[Record]
) -> None:
    conn.execute(scoped_delete(account, order_items).where(order_items.c.order_id == order_id))
    conn.execute(insert(order_items), bulk.item_rows(account.id, order_id, items))


def _sync_order_fields(conn: Connection, account: Account, order_id: int) -> None:
    # Rebuilt from what is stored, after the merge, rather than from what was sent.
    stored = conn.scalar(
        scoped(account, orders, orders.c.additional_fields).where(orders.c.id == order_id)
    )
    conn.execute(scoped_delete(account, order_fields).where(order_fields.c.order_id == order_id))
    rows = additional_field_rows(account.id, order_id, stored)
    if rows:
        conn.execute(insert(order_fields), rows)
