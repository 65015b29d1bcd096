"""Every Pull Order filter, declared once.

A `FilterSpec` names the body key(s), how the value is parsed (its `kind`) and what it
matches. The same table drives parsing, validation, the at-least-one-filter rule, the SQL,
unknown-key suggestions and docs/pull-orders.md (tests check the docs list every key).

Every condition is written against `orders`, with related records reached through
`orders.<fk> IN (SELECT id FROM <table> WHERE account_id = :account AND ...)`, so each
filter can use an index led by the account and the count query needs no join.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, not_, or_, select, union
from sqlalchemy.sql.elements import ColumnClause

from ordersearch.db.tables import ATTR_NAMES, contacts, customers, enquiries, order_fields, orders
from ordersearch.tenancy import Account, scoped


class Kind(Enum):
    ID_LIST = "id list"  # integers; any of
    TEXT_LIST = "text list"  # case-insensitive exact; any of
    EXACT_LIST = "exact list"  # exact, case kept; any of
    SUBSTRING = "substring"  # case-insensitive substring, wildcards literal
    PHONE = "phone"  # digits compared; any of
    DATE_RANGE = "date range"  # start/end pair
    FIELD_MAP = "field map"  # {key: value} object


# A condition builder gets the account and the parsed value, returns a WHERE clause.
Condition = Callable[[Account, Any], ColumnElement[bool]]


@dataclass(frozen=True)
class Related:
    """A condition on the order's enquiry or customer row.

    query.py merges every Related condition on the same table into ONE
    `orders.<key> IN (SELECT id FROM <table> WHERE account AND c1 AND c2 ...)`, so the
    planner can drive it with the index that fits all of them (e.g. assignee + status)
    instead of intersecting one list per filter.
    """

    table: Table
    key: ColumnClause[Any]  # the orders column that points at `table`
    inner: Callable[[Any], ColumnElement[bool]]


@dataclass(frozen=True)
class FilterSpec:
    key: str
    kind: Kind
    condition: Condition | Related
    description: str
    aliases: tuple[str, ...] = ()
    # DATE_RANGE filters are written as two keys; `key` names the pair in docs.
    start_key: str | None = None
    end_key: str | None = None

    @property
    def body_keys(self) -> tuple[str, ...]:
        if self.kind is Kind.DATE_RANGE:
            assert self.start_key and self.end_key
            return (self.start_key, self.end_key)
        return (self.key, *self.aliases)


@dataclass(frozen=True)
class DateBounds:
    """Naive-UTC bounds: start inclusive; end inclusive or, for a date-only end, exclusive."""

    start: Any = None
    end: Any = None
    end_exclusive: bool = False
    canonical: tuple[str | None, str | None] = field(default=(None, None))


def _in(column: ColumnClause[Any]) -> Condition:
    return lambda _account, values: column.in_(values)


def _via_enquiry(inner: Callable[[Any], ColumnElement[bool]]) -> Related:
    return Related(enquiries, orders.c.enquiry_id, inner)


def _via_customer(inner: Callable[[Any], ColumnElement[bool]]) -> Related:
    return Related(customers, orders.c.customer_id, inner)


def _customer_or_contact(column: str) -> Condition:
    """The customer's own value, or any of their contacts' (phone, email)."""

    def build(account: Account, values: list[str]) -> ColumnElement[bool]:
        owners = union(
            scoped(account, customers, customers.c.id).where(customers.c[column].in_(values)),
            scoped(account, contacts, contacts.c.customer_id).where(
                contacts.c[column].in_(values)
            ),
        )
        return orders.c.customer_id.in_(select(owners.subquery().c[0]))

    return build


def _phone(account: Account, queries: list[str]) -> ColumnElement[bool]:
    # A query of 10+ digits matches on the last 10 digits; a shorter one needs all digits.
    long_queries = [q[-10:] for q in queries if len(q) >= 10]
    short_queries = [q for q in queries if len(q) < 10]
    clauses = []
    if long_queries:
        clauses.append(_customer_or_contact("phone_last10")(account, long_queries))
    if short_queries:
        clauses.append(_customer_or_contact("phone_digits")(account, short_queries))
    return or_(*clauses) if clauses else false()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_contains(folded: str) -> ColumnElement[bool]:
    return customers.c.name_folded.like(f"%{_escape_like(folded)}%", escape="\\")


def _between(column: ColumnClause[Any]) -> Callable[[DateBounds], ColumnElement[bool]]:
    def build(bounds: DateBounds) -> ColumnElement[bool]:
        clauses = []
        if bounds.start is not None:
            clauses.append(column >= bounds.start)
        if bounds.end is not None:
            clauses.append(column < bounds.end if bounds.end_exclusive else column <= bounds.end)
        return and_(*clauses)

    return build


def _order_dates(column: ColumnClause[Any]) -> Condition:
    return lambda _account, bounds: _between(column)(bounds)


def _enquiry_dates(column: ColumnClause[Any]) -> Related:
    return _via_enquiry(_between(column))


def _not_assigned_to(account: Account, ids: list[int]) -> ColumnElement[bool]:
    assigned = scoped(account, enquiries, enquiries.c.id).where(
        enquiries.c.assign_emp_id.in_(ids)
    )
    return or_(orders.c.enquiry_id.is_(None), not_(orders.c.enquiry_id.in_(assigned)))


def _additional_fields(account: Account, pairs: list[tuple[str, str]]) -> ColumnElement[bool]:
    """One subquery joining the pairs on order_id: each further pair is an index probe."""
    fields = [order_fields.alias(f"field_{i}") for i in range(len(pairs))]
    first = fields[0]
    matching = scoped(account, first, first.c.order_id)
    for alias, (key, value) in zip(fields, pairs, strict=True):
        if alias is not first:
            matching = matching.join(
                alias,
                and_(
                    alias.c.order_id == first.c.order_id,
                    alias.c.account_id == account.id,
                    alias.c.key_folded == key,
                    alias.c.value_folded == value,
                ),
            )
        else:
            matching = matching.where(alias.c.key_folded == key, alias.c.value_folded == value)
    return orders.c.id.in_(matching)


def _date_range(
    key: str, start: str, end: str, condition: Condition | Related, what: str
) -> FilterSpec:
    return FilterSpec(key, Kind.DATE_RANGE, condition, what, start_key=start, end_key=end)


FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec("customerIds", Kind.ID_LIST, _in(orders.c.customer_id),
               "order's customer id", aliases=("customer_Ids", "customer_ids")),
    FilterSpec("orderIds", Kind.ID_LIST, _in(orders.c.id), "order id"),
    FilterSpec("enquiryIds", Kind.ID_LIST, _in(orders.c.enquiry_id),
               "order's enquiry (lead) id", aliases=("leadIdStr",)),
    FilterSpec("clientReferenceIds", Kind.EXACT_LIST, _in(orders.c.client_reference_id),
               "order's client reference id (exact, case kept)"),
    FilterSpec("erpOrderId", Kind.EXACT_LIST, _in(orders.c.erp_order_id),
               "ERP order id (exact, case kept)"),
    FilterSpec("erpInvoiceId", Kind.EXACT_LIST, _in(orders.c.erp_invoice_id),
               "ERP invoice id (exact, case kept)"),
    FilterSpec("name", Kind.SUBSTRING, _via_customer(_name_contains),
               "case-insensitive substring of the customer's name"),
    FilterSpec("phone", Kind.PHONE, _phone, "customer's or any contact's phone"),
    FilterSpec("email", Kind.TEXT_LIST, _customer_or_contact("email_folded"),
               "customer's or any contact's email, case-insensitive"),
    FilterSpec("country", Kind.TEXT_LIST, _via_customer(customers.c.country_folded.in_),
               "customer's country"),
    FilterSpec("city", Kind.TEXT_LIST, _via_customer(customers.c.city_folded.in_),
               "customer's city"),
    FilterSpec("state", Kind.TEXT_LIST, _via_customer(customers.c.state_folded.in_),
               "customer's state"),
    _date_range("createDate", "createStartDate", "createEndDate",
                _order_dates(orders.c.create_date), "order create date"),
    _date_range("bookingDate", "bookingStartDate", "bookingEndDate",
                _order_dates(orders.c.booking_date), "booking date"),
    _date_range("agreementDate", "agreementStartDate", "agreementEndDate",
                _order_dates(orders.c.agreement_date), "agreement date"),
    _date_range("generationDate", "generationStartDate", "generationEndDate",
                _enquiry_dates(enquiries.c.create_date), "enquiry creation date"),
    _date_range("nextFollowupDate", "nextFollowupStartDate", "nextFollowupEndDate",
                _enquiry_dates(enquiries.c.next_follow_up_date), "enquiry next follow-up date"),
    _date_range("lastFollowupDate", "lastFollowupStartDate", "lastFollowupEndDate",
                _enquiry_dates(enquiries.c.last_follow_up_date), "enquiry last follow-up date"),
    _date_range("expectedClosureDate", "expectedClosureStartDate", "expectedClosureEndDate",
                _enquiry_dates(enquiries.c.expected_closure_date),
                "enquiry expected closure date"),
    FilterSpec("bookingStatus", Kind.TEXT_LIST, _in(orders.c.booking_status_folded),
               "order status"),
    FilterSpec("bookingSubStatus", Kind.TEXT_LIST, _in(orders.c.booking_sub_status_folded),
               "order sub-status"),
    FilterSpec("pricingStatus", Kind.TEXT_LIST, _in(orders.c.pricing_status_folded),
               "order pricing status"),
    FilterSpec("statusStr", Kind.TEXT_LIST,
               _via_enquiry(enquiries.c.status_folded.in_),
               "enquiry status"),
    FilterSpec("subStatusStr", Kind.TEXT_LIST,
               _via_enquiry(enquiries.c.sub_status_folded.in_),
               "enquiry sub-status"),
    FilterSpec("leadPriorityStr", Kind.TEXT_LIST,
               _via_enquiry(enquiries.c.priority_folded.in_),
               "enquiry priority"),
    FilterSpec("creatorIdStr", Kind.ID_LIST, _in(orders.c.creator_id),
               "order creator employee id"),
    FilterSpec("assignIdStr", Kind.ID_LIST, _in(orders.c.assign_id),
               "order assignee employee id"),
    FilterSpec("creatorOrAssignedIdStr", Kind.ID_LIST,
               lambda _a, ids: or_(orders.c.creator_id.in_(ids), orders.c.assign_id.in_(ids)),
               "order creator or assignee employee id"),
    FilterSpec("assignToIdsStr", Kind.ID_LIST,
               _via_enquiry(enquiries.c.assign_emp_id.in_),
               "enquiry assignee"),
    FilterSpec("notAssignToIdsStr", Kind.ID_LIST, _not_assigned_to,
               "enquiry assignee not in list (orders with no enquiry or an unassigned one "
               "are kept)"),
    FilterSpec("approvedIds", Kind.ID_LIST, _in(orders.c.approved_by_id),
               "approving employee id"),
    FilterSpec("approvalDesignationIds", Kind.ID_LIST, _in(orders.c.approval_designation_id),
               "approval designation id"),
    FilterSpec("zoneIdStr", Kind.ID_LIST, _in(orders.c.zone_id), "inventory zone id"),
    FilterSpec("blockId", Kind.ID_LIST, _in(orders.c.block_id), "inventory block id"),
    FilterSpec("unitId", Kind.ID_LIST, _in(orders.c.unit_id), "inventory unit id"),
    FilterSpec("secondarySourceId", Kind.ID_LIST,
               _via_enquiry(enquiries.c.secondary_source_id.in_),
               "enquiry secondary source id"),
    *(
        FilterSpec(name, Kind.TEXT_LIST, _in(orders.c[f"{name}_folded"]),
                   f"custom attribute {name}")
        for name in ATTR_NAMES
    ),
    FilterSpec("additionalFields", Kind.FIELD_MAP, _additional_fields,
               "every {key: value} pair equals the order's additional field, as text, "
               "case-insensitively"),
)

# Keys that shape the answer; they are not filters.
CONTROL_KEYS = ("cmId", "viewId", "sortParam", "limit", "offset", "cursor", "includeTotal")

FILTER_BY_KEY: dict[str, FilterSpec] = {
    key: spec for spec in FILTERS for key in spec.body_keys
}
KNOWN_KEYS: tuple[str, ...] = (*CONTROL_KEYS, *FILTER_BY_KEY)
