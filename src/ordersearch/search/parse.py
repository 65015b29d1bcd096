"""Pull Order body -> typed `PullQuery`: lenient about forms, strict about values.

Every problem found is collected, so one 400 names every bad field at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ordersearch.errors import FieldError, Forbidden, InvalidRequest
from ordersearch.ingest.rows import field_text
from ordersearch.search.cursor import Cursor, decode_cursor
from ordersearch.search.filters import FILTERS, KNOWN_KEYS, DateBounds, FilterSpec, Kind
from ordersearch.search.sorting import SORT_FIELDS, Sort, parse_sort
from ordersearch.tenancy import Account
from ordersearch.values import (
    end_of_local_day,
    fold,
    is_blank,
    parse_datetime,
    parse_int,
    parse_text,
    phone_digits,
    show,
)

MAX_LIST_ITEMS = 1000
MAX_TEXT_LENGTH = 1024
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
DEFAULT_VIEW = 2
VIEWS = (1, 2, 3)


@dataclass(frozen=True)
class AppliedFilter:
    spec: FilterSpec
    value: Any  # list[int] | list[str] | str | DateBounds | dict[str, str]
    canonical: Any  # JSON-able form, for the cursor's query fingerprint


@dataclass
class PullQuery:
    cm_id: int
    filters: list[AppliedFilter]
    view: int = DEFAULT_VIEW
    sort: Sort = field(default_factory=lambda: parse_sort(None))
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    cursor: Cursor | None = None
    include_total: bool = True
    warnings: list[str] = field(default_factory=list)

    def fingerprint_source(self) -> list[Any]:
        """What a cursor must agree with: the filters and the sort, not the page."""
        return [
            self.cm_id,
            sorted([f.spec.key, f.canonical] for f in self.filters),
            self.sort.field.name,
            self.sort.descending,
        ]


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field_name: str, message: str) -> None:
        self.items.append(FieldError(field_name, message))


def _tokens(raw: Any) -> list[Any]:
    """A list filter's values: a comma string, a single number, or a JSON array.

    Array items are taken whole (not split at commas), so a value holding a comma can be
    asked for as `["Booked, pending"]`.
    """
    if isinstance(raw, list):
        items: list[Any] = list(raw)
    elif isinstance(raw, str):
        items = [part.strip() for part in raw.split(",")]
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        items = [raw]
    else:
        raise ValueError(f"{show(raw)} is not a list, a comma-separated string or a number")
    items = [item for item in items if not is_blank(item)]
    if len(items) > MAX_LIST_ITEMS:
        raise ValueError(f"has {len(items)} values; at most {MAX_LIST_ITEMS} are allowed")
    return items


def _text(raw: Any) -> str:
    text = parse_text(raw)
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"is longer than {MAX_TEXT_LENGTH} characters")
    return text


def _dedupe(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _parse_list_value(spec: FilterSpec, raw: Any) -> list[Any]:
    tokens = _tokens(raw)
    if spec.kind is Kind.ID_LIST:
        return _dedupe([parse_int(token) for token in tokens])
    if spec.kind is Kind.PHONE:
        digits = []
        for token in tokens:
            token_digits = phone_digits(_text(token))
            if not token_digits:
                raise ValueError(f"{show(token)} has no digits")
            digits.append(token_digits)
        return _dedupe(digits)
    texts = [_text(token) for token in tokens]
    if spec.kind is Kind.TEXT_LIST:
        return _dedupe([fold(text) for text in texts])
    return _dedupe(texts)  # EXACT_LIST


def _parse_field_map(raw: Any) -> list[tuple[str, str]]:
    """Folded (key, value) pairs, every one of which must hold.

    A list, not a dict: `{"color": "red", "COLOR": "blue"}` asks for two different
    values of one field and so matches nothing; folding into a dict would drop one.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"{show(raw)} is not an object of {{key: value}} pairs")
    if len(raw) > MAX_LIST_ITEMS:
        raise ValueError(f"has {len(raw)} pairs; at most {MAX_LIST_ITEMS} are allowed")
    pairs: list[tuple[str, str]] = []
    for key, value in raw.items():
        if is_blank(value):
            continue
        text = field_text(value)
        assert text is not None
        pairs.append((fold(_text(key)), fold(_text(text))))
    return sorted(set(pairs))


def _parse_date_range(
    spec: FilterSpec, body: dict[str, Any], tz: ZoneInfo, errors: _Errors
) -> DateBounds | None:
    assert spec.start_key and spec.end_key
    start_raw, end_raw = body.get(spec.start_key), body.get(spec.end_key)
    start = end = None
    end_day = None
    if not is_blank(start_raw):
        try:
            start, _ = parse_datetime(start_raw, tz)
        except ValueError as exc:
            errors.add(spec.start_key, str(exc))
    if not is_blank(end_raw):
        try:
            end, end_day = parse_datetime(end_raw, tz)
        except ValueError as exc:
            errors.add(spec.end_key, str(exc))
    if start is None and end is None:
        return None
    end_exclusive = end_day is not None
    if end_day is not None:
        end = end_of_local_day(end_day, tz)
    if start is not None and end is not None and (
        start >= end if end_exclusive else start > end
    ):
        errors.add(
            spec.start_key,
            f"{show(start_raw)} is after {spec.end_key} {show(end_raw)}",
        )
        return None
    canonical = (
        start.isoformat() if start else None,
        end.isoformat() if end else None,
    )
    return DateBounds(start, end, end_exclusive, canonical)


def _parse_filter(
    spec: FilterSpec, body: dict[str, Any], tz: ZoneInfo, errors: _Errors
) -> AppliedFilter | None:
    if spec.kind is Kind.DATE_RANGE:
        bounds = _parse_date_range(spec, body, tz, errors)
        return None if bounds is None else AppliedFilter(spec, bounds, list(bounds.canonical))
    given = [(key, body[key]) for key in spec.body_keys if not is_blank(body.get(key))]
    if not given:
        return None
    key, raw = given[0]
    try:
        if spec.kind is Kind.SUBSTRING:
            value: Any = fold(_text(raw))
            if not value:
                return None
        elif spec.kind is Kind.FIELD_MAP:
            value = _parse_field_map(raw)
        else:
            value = _parse_list_value(spec, raw)
    except ValueError as exc:
        errors.add(key, str(exc))
        return None
    if not value:
        return None
    return AppliedFilter(spec, value, value)


def _bounded_int(
    body: dict[str, Any], key: str, default: int, low: int, high: int | None, errors: _Errors
) -> int:
    raw = body.get(key)
    if is_blank(raw):
        return default
    try:
        number = parse_int(raw)
    except ValueError as exc:
        errors.add(key, str(exc))
        return default
    if number < low or (high is not None and number > high):
        allowed = f"{low}..{high}" if high is not None else f">= {low}"
        errors.add(key, f"{show(raw)} is outside {allowed}")
        return default
    return number


def unknown_key_warning(key: str, known: tuple[str, ...] = KNOWN_KEYS) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    if not close:
        lowered = {k.lower(): k for k in known}
        match = lowered.get(key.lower())
        close = [match] if match else []
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown field '{key}' ignored{hint}"


def _parse_cm_id(body: dict[str, Any], account: Account) -> int:
    raw = body.get("cmId")
    if is_blank(raw):
        raise InvalidRequest.single("cmId", "is required (the account id, an integer > 0)")
    try:
        cm_id = parse_int(raw)
    except ValueError as exc:
        raise InvalidRequest.single("cmId", str(exc)) from None
    if cm_id <= 0:
        raise InvalidRequest.single("cmId", f"{show(raw)} must be an integer > 0")
    if cm_id != account.cm_id:
        raise Forbidden("cmId does not match the authenticated account")
    return cm_id


def _parse_bool(body: dict[str, Any], key: str, default: bool, errors: _Errors) -> bool:
    raw = body.get(key)
    if is_blank(raw):
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    errors.add(key, f"{show(raw)} is not true or false")
    return default


def parse_pull(body: Any, account: Account, extra_keys: tuple[str, ...] = ()) -> PullQuery:
    """`extra_keys`: further keys the caller reads itself (not reported as unknown)."""
    if not isinstance(body, dict):
        raise InvalidRequest.single("body", "must be a JSON object")
    cm_id = _parse_cm_id(body, account)
    errors = _Errors()
    filters = [
        applied
        for spec in FILTERS
        if (applied := _parse_filter(spec, body, account.tz, errors)) is not None
    ]
    view = _bounded_int(body, "viewId", DEFAULT_VIEW, 1, len(VIEWS), errors)
    limit = _bounded_int(body, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
    offset = _bounded_int(body, "offset", 0, 0, None, errors)
    include_total = _parse_bool(body, "includeTotal", True, errors)
    sort = parse_sort(None)
    if not is_blank(body.get("sortParam")):
        try:
            sort = parse_sort(_text(body["sortParam"]))
        except ValueError as exc:
            errors.add("sortParam", f"{exc}; sortable fields: {', '.join(SORT_FIELDS)}")
    known = (*KNOWN_KEYS, *extra_keys)
    warnings = [unknown_key_warning(key, known) for key in body if key not in known]
    query = PullQuery(cm_id, filters, view, sort, limit, offset, None, include_total, warnings)
    if not is_blank(body.get("cursor")):
        if offset > 0:
            errors.add("cursor", "cannot be combined with an offset > 0")
        else:
            try:
                query.cursor = decode_cursor(body["cursor"], query)
            except ValueError as exc:
                errors.add("cursor", str(exc))
    if not errors.items and not filters:
        errors.add(
            "filters",
            "at least one filter is required, e.g. customerIds, orderIds, name, phone, "
            "createStartDate",
        )
    if errors.items:
        raise InvalidRequest(errors.items)
    return query

