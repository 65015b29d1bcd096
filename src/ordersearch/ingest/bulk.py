"""The set-based path of a batch: plain new orders written with a few multi-row inserts.

Most elements of a large import are new orders of new customers: nothing to find, nothing
to merge. For those, one multi-row INSERT per table (with RETURNING ids) replaces the
dozen single-row statements the per-element path runs. An element takes this path only
when the per-element path would provably write the same rows:

- it names no id (order, customer, contact, enquiry) and no employee by code or email;
- it names a customer (the per-element path refuses an element without one);
- none of its identities (erp_order_id, customer_code, phone, email) is held by an order
  or customer of the account, nor named by any other element of the batch, so the
  per-element path would find nothing and the order of the batch does not matter;
- its contacts share no phone or email (the per-element path would merge those).

Every other element goes through the per-element path (`service._apply`), in its own
savepoint. If the multi-row inserts fail, they are undone and their elements take the
per-element path too. tests/ingest/test_bulk.py checks that a batch leaves the same
rows as the same elements applied one at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, insert, or_

from ordersearch.db.tables import contacts, customers, enquiries, order_fields, order_items, orders
from ordersearch.ingest.parse import ITEM, Element, Record
from ordersearch.ingest.rows import additional_field_rows, new_row
from ordersearch.tenancy import Account, scoped
from ordersearch.values import fold, phone_digits, phone_last10, utc_now

ITEM_COLUMNS = tuple(column for column, _ in ITEM.columns.values())


def item_rows(account_id: int, order_id: int, items: Iterable[Record]) -> list[dict[str, Any]]:
    """`order_items` rows of an order, in the order sent (both write paths use it)."""
    return [
        {"account_id": account_id, "order_id": order_id, "position": position,
         **{column: item.values.get(column) for column in ITEM_COLUMNS}}
        for position, item in enumerate(items)
    ]


def _phone_key(phone: Any) -> str:
    digits = phone_digits(phone)
    return phone_last10(digits) or digits


def match_keys(values: Any) -> set[str]:
    """The keys the per-element path may find a customer (code, phone, email) or, within
    its customer, a contact (phone, email) by."""
    keys = set()
    if values.get("customer_code"):
        keys.add(f"code:{values['customer_code']}")
    if values.get("phone"):
        keys.add(f"phone:{_phone_key(values['phone'])}")
    if values.get("email"):
        keys.add(f"email:{fold(values['email'])}")
    return keys


def identities(element: Element) -> set[str]:
    """What the element could find an existing order or customer by."""
    keys = match_keys(element.customer.values)
    if element.order.values.get("erp_order_id"):
        keys.add(f"erp:{element.order.values['erp_order_id']}")
    return keys


def _names_nothing_existing(element: Element) -> bool:
    records: Iterable[Record] = (element.customer, element.enquiry, element.order,
                                 *element.contacts)
    if any(record.id is not None or record.employees for record in records):
        return False
    return element.customer.given


def _taken(conn: Connection, account: Account, keys: set[str]) -> set[str]:
    """The keys among `keys` that an order or customer of the account holds already."""
    by_kind: dict[str, list[str]] = {"code": [], "phone": [], "email": [], "erp": []}
    for key in keys:
        kind, _, value = key.partition(":")
        by_kind[kind].append(value)
    taken: set[str] = set()
    if by_kind["erp"]:
        found = conn.scalars(
            scoped(account, orders, orders.c.erp_order_id)
            .where(orders.c.erp_order_id.in_(by_kind["erp"]))
        )
        taken.update(f"erp:{value}" for value in found)
    phones = by_kind["phone"]
    conditions = [
        condition for condition, wanted in (
            (customers.c.customer_code.in_(by_kind["code"]), by_kind["code"]),
            (customers.c.phone_last10.in_([p for p in phones if len(p) == 10]), phones),
            (customers.c.phone_digits.in_([p for p in phones if len(p) != 10]), phones),
            (customers.c.email_folded.in_(by_kind["email"]), by_kind["email"]),
        ) if wanted
    ]
    if conditions:
        for row in conn.execute(
            scoped(account, customers, customers.c.customer_code, customers.c.phone,
                   customers.c.email).where(or_(*conditions))
        ):
            taken.update(match_keys(
                {"customer_code": row.customer_code, "phone": row.phone, "email": row.email}
            ))
    return taken & keys


@dataclass(frozen=True)
class Plan:
    """Which elements the multi-row inserts write, and who creates whose customer."""

    positions: list[int]  # in the batch, ascending
    elements: list[Element]  # the elements at those positions
    creators: list[int]  # for each, the index (in `elements`) of the one creating its customer


def plain_new_orders(
    conn: Connection, account: Account, elements: Sequence[Element | None]
) -> Plan:
    """The elements the multi-row inserts may write (see the module doc). `None` stands for
    an element that failed to parse.

    Elements naming exactly the same customer identities form a group: the first creates
    the customer and the others are attached to it, as the per-element path would find it;
    a group qualifies when no later member asks to update the customer and no two contacts
    of the group share a phone or email."""
    keys_of = [identities(e) if e is not None else set() for e in elements]
    customer_keys = [
        frozenset(match_keys(e.customer.values)) if e is not None else frozenset()
        for e in elements
    ]
    namers: dict[str, list[int]] = defaultdict(list)
    for index, keys in enumerate(keys_of):
        for key in keys:
            namers[key].append(index)
    plain = {
        index for index, element in enumerate(elements)
        if element is not None and _names_nothing_existing(element)
    }
    groups: dict[Any, list[int]] = {}
    for index in sorted(plain):
        own = customer_keys[index]
        # Its order identity is its own; each customer identity is named only by elements
        # naming the same customer (a name-only customer is always a new one).
        if all(len(namers[key]) == 1 for key in keys_of[index] - own) and all(
            j in plain and customer_keys[j] == own for key in own for j in namers[key]
        ):
            groups.setdefault(own or ("alone", index), []).append(index)
    groups = {
        key: members for key, members in groups.items()
        # A member that failed its own checks names the customer too: then none qualifies.
        if all(namers[identity] == members for identity in customer_keys[members[0]])
        and _group_is_plain([elements[i] for i in members])
    }
    if not groups:
        return Plan([], [], [])
    wanted = set().union(*(keys_of[i] for members in groups.values() for i in members))
    taken = _taken(conn, account, wanted)
    creator: dict[int, int] = {}
    for members in groups.values():
        if not any(keys_of[i] & taken for i in members):
            creator.update((i, members[0]) for i in members)
    positions = sorted(creator)
    index_of = {position: k for k, position in enumerate(positions)}
    chosen = [element for p in positions if (element := elements[p]) is not None]
    return Plan(positions, chosen, [index_of[creator[p]] for p in positions])


def _group_is_plain(members: list[Element | None]) -> bool:
    later = [m for m in members[1:] if m is not None]
    if any(member.customer.update for member in later):
        return False
    contact_keys = [
        key for m in members if m is not None for c in m.contacts for key in match_keys(c.values)
    ]
    return len(contact_keys) == len(set(contact_keys))


@dataclass(frozen=True)
class Written:
    order_id: int
    customer_id: int
    enquiry_id: int | None


def _insert_returning_ids(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    result = conn.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [int(row_id) for row_id in result.scalars()]


def write_new_orders(
    conn: Connection, account: Account, elements: list[Element], creators: list[int]
) -> list[Written]:
    """Insert each element's customer (when `creators[k] == k`; else element k gets the
    customer of element `creators[k]`), contacts, enquiry, order, items and
    additional-field index rows, one multi-row statement per table. The caller holds a
    savepoint."""
    now = utc_now()

    def row(table: Table, values: Any, **on_insert: Any) -> dict[str, Any]:
        return new_row(table, account.id, now, values, on_insert)

    creating = [k for k, creator in enumerate(creators) if creator == k]
    new_customer_ids = _insert_returning_ids(
        conn, customers, [row(customers, elements[k].customer.values) for k in creating]
    )
    customer_of = dict(zip(creating, new_customer_ids, strict=True))
    customer_ids = [customer_of[creator] for creator in creators]
    contact_rows = [
        row(contacts, contact.values, customer_id=customer_id)
        for element, customer_id in zip(elements, customer_ids, strict=True)
        for contact in element.contacts
    ]
    if contact_rows:
        conn.execute(insert(contacts), contact_rows)
    with_enquiry = [k for k, e in enumerate(elements) if e.enquiry.given]
    enquiry_ids: list[int | None] = [None] * len(elements)
    new_enquiry_ids = _insert_returning_ids(conn, enquiries, [
        row(enquiries, elements[k].enquiry.values, customer_id=customer_ids[k], create_date=now)
        for k in with_enquiry
    ])
    for k, enquiry_id in zip(with_enquiry, new_enquiry_ids, strict=True):
        enquiry_ids[k] = enquiry_id
    order_rows = []
    for element, customer_id, maybe_enquiry in zip(elements, customer_ids, enquiry_ids,
                                                   strict=True):
        values = {**element.order.values, "customer_id": customer_id}
        if maybe_enquiry is not None:
            values["enquiry_id"] = maybe_enquiry
        order_rows.append(row(orders, values, create_date=now))
    order_ids = _insert_returning_ids(conn, orders, order_rows)
    items = [
        row for element, order_id in zip(elements, order_ids, strict=True)
        for row in item_rows(account.id, order_id, element.items)
    ]
    if items:
        conn.execute(insert(order_items), items)
    field_rows = [
        field_row
        for element, order_id in zip(elements, order_ids, strict=True)
        for field_row in additional_field_rows(
            account.id, order_id, element.order.values.get("additional_fields")
        )
    ]
    if field_rows:
        conn.execute(insert(order_fields), field_rows)
    return [
        Written(order_id, customer_id, enquiry_id)
        for order_id, customer_id, enquiry_id in zip(order_ids, customer_ids, enquiry_ids,
                                                     strict=True)
    ]
