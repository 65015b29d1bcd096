"""A plain-Python model of Pull Order (contract §2) over in-memory data.

Nothing here imports ordersearch: the oracle reads the contract (and the interpretation
choices written down for it) a second time, independently of the SQL implementation, so
the property tests can compare the two on generated data.

`expected(data, body, tz)` answers one body: the ids of the page, in order, and the total;
a body the contract refuses raises `Invalid` (the service must answer 400).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo


class Invalid(Exception):
    """The body is one the service must refuse with 400."""


# ---------------------------------------------------------------------------------------
# The data, as the oracle sees it (ids as the database assigned them, instants in UTC).


@dataclass
class Contact:
    name: str | None
    phone: str | None
    email: str | None


@dataclass
class Customer:
    id: int
    name: str | None
    phone: str | None
    email: str | None
    city: str | None
    state: str | None
    country: str | None
    contacts: list[Contact] = field(default_factory=list)


@dataclass
class Enquiry:
    id: int
    status: str | None
    sub_status: str | None
    priority: str | None
    assign_emp_id: int | None
    secondary_source_id: int | None
    create_date: datetime
    next_follow_up_date: datetime | None
    last_follow_up_date: datetime | None
    expected_closure_date: datetime | None


@dataclass
class Order:
    id: int
    customer_id: int
    enquiry_id: int | None
    erp_order_id: str | None
    erp_invoice_id: str | None
    client_reference_id: str | None
    create_date: datetime
    booking_status: str | None
    booking_sub_status: str | None
    booking_date: datetime | None
    agreement_date: datetime | None
    creator_id: int | None
    assign_id: int | None
    zone_id: int | None
    block_id: int | None
    unit_id: int | None
    approval_designation_id: int | None
    approved_by_id: int | None
    pricing_status: str | None
    amount: Decimal | None
    attrs: dict[str, str | None]
    additional_fields: dict[str, Any]
    updated_at: datetime | None = None


@dataclass
class Dataset:
    customers: dict[int, Customer]
    enquiries: dict[int, Enquiry]
    orders: list[Order]

    def customer(self, order: Order) -> Customer:
        return self.customers[order.customer_id]

    def enquiry(self, order: Order) -> Enquiry | None:
        return None if order.enquiry_id is None else self.enquiries[order.enquiry_id]


# ---------------------------------------------------------------------------------------
# Values


def fold(text: str) -> str:
    """Choice 1: NFC, trimmed, casefolded."""
    return unicodedata.normalize("NFC", text.strip()).casefold()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def ascii_digits(text: str) -> str:
    return "".join(ch for ch in text if ch in "0123456789")


def value_text(value: Any) -> str:
    """Choice 9: how a JSON scalar reads as text (bools as true/false, 2.0 as 2)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    raise Invalid(f"{value!r} is not a scalar")


def _number_or_text(token: Any) -> str:
    if isinstance(token, bool) or not isinstance(token, str | int | float):
        raise Invalid(f"{token!r} is not text")
    return value_text(token).strip()


def _tokens(raw: Any) -> list[Any]:
    """Choice 2: a comma string, one number, or an array whose items are taken whole."""
    if isinstance(raw, list):
        items = raw
    elif isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        items = [raw]
    else:
        raise Invalid(f"{raw!r} is not a list")
    return [item.strip() if isinstance(item, str) else item for item in items
            if not is_blank(item)]


_INTEGER = re.compile(r"[+-]?[0-9]+")


def _id(token: Any) -> int:
    if isinstance(token, int) and not isinstance(token, bool):
        return token
    if isinstance(token, str) and _INTEGER.fullmatch(token.strip()):
        return int(token.strip())
    raise Invalid(f"{token!r} is not an integer")


def _int_param(raw: Any, default: int, low: int, high: int | None) -> int:
    if is_blank(raw):
        return default
    number = _id(raw)
    if number < low or (high is not None and number > high):
        raise Invalid(f"{raw!r} out of range")
    return number


_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MOMENT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?"
)


@dataclass(frozen=True)
class Instant:
    at: datetime  # aware, UTC, whole seconds
    day: date | None  # the local day when only a date was given


def parse_date(raw: Any, tz: ZoneInfo) -> Instant:
    """Choice 8: date-only, local date-time, ISO with offset, epoch millis; whole seconds."""
    if isinstance(raw, bool):
        raise Invalid(f"{raw!r} is not a date")
    if isinstance(raw, int | float):
        return Instant(datetime.fromtimestamp(int(raw) // 1000, UTC), None)
    if not isinstance(raw, str):
        raise Invalid(f"{raw!r} is not a date")
    text = raw.strip()
    if text.isdigit():
        return Instant(datetime.fromtimestamp(int(text) // 1000, UTC), None)
    if match := _DAY.fullmatch(text):
        day = date(*(int(g) for g in match.groups()))
        return Instant(local_midnight(day, tz), day)
    if match := _MOMENT.fullmatch(text):
        y, mo, d, h, mi, s, offset = match.groups()
        naive = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
        if offset is None:
            moment = naive.replace(tzinfo=tz)
        elif offset == "Z":
            moment = naive.replace(tzinfo=UTC)
        else:
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            moment = (naive - sign * delta).replace(tzinfo=UTC)
        return Instant(moment.astimezone(UTC), None)
    raise Invalid(f"{raw!r} is not a date")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


# ---------------------------------------------------------------------------------------
# Filters: each key parses its value into a predicate over orders (None: not given).

Predicate = Callable[[Dataset, Order], bool]


def _id_filter(values_of: Callable[[Dataset, Order], Iterable[int | None]]) -> Callable[
    [Any, ZoneInfo], Predicate | None
]:
    def parse(raw: Any, _tz: ZoneInfo) -> Predicate | None:
        wanted = {_id(token) for token in _tokens(raw)}
        if not wanted:
            return None
        return lambda data, order: any(v in wanted for v in values_of(data, order))

    return parse


def _folded_filter(values_of: Callable[[Dataset, Order], Iterable[str | None]]) -> Callable[
    [Any, ZoneInfo], Predicate | None
]:
    def parse(raw: Any, _tz: ZoneInfo) -> Predicate | None:
        wanted = {fold(_number_or_text(token)) for token in _tokens(raw)}
        wanted.discard("")
        if not wanted:
            return None
        return lambda data, order: any(
            v is not None and fold(v) in wanted for v in values_of(data, order)
        )

    return parse


def _exact_filter(values_of: Callable[[Order], str | None]) -> Callable[
    [Any, ZoneInfo], Predicate | None
]:
    def parse(raw: Any, _tz: ZoneInfo) -> Predicate | None:
        wanted = {_number_or_text(token) for token in _tokens(raw)}
        wanted.discard("")
        if not wanted:
            return None
        return lambda _data, order: values_of(order) in wanted

    return parse


def _not_assigned(raw: Any, _tz: ZoneInfo) -> Predicate | None:
    excluded = {_id(token) for token in _tokens(raw)}
    if not excluded:
        return None

    def keep(data: Dataset, order: Order) -> bool:
        enquiry = data.enquiry(order)
        return (
            enquiry is None
            or enquiry.assign_emp_id is None
            or enquiry.assign_emp_id not in excluded
        )

    return keep


def _name(raw: Any, _tz: ZoneInfo) -> Predicate | None:
    if isinstance(raw, list):
        raise Invalid("name takes one value")
    needle = fold(_number_or_text(raw))
    if not needle:
        return None

    def match(data: Dataset, order: Order) -> bool:
        name = data.customer(order).name
        return name is not None and needle in fold(name)

    return match


def phone_matches(query_digits: str, stored: str | None) -> bool:
    """Choice 6."""
    if stored is None:
        return False
    digits = ascii_digits(stored)
    if len(query_digits) >= 10:
        return len(digits) >= 10 and digits[-10:] == query_digits[-10:]
    return digits == query_digits


def _phone(raw: Any, _tz: ZoneInfo) -> Predicate | None:
    queries = {ascii_digits(_number_or_text(token)) for token in _tokens(raw)}
    if "" in queries:
        raise Invalid("a phone without digits")
    if not queries:
        return None

    def match(data: Dataset, order: Order) -> bool:
        customer = data.customer(order)
        phones = [customer.phone, *(c.phone for c in customer.contacts)]
        return any(phone_matches(q, p) for q in queries for p in phones)

    return match


def _emails(data: Dataset, order: Order) -> list[str | None]:
    customer = data.customer(order)
    return [customer.email, *(c.email for c in customer.contacts)]


def _enquiry_value(name: str) -> Callable[[Dataset, Order], list[Any]]:
    def values(data: Dataset, order: Order) -> list[Any]:
        enquiry = data.enquiry(order)
        return [] if enquiry is None else [getattr(enquiry, name)]

    return values


def _order_value(name: str) -> Callable[[Dataset, Order], list[Any]]:
    return lambda _data, order: [getattr(order, name)]


def _customer_value(name: str) -> Callable[[Dataset, Order], list[Any]]:
    return lambda data, order: [getattr(data.customer(order), name)]


def _additional_fields(raw: Any, _tz: ZoneInfo) -> Predicate | None:
    if not isinstance(raw, dict):
        raise Invalid("additionalFields must be an object")
    pairs = [(fold(key), fold(value_text(value))) for key, value in raw.items()
             if not is_blank(value)]
    if not pairs:
        return None

    def match(_data: Dataset, order: Order) -> bool:
        stored = [
            (fold(key), fold(value_text(value)))
            for key, value in order.additional_fields.items()
            if not is_blank(value)
        ]
        return all(pair in stored for pair in pairs)

    return match


ListParser = Callable[[Any, ZoneInfo], Predicate | None]

# key -> (the body keys that spell it, in order of preference; parser)
LIST_FILTERS: dict[str, tuple[tuple[str, ...], ListParser]] = {
    "customerIds": (("customerIds", "customer_Ids", "customer_ids"),
                    _id_filter(lambda _d, o: [o.customer_id])),
    "orderIds": (("orderIds",), _id_filter(lambda _d, o: [o.id])),
    "enquiryIds": (("enquiryIds", "leadIdStr"), _id_filter(lambda _d, o: [o.enquiry_id])),
    "clientReferenceIds": (("clientReferenceIds",),
                           _exact_filter(lambda o: o.client_reference_id)),
    "erpOrderId": (("erpOrderId",), _exact_filter(lambda o: o.erp_order_id)),
    "erpInvoiceId": (("erpInvoiceId",), _exact_filter(lambda o: o.erp_invoice_id)),
    "name": (("name",), _name),
    "phone": (("phone",), _phone),
    "email": (("email",), _folded_filter(_emails)),
    "country": (("country",), _folded_filter(_customer_value("country"))),
    "city": (("city",), _folded_filter(_customer_value("city"))),
    "state": (("state",), _folded_filter(_customer_value("state"))),
    "bookingStatus": (("bookingStatus",), _folded_filter(_order_value("booking_status"))),
    "bookingSubStatus": (("bookingSubStatus",),
                         _folded_filter(_order_value("booking_sub_status"))),
    "pricingStatus": (("pricingStatus",), _folded_filter(_order_value("pricing_status"))),
    "statusStr": (("statusStr",), _folded_filter(_enquiry_value("status"))),
    "subStatusStr": (("subStatusStr",), _folded_filter(_enquiry_value("sub_status"))),
    "leadPriorityStr": (("leadPriorityStr",), _folded_filter(_enquiry_value("priority"))),
    "creatorIdStr": (("creatorIdStr",), _id_filter(_order_value("creator_id"))),
    "assignIdStr": (("assignIdStr",), _id_filter(_order_value("assign_id"))),
    "creatorOrAssignedIdStr": (("creatorOrAssignedIdStr",),
                               _id_filter(lambda _d, o: [o.creator_id, o.assign_id])),
    "assignToIdsStr": (("assignToIdsStr",), _id_filter(_enquiry_value("assign_emp_id"))),
    "notAssignToIdsStr": (("notAssignToIdsStr",), _not_assigned),
    "approvedIds": (("approvedIds",), _id_filter(_order_value("approved_by_id"))),
    "approvalDesignationIds": (("approvalDesignationIds",),
                               _id_filter(_order_value("approval_designation_id"))),
    "zoneIdStr": (("zoneIdStr",), _id_filter(_order_value("zone_id"))),
    "blockId": (("blockId",), _id_filter(_order_value("block_id"))),
    "unitId": (("unitId",), _id_filter(_order_value("unit_id"))),
    "secondarySourceId": (("secondarySourceId",),
                          _id_filter(_enquiry_value("secondary_source_id"))),
    **{
        f"attr{i}": ((f"attr{i}",),
                     _folded_filter(lambda _d, o, n=f"attr{i}": [o.attrs.get(n)]))
        for i in range(1, 16)
    },
    "additionalFields": (("additionalFields",), _additional_fields),
}

# Date ranges: prefix -> where the instant lives (None: the order has no such date).
DATE_RANGES: dict[str, Callable[[Dataset, Order], datetime | None]] = {
    "create": lambda _d, o: o.create_date,
    "booking": lambda _d, o: o.booking_date,
    "agreement": lambda _d, o: o.agreement_date,
    "generation": lambda d, o: (e := d.enquiry(o)) and e.create_date,
    "nextFollowup": lambda d, o: (e := d.enquiry(o)) and e.next_follow_up_date,
    "lastFollowup": lambda d, o: (e := d.enquiry(o)) and e.last_follow_up_date,
    "expectedClosure": lambda d, o: (e := d.enquiry(o)) and e.expected_closure_date,
}


def _date_range(body: dict[str, Any], prefix: str, tz: ZoneInfo) -> Predicate | None:
    start_raw, end_raw = body.get(f"{prefix}StartDate"), body.get(f"{prefix}EndDate")
    start = None if is_blank(start_raw) else parse_date(start_raw, tz).at
    end_at: datetime | None = None
    end_exclusive = False
    if not is_blank(end_raw):
        end = parse_date(end_raw, tz)
        if end.day is not None:  # a date-only end covers that whole local day
            end_at, end_exclusive = local_midnight(end.day + timedelta(days=1), tz), True
        else:
            end_at = end.at
    if start is None and end_at is None:
        return None

    def inside(moment: datetime) -> bool:
        if start is not None and moment < start:
            return False
        if end_at is not None:
            return moment < end_at if end_exclusive else moment <= end_at
        return True

    if start is not None and end_at is not None and not inside(start):
        raise Invalid("the start is after the end")  # the range holds no instant at all
    where = DATE_RANGES[prefix]

    def match(data: Dataset, order: Order) -> bool:
        moment = where(data, order)
        return moment is not None and inside(moment)

    return match


# ---------------------------------------------------------------------------------------
# Sort


def _customer_name_key(data: Dataset, order: Order) -> str | None:
    name = data.customer(order).name
    return None if name is None else fold(name)


SORT_KEYS: dict[str, Callable[[Dataset, Order], Any]] = {
    "orderId": lambda _d, o: o.id,
    "createDate": lambda _d, o: o.create_date,
    "updatedAt": lambda _d, o: o.updated_at,
    "bookingDate": lambda _d, o: o.booking_date,
    "agreementDate": lambda _d, o: o.agreement_date,
    "amount": lambda _d, o: o.amount,
    "customerName": _customer_name_key,
    "erpOrderId": lambda _d, o: o.erp_order_id,
}


def parse_sort(raw: Any) -> tuple[str, bool]:
    """`field`, `field asc|desc` or `-field`; default createDate desc."""
    if is_blank(raw):
        return "createDate", True
    if not isinstance(raw, str):
        raise Invalid("sortParam must be text")
    parts = raw.split()
    descending = False
    if len(parts) == 2 and parts[1].lower() in ("asc", "desc"):
        name, descending = parts[0], parts[1].lower() == "desc"
    elif len(parts) == 1 and parts[0].startswith("-"):
        name, descending = parts[0][1:], True
    elif len(parts) == 1:
        name = parts[0]
    else:
        raise Invalid(f"bad sortParam {raw!r}")
    by_lower = {key.lower(): key for key in SORT_KEYS}
    if name.lower() not in by_lower:
        raise Invalid(f"unknown sort field {name!r}")
    return by_lower[name.lower()], descending


def sort_orders(data: Dataset, orders: list[Order], field_name: str, descending: bool
                ) -> list[Order]:
    """Choice 10: by the value (nulls last either way), ties by order id, same direction."""
    key = SORT_KEYS[field_name]
    valued = [o for o in orders if key(data, o) is not None]
    nulls = [o for o in orders if key(data, o) is None]
    valued.sort(key=lambda o: (key(data, o), o.id), reverse=descending)
    nulls.sort(key=lambda o: o.id, reverse=descending)
    return valued + nulls


# ---------------------------------------------------------------------------------------
# The answer


@dataclass(frozen=True)
class Answer:
    ids: list[int]  # every matching order, in the answer's order
    limit: int
    offset: int

    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def page(self) -> list[int]:
        return self.ids[self.offset:self.offset + self.limit]

    @property
    def has_more(self) -> bool:
        return self.offset + self.limit < self.total


def answer(data: Dataset, body: Any, tz: ZoneInfo, cm_id: int) -> Answer:
    """The whole answer to a body, or `Invalid` when the contract asks for a 400."""
    if not isinstance(body, dict):
        raise Invalid("body is not an object")
    if is_blank(body.get("cmId")) or _id(body["cmId"]) != cm_id:
        raise Invalid("cmId")  # (a wrong but valid cmId is a 403; never generated)
    predicates: list[Predicate] = []
    for keys, parse in LIST_FILTERS.values():
        given = [body[k] for k in keys if not is_blank(body.get(k))]
        if given and (predicate := parse(given[0], tz)) is not None:
            predicates.append(predicate)
    for prefix in DATE_RANGES:
        if (predicate := _date_range(body, prefix, tz)) is not None:
            predicates.append(predicate)
    _int_param(body.get("viewId"), 2, 1, 3)
    limit = _int_param(body.get("limit"), 50, 1, 500)
    offset = _int_param(body.get("offset"), 0, 0, None)
    field_name, descending = parse_sort(body.get("sortParam"))
    if not predicates:
        raise Invalid("at least one filter is required")
    matching = [o for o in data.orders if all(p(data, o) for p in predicates)]
    ordered = sort_orders(data, matching, field_name, descending)
    return Answer([o.id for o in ordered], limit, offset)


def expected(data: Dataset, body: Any, tz: ZoneInfo, cm_id: int = 1000298
             ) -> tuple[list[int], int]:
    """The ordered ids of the page a body asks for, and the total count."""
    result = answer(data, body, tz, cm_id)
    return result.page, result.total
