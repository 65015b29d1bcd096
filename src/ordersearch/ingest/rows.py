"""Derived columns, computed in one place for every writer (ingest, import, demo, bench).

Given the values a client sent for a table, `with_derived` adds the columns the search
compares against: casefolded copies of text, the digits of phones, the number behind an
amount. Writers never set `*_folded`, `phone_digits`, `phone_last10` or `amount_value`
themselves.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Table

from ordersearch.values import fold, phone_digits, phone_last10


@cache
def _derivations(table: Table) -> tuple[frozenset[str], bool, bool]:
    """Which derived columns a table has: folded text keys, phone digits, amount value."""
    names = set(table.c.keys())
    folded = frozenset(name[: -len("_folded")] for name in names if name.endswith("_folded"))
    return folded, "phone_digits" in names, "amount_value" in names


def with_derived(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    folded_keys, has_phone, has_amount = _derivations(table)
    derived = dict(values)
    for key, value in values.items():
        if key in folded_keys:
            derived[f"{key}_folded"] = None if value is None else fold(str(value))
    if has_phone and "phone" in values:
        digits = phone_digits(values["phone"]) if values["phone"] else ""
        derived["phone_digits"] = digits or None
        derived["phone_last10"] = phone_last10(digits)
    if has_amount and "amount" in values:
        amount = values["amount"]
        derived["amount_value"] = None if amount is None else float(Decimal(amount))
    return derived


@cache
def _insert_columns(table: Table) -> tuple[str, ...]:
    return tuple(column.key for column in table.c if not column.primary_key)


def insert_row(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """A new row with derived columns and every other column given (None when not sent):
    inserts of one table then share one compiled statement."""
    return with_derived(table, {**dict.fromkeys(_insert_columns(table)), **values})


def new_row(
    table: Table, account_id: int, now: Any, values: Any, on_insert: Any = None
) -> dict[str, Any]:
    """A new row as every writer inserts it: defaults (`on_insert`), then what was sent,
    then the stamps the table has and the account."""
    stamps = {name: now for name in ("created_at", "updated_at") if name in table.c}
    return insert_row(table, {**(on_insert or {}), **values, **stamps, "account_id": account_id})


def field_text(value: Any) -> str | None:
    """An additional field's value as the text it is compared as."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    try:
        return orjson.dumps(value).decode()
    except (TypeError, RecursionError):
        raise ValueError("is nested too deeply or not JSON") from None


def additional_field_rows(
    account_id: int, order_id: int, fields: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """One `order_fields` row per additional field, for indexed `additionalFields` filters."""
    rows = []
    for key, value in (fields or {}).items():
        text = field_text(value)
        rows.append(
            {
                "account_id": account_id,
                "order_id": order_id,
                "key_folded": fold(str(key)),
                "value_folded": None if text is None else fold(text),
            }
        )
    return rows
