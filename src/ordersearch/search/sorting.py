"""`sortParam`: which columns can order the answer, and in which direction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from ordersearch.db.tables import customers, orders


@dataclass(frozen=True)
class SortField:
    name: str
    column: ColumnElement[Any]
    row_key: str  # the column's label in a page row
    # Text sorts compare code points on both backends (see query.py), never a locale.
    is_text: bool = False

    @property
    def nullable(self) -> bool:
        return bool(getattr(self.column, "nullable", True))


SORT_FIELDS: dict[str, SortField] = {
    field.name: field
    for field in (
        SortField("orderId", orders.c.id, "id"),
        SortField("createDate", orders.c.create_date, "create_date"),
        SortField("updatedAt", orders.c.updated_at, "updated_at"),
        SortField("bookingDate", orders.c.booking_date, "booking_date"),
        SortField("agreementDate", orders.c.agreement_date, "agreement_date"),
        SortField("amount", orders.c.amount_value, "amount_value"),
        SortField("customerName", customers.c.name_folded, "customer_name_folded", is_text=True),
        SortField("erpOrderId", orders.c.erp_order_id, "erp_order_id", is_text=True),
    )
}
_BY_LOWER_NAME = {name.lower(): field for name, field in SORT_FIELDS.items()}


@dataclass(frozen=True)
class Sort:
    field: SortField
    descending: bool


def parse_sort(text: str | None) -> Sort:
    """`field`, `field asc|desc` or `-field`; default `createDate desc`."""
    if text is None:
        return Sort(SORT_FIELDS["createDate"], True)
    parts = text.split()
    descending = False
    if len(parts) == 2 and parts[1].lower() in ("asc", "desc"):
        descending = parts[1].lower() == "desc"
        name = parts[0]
    elif len(parts) == 1:
        name = parts[0]
        if name.startswith("-"):
            descending, name = True, name[1:]
        elif name.startswith("+"):
            name = name[1:]
    else:
        raise ValueError(f"{text!r} is not 'field', 'field asc|desc' or '-field'")
    field = _BY_LOWER_NAME.get(name.lower())
    if field is None:
        raise ValueError(f"{name!r} is not a sortable field")
    return Sort(field, descending)
