"""Page rows -> the JSON orders of views 1, 2 and 3."""

from __future__ import annotations

from collections import defaultdict
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, DateTime

from ordersearch.db.tables import (
    ATTR_NAMES,
    contacts,
    customers,
    enquiries,
    order_items,
    orders,
)
from ordersearch.tenancy import Account, scoped
from ordersearch.values import render_datetime

# Response key -> page row key, in answer order. View 1 takes the keys in COMPACT_KEYS.
ORDER_FIELDS: tuple[tuple[str, str], ...] = (
    ("orderId", "id"),
    ("erpOrderId", "erp_order_id"),
    ("erpInvoiceId", "erp_invoice_id"),
    ("clientReferenceId", "client_reference_id"),
    ("customerId", "customer_id"),
    ("customerName", "customer_name"),
    ("customerPhone", "customer_phone"),
    ("customerEmail", "customer_email"),
    ("enquiryId", "enquiry_id"),
    ("createDate", "create_date"),
    ("bookingStatus", "booking_status"),
    ("bookingSubStatus", "booking_sub_status"),
    ("bookingDate", "booking_date"),
    ("agreementDate", "agreement_date"),
    ("creatorId", "creator_id"),
    ("assignId", "assign_id"),
    ("zoneId", "zone_id"),
    ("blockId", "block_id"),
    ("unitId", "unit_id"),
    ("approvalDesignationId", "approval_designation_id"),
    ("approvedById", "approved_by_id"),
    ("pricingStatus", "pricing_status"),
    ("amount", "amount"),
    ("currency", "currency"),
    ("paymentMode", "payment_mode"),
    ("orderType", "order_type"),
    ("remarks", "remarks"),
    *((name, name) for name in ATTR_NAMES),
    ("updatedAt", "updated_at"),
)
COMPACT_KEYS = frozenset(
    {
        "orderId", "erpOrderId", "clientReferenceId", "customerId", "enquiryId", "createDate",
        "bookingStatus", "bookingSubStatus", "updatedAt",
    }
)
VIEW_FIELDS = {
    1: tuple(pair for pair in ORDER_FIELDS if pair[0] in COMPACT_KEYS),
    2: ORDER_FIELDS,
    3: ORDER_FIELDS,
}

CUSTOMER_FIELDS = (
    ("customerId", "id"), ("customerCode", "customer_code"), ("name", "name"),
    ("phone", "phone"), ("email", "email"), ("address", "address"), ("city", "city"),
    ("state", "state"), ("country", "country"), ("pincode", "pincode"), ("zone", "zone"),
    ("additionalFields", "additional_fields"),
)
CONTACT_FIELDS = (("contactId", "id"), ("name", "name"), ("phone", "phone"), ("email", "email"))
ENQUIRY_FIELDS = (
    ("enquiryId", "id"), ("status", "status"), ("subStatus", "sub_status"),
    ("priority", "priority"), ("assignEmpId", "assign_emp_id"), ("creatorId", "creator_id"),
    ("secondarySourceId", "secondary_source_id"), ("createDate", "create_date"),
    ("nextFollowUpDate", "next_follow_up_date"), ("lastFollowUpDate", "last_follow_up_date"),
    ("expectedClosureDate", "expected_closure_date"), ("updatedAt", "updated_at"),
)
ITEM_FIELDS = (
    ("skuId", "sku_id"), ("productName", "product_name"), ("rate", "rate"),
    ("quantity", "quantity"), ("discount", "discount"),
)


# Page row keys that hold datetimes (naive UTC), rendered in the account's timezone.
_DATETIME_KEYS = frozenset(
    column.key
    for table in (orders, customers, contacts, enquiries, order_items)
    for column in table.c
    if isinstance(column.type, DateTime)
)


def _shape_all(
    rows: list[Any], fields: tuple[tuple[str, str], ...], tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Rows -> dicts. Positions and the datetime keys are found once per result, and the
    per-row work is C-level (itemgetter, zip): an export shapes millions of rows."""
    if not rows:
        return []
    position = {name: i for i, name in enumerate(rows[0]._fields)}
    keys = tuple(key for key, _ in fields)
    indexes = [position[row_key] for _, row_key in fields]
    pick = itemgetter(*indexes) if len(indexes) > 1 else lambda row: (row[indexes[0]],)
    dated = [key for key, row_key in fields if row_key in _DATETIME_KEYS]
    shaped = []
    for values in map(pick, rows):
        order = dict(zip(keys, values, strict=True))
        for key in dated:
            moment = order[key]
            if moment is not None:
                order[key] = render_datetime(moment, tz)
        shaped.append(order)
    return shaped


def _shape(row: Any, fields: tuple[tuple[str, str], ...], tz: ZoneInfo) -> dict[str, Any]:
    return _shape_all([row], fields, tz)[0]


def render_orders(
    conn: Connection, account: Account, rows: list[Any], view: int
) -> list[dict[str, Any]]:
    tz = account.tz
    rendered = _shape_all(rows, VIEW_FIELDS[view], tz)
    if view == 3 and rows:
        _add_full_details(conn, account, rows, rendered)
    return rendered


def _add_full_details(
    conn: Connection, account: Account, rows: list[Any], rendered: list[dict[str, Any]]
) -> None:
    """View 3: items, additional fields, the customer with contacts, the enquiry.

    Four queries for the whole page, not four per order.
    """
    tz = account.tz
    order_ids = [row.id for row in rows]
    customer_ids = list({row.customer_id for row in rows})
    enquiry_ids = list({row.enquiry_id for row in rows if row.enquiry_id is not None})

    items_by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in conn.execute(
        scoped(account, order_items)
        .where(order_items.c.order_id.in_(order_ids))
        .order_by(order_items.c.order_id, order_items.c.position)
    ):
        items_by_order[item.order_id].append(_shape(item, ITEM_FIELDS, tz))

    contacts_by_customer: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for contact in conn.execute(
        scoped(account, contacts)
        .where(contacts.c.customer_id.in_(customer_ids))
        .order_by(contacts.c.id)
    ):
        contacts_by_customer[contact.customer_id].append(_shape(contact, CONTACT_FIELDS, tz))

    customers_by_id = {
        customer.id: {
            **_shape(customer, CUSTOMER_FIELDS, tz),
            "contacts": contacts_by_customer.get(customer.id, []),
        }
        for customer in conn.execute(
            scoped(account, customers).where(customers.c.id.in_(customer_ids))
        )
    }
    enquiries_by_id = {
        enquiry.id: _shape(enquiry, ENQUIRY_FIELDS, tz)
        for enquiry in conn.execute(
            scoped(account, enquiries).where(enquiries.c.id.in_(enquiry_ids))
        )
    } if enquiry_ids else {}

    for row, order in zip(rows, rendered, strict=True):
        order["items"] = items_by_order.get(row.id, [])
        order["additionalFields"] = row.additional_fields or {}
        order["customer"] = customers_by_id.get(row.customer_id)
        order["enquiry"] = enquiries_by_id.get(row.enquiry_id) if row.enquiry_id else None
