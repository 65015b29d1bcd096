"""One add-update element as typed records, validated in full before anything is written.

`parse_element` reads every field of the element and either returns an `Element` or
raises `InvalidRequest` listing every bad field at once (`order_info.amount: not a decimal
number: 'abc'`), so a client fixes a body in one round trip and a bad element never
reaches the database. What is declared here per section (which body key lands in which
column, parsed how) is the whole of the body format; the service only decides which rows
the records go to.

Blank values (`""`, `null`, whitespace, `{}`) mean "not given" and never appear in a
record: an update then leaves the stored value alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Table

from ordersearch.db.tables import ATTR_NAMES, contacts, customers, enquiries, order_items, orders
from ordersearch.errors import FieldError, Forbidden, InvalidRequest
from ordersearch.ingest.rows import field_text
from ordersearch.tenancy import Account
from ordersearch.values import (
    decimal_text,
    fold,
    is_blank,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_text,
    phone_digits,
    show,
)

# Text columns have no declared length; this keeps one field from filling a page.
TEXT_LIMIT = 10_000
# What `order_fields` indexes: key_folded is String(255), value_folded String(1024).
FIELD_KEY_LIMIT = 255
FIELD_VALUE_LIMIT = 1024

Parser = Callable[[Any, ZoneInfo], Any]
EmployeeKey = Literal["code", "email"]


@dataclass(frozen=True)
class EmployeeRef:
    """An employee named by code or email, resolved against the account before writing."""

    field: str
    column: str
    by: EmployeeKey
    value: str


@dataclass(frozen=True)
class Record:
    """What one section of the body says about one row.

    `id` is the section's own id key (`customer_id`, `order_id`, ...) when sent; `values`
    maps column names to parsed values, only the non-empty ones, with the section's
    kept-as-sent Kapture fields under `extra`.
    """

    id: int | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    employees: tuple[EmployeeRef, ...] = ()
    update: bool = False

    @property
    def given(self) -> bool:
        """Whether the section carries anything; `"update": false` alone is nothing."""
        return self.id is not None or bool(self.values) or bool(self.employees)


@dataclass(frozen=True)
class Element:
    customer: Record
    contacts: tuple[Record, ...]
    enquiry: Record
    order: Record
    # Empty when product_details was not sent (or held only blank items): keep the items.
    items: tuple[Record, ...]
    warnings: tuple[str, ...]


def _text(value: Any, _tz: ZoneInfo) -> str:
    return parse_text(value)


def _phone(value: Any, _tz: ZoneInfo) -> str:
    # A phone without digits could never be found again by phone.
    text = parse_text(value)
    if not phone_digits(text):
        raise ValueError(f"{show(value)} contains no digits")
    return text


def _integer(value: Any, _tz: ZoneInfo) -> int:
    return parse_int(value)


def _decimal(value: Any, _tz: ZoneInfo) -> str:
    return decimal_text(parse_decimal(value))


def _date(value: Any, tz: ZoneInfo) -> Any:
    return parse_datetime(value, tz)[0]


def _fields(value: Any, _tz: ZoneInfo) -> dict[str, Any]:
    """additional_fields: an object; blank values are dropped like any blank value."""
    if not isinstance(value, dict):
        raise ValueError(f"not an object: {show(value)}")
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if not str(key).strip():
            raise ValueError("has an empty key")
        if "\x00" in str(key):
            raise ValueError(f"key {show(key)} contains a NUL character")
        if len(fold(str(key))) > FIELD_KEY_LIMIT:
            raise ValueError(f"key longer than {FIELD_KEY_LIMIT} characters: {show(key)}")
        if is_blank(item):
            continue
        _as_json(item)
        text = field_text(item) or ""
        if len(fold(text)) > FIELD_VALUE_LIMIT or "\x00" in text:
            raise ValueError(
                f"value of {show(key)} is longer than {FIELD_VALUE_LIMIT} characters "
                "or contains a NUL character"
            )
        fields[key] = item
    return fields


def _as_json(value: Any) -> str:
    # Bodies from the HTTP API are JSON already; the CLI's importers may hand over anything.
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        raise ValueError(f"not a JSON value: {show(value)}") from None


def _kept(value: Any) -> Any:
    """A Kapture field kept as sent in `extra`: any JSON, within the text limit."""
    encoded = _as_json(value)
    if len(encoded) > TEXT_LIMIT:
        raise ValueError(f"longer than {TEXT_LIMIT} characters as JSON")
    if "\\u0000" in encoded:
        raise ValueError("contains a NUL character")
    return value


def _update_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"{show(value)} is not true or false")


def _check_length(table: Table, column: str, value: Any) -> None:
    """Reject text longer than its column, also in its casefolded form when that is stored
    too: folding can lengthen text (`ß` -> `ss`), and PostgreSQL refuses overlong values."""
    if not isinstance(value, str):
        return
    limit = getattr(table.c[column].type, "length", None) or TEXT_LIMIT
    folded_length = len(fold(value)) if f"{column}_folded" in table.c else 0
    if max(len(value), folded_length) > limit:
        raise ValueError(f"longer than {limit} characters: {show(value)}")


@dataclass(frozen=True)
class Section:
    """How one section of the body maps onto one table."""

    table: Table
    id_key: str | None
    # body key -> (column, parser)
    columns: Mapping[str, tuple[str, Parser]]
    # Kapture's other fields, kept as sent in the row's `extra`.
    extra: frozenset[str] = frozenset()
    # body key -> (column the resolved employee id goes to, what the key names)
    employees: Mapping[str, tuple[str, EmployeeKey]] = field(default_factory=dict)
    has_update: bool = False
    # Keys parsed by the caller as sections of their own.
    children: frozenset[str] = frozenset()

    @property
    def known(self) -> frozenset[str]:
        keys = {*self.columns, *self.extra, *self.employees, *self.children}
        if self.id_key:
            keys.add(self.id_key)
        if self.has_update:
            keys.add("update")
        return frozenset(keys)


def _same(parser: Parser, *names: str) -> dict[str, tuple[str, Parser]]:
    """Body keys stored under a column of the same name."""
    return {name: (name, parser) for name in names}


def _employee_keys(column: str, prefix: str) -> dict[str, tuple[str, EmployeeKey]]:
    return {f"{prefix}_code": (column, "code"), f"{prefix}_email": (column, "email")}


CUSTOMER = Section(
    table=customers,
    id_key="customer_id",
    columns={
        **_same(_text, "customer_code", "city", "state", "country", "address", "pincode", "zone"),
        "customer_name": ("name", _text),
        "phone": ("phone", _phone),
        "email_id": ("email", _text),
        "additional_fields": ("additional_fields", _fields),
    },
    extra=frozenset({
        "locality", "type", "classification", "individual", "organization", "channel_partner",
        "primary_source", "secondary_source", "tertiary_source", "associate_fields",
        "customer_remarks",
    }),
    has_update=True,
)

CONTACT = Section(
    table=contacts,
    id_key="contact_id",
    columns={
        "contact_person_name": ("name", _text),
        "contact_person_phone": ("phone", _phone),
        "contact_person_email": ("email", _text),
    },
    extra=frozenset({
        "title", "first_name", "last_name", "country_code", "additional_contact_phone", "dob",
        "gender",
    }),
)

ENQUIRY = Section(
    table=enquiries,
    id_key="enquiry_id",
    columns={
        **_same(_text, "status", "priority"),
        "subStatus": ("sub_status", _text),
        **_same(_integer, "assign_emp_id", "creator_id", "secondary_source_id"),
        **_same(
            _date, "create_date", "next_follow_up_date", "last_follow_up_date",
            "expected_closure_date",
        ),
    },
    extra=frozenset({"round_robin_key", "action", "remarks", "associate_fields"}),
    employees={
        **_employee_keys("assign_emp_id", "assign_emp"),
        **_employee_keys("creator_id", "creator_emp"),
    },
    has_update=True,
)

ORDER = Section(
    table=orders,
    id_key="order_id",
    columns={
        **_same(
            _text, "erp_order_id", "erp_invoice_id", "client_reference_id", "booking_status",
            "booking_sub_status", "pricing_status", "currency", "payment_mode", "order_type",
            "remarks", *ATTR_NAMES,
        ),
        **_same(_date, "create_date", "booking_date", "agreement_date"),
        **_same(
            _integer, "creator_id", "assign_id", "zone_id", "block_id", "unit_id",
            "approval_designation_id", "approved_by_id",
        ),
        "amount": ("amount", _decimal),
        "additional_fields": ("additional_fields", _fields),
    },
    employees={
        **_employee_keys("assign_id", "assign_emp"),
        **_employee_keys("creator_id", "creator_emp"),
    },
    children=frozenset({"product_details"}),
)

ITEM = Section(
    table=order_items,
    id_key=None,
    columns={
        **_same(_text, "sku_id", "product_name"),
        **_same(_decimal, "rate", "quantity", "discount"),
    },
)

TOP_LEVEL = frozenset({"cmId", "customer_info", "contact_info", "enquiry_info", "order_info"})


def _normalised(key: str) -> str:
    return key.replace("_", "").lower()


def unknown_field_warning(path: str, key: str, known: Iterable[str]) -> str:
    """The warning for an ignored key, naming the known key it most looks like, if any."""
    prefix = f"{path}." if path else ""
    message = f"unknown field '{prefix}{key}' ignored"
    by_form = {_normalised(name): name for name in known}
    close = get_close_matches(_normalised(key), list(by_form), n=1, cutoff=0.8)
    if close:
        message += f"; did you mean '{prefix}{by_form[close[0]]}'?"
    return message


class _Reader:
    """Parses sections, collecting every error and warning instead of stopping at the first."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.errors: list[FieldError] = []
        self.warnings: list[str] = []

    def record(self, section: Section, raw: Any, path: str) -> Record:
        if is_blank(raw):
            return Record()
        if not isinstance(raw, dict):
            self.errors.append(FieldError(path, f"not an object: {show(raw)}"))
            return Record()
        record_id: int | None = None
        update = False
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        employees: list[EmployeeRef] = []
        known = section.known
        for key, value in raw.items():
            name = f"{path}.{key}"
            if key not in known:
                self.warnings.append(unknown_field_warning(path, key, known))
                continue
            if key in section.children or is_blank(value):
                continue
            try:
                if key == section.id_key:
                    record_id = parse_int(value)
                elif key == "update":
                    update = _update_flag(value)
                elif key in section.extra:
                    extra[key] = _kept(value)
                elif key in section.employees:
                    column, by = section.employees[key]
                    employees.append(EmployeeRef(name, column, by, parse_text(value)))
                else:
                    column, parser = section.columns[key]
                    parsed = parser(value, self.tz)
                    _check_length(section.table, column, parsed)
                    if parsed != {}:
                        values[column] = parsed
            except ValueError as exc:
                self.errors.append(FieldError(name, str(exc)))
        if extra:
            values["extra"] = extra
        return Record(record_id, values, tuple(employees), update)

    def records(self, section: Section, raw: Any, path: str) -> tuple[Record, ...]:
        """A list section; a single object is taken as a list of one, blank entries skipped."""
        if is_blank(raw):
            return ()
        if isinstance(raw, dict):
            raw = [raw]
        if not isinstance(raw, list):
            self.errors.append(FieldError(path, f"not a list: {show(raw)}"))
            return ()
        parsed = (self.record(section, entry, f"{path}[{i}]") for i, entry in enumerate(raw))
        return tuple(record for record in parsed if record.given)


def _check_cm_id(raw: Any, account: Account, reader: _Reader) -> None:
    if is_blank(raw):
        return
    try:
        cm_id = parse_int(raw)
    except ValueError as exc:
        reader.errors.append(FieldError("cmId", str(exc)))
        return
    if cm_id != account.cm_id:
        raise Forbidden("cmId does not match the authenticated account")


def parse_element(raw: Any, account: Account) -> Element:
    """Parse one element of an add-update body; raises InvalidRequest or Forbidden."""
    if not isinstance(raw, dict):
        raise InvalidRequest.single("body", f"not a JSON object: {show(raw)}")
    reader = _Reader(account.tz)
    _check_cm_id(raw.get("cmId"), account, reader)
    for key in raw:
        if key not in TOP_LEVEL:
            reader.warnings.append(unknown_field_warning("", key, TOP_LEVEL))
    order_info = raw.get("order_info")
    if not isinstance(order_info, dict):
        reader.errors.append(FieldError("order_info", "is required and must be an object"))
        order_info = {}
    element = Element(
        customer=reader.record(CUSTOMER, raw.get("customer_info"), "customer_info"),
        contacts=reader.records(CONTACT, raw.get("contact_info"), "contact_info"),
        enquiry=reader.record(ENQUIRY, raw.get("enquiry_info"), "enquiry_info"),
        order=reader.record(ORDER, order_info, "order_info"),
        items=reader.records(
            ITEM, order_info.get("product_details"), "order_info.product_details"
        ),
        warnings=tuple(reader.warnings),
    )
    if reader.errors:
        raise InvalidRequest(reader.errors)
    return element
