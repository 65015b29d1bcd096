"""`PullQuery` -> SQLAlchemy Core statements: the count, and one page of rows."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, collate, func, or_, select, tuple_

from ordersearch.db.tables import customers, orders
from ordersearch.search.cursor import Cursor
from ordersearch.search.filters import Related
from ordersearch.search.parse import PullQuery
from ordersearch.search.render import VIEW_FIELDS
from ordersearch.search.sorting import Sort
from ordersearch.tenancy import Account, scoped, scoped_select

# Every column a page row may carry, by the name render.py and sorting.py read it under.
_ROW_COLUMNS: dict[str, ColumnElement[Any]] = {
    **{column.key: column for column in orders.c},
    "customer_name": customers.c.name.label("customer_name"),
    "customer_phone": customers.c.phone.label("customer_phone"),
    "customer_email": customers.c.email.label("customer_email"),
    "customer_name_folded": customers.c.name_folded.label("customer_name_folded"),
}


@cache
def _projection(view: int, sort_key: str) -> Select[Any]:
    """The page's columns over orders joined to their customers, built once per shape:
    building a select of twenty-odd columns costs more than running it."""
    names = {"id", "customer_id", "enquiry_id", sort_key}
    names.update(row_key for _, row_key in VIEW_FIELDS[view])
    if view == 3:
        names.add("additional_fields")
    columns = [column for name, column in _ROW_COLUMNS.items() if name in names]
    return select(*columns).select_from(
        orders.join(customers, customers.c.id == orders.c.customer_id)
    )


def _where(account: Account, query: PullQuery) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    related: dict[str, tuple[Related, list[ColumnElement[bool]]]] = {}
    for applied in query.filters:
        condition = applied.spec.condition
        if isinstance(condition, Related):
            _, inner = related.setdefault(condition.table.name, (condition, []))
            inner.append(condition.inner(applied.value))
        else:
            clauses.append(condition(account, applied.value))
    for condition, inner in related.values():
        table = condition.table
        clauses.append(condition.key.in_(scoped(account, table, table.c.id).where(*inner)))
    return clauses


def count_statement(account: Account, query: PullQuery) -> Select[Any]:
    return scoped(account, orders, func.count()).where(*_where(account, query))


def _sort_column(sort: Sort, dialect: str) -> ColumnElement[Any]:
    column = sort.field.column
    if sort.field.is_text and dialect == "postgresql":
        # Code-point order, as SQLite's BINARY collation, whatever the server's locale.
        return collate(column, "C")
    return column


def _after(sort: Sort, column: ColumnElement[Any], cursor: Cursor) -> ColumnElement[bool]:
    """Rows strictly after the cursor's row in (value, order id) order, nulls last.

    Written as a row-value comparison so both backends can seek in the sort index.
    """
    if sort.field.name == "orderId":
        key, last = orders.c.id, cursor.order_id
        return key < last if sort.descending else key > last
    beyond_id = orders.c.id < cursor.order_id if sort.descending else orders.c.id > cursor.order_id
    if cursor.sort_value is None:
        return and_(column.is_(None), beyond_id)
    key_pair, last_pair = tuple_(column, orders.c.id), tuple_(cursor.sort_value, cursor.order_id)
    beyond = key_pair < last_pair if sort.descending else key_pair > last_pair
    return or_(beyond, column.is_(None)) if sort.field.nullable else beyond


def page_statement(account: Account, query: PullQuery, dialect: str) -> Select[Any]:
    sort = query.sort
    column = _sort_column(sort, dialect)
    statement = scoped_select(
        account, _projection(query.view, sort.field.row_key), orders, customers
    ).where(*_where(account, query))
    if query.cursor is not None:
        statement = statement.where(_after(sort, column, query.cursor))
    direction = (lambda c: c.desc()) if sort.descending else (lambda c: c.asc())
    ordering = [direction(orders.c.id)]
    if sort.field.name != "orderId":
        ordering = [direction(column), *ordering]
        if sort.field.nullable:
            # `IS NULL` sorts false (0) before true (1): nulls last in both directions.
            ordering.insert(0, column.is_(None).asc())
    # A page of `limit` rows plus one tells whether another page follows.
    return statement.order_by(*ordering).offset(query.offset).limit(query.limit + 1)


def sort_value(query: PullQuery, row: Any) -> Any:
    """The value the cursor remembers for a row: what the sort column holds."""
    return getattr(row, query.sort.field.row_key)
