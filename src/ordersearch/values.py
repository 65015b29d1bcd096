"""Value forms shared by search and ingest: ids, text folding, phones, dates, decimals.

Each parser takes what a client sent (string, number or null) and returns the typed value,
or raises ValueError with a message that names the bad value; callers attach the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

MAX_BIGINT = 2**63 - 1
MAX_DECIMAL_DIGITS = 15  # what a double keeps exactly, so sorting by amount is exact


def is_blank(value: Any) -> bool:
    """`""` and `null` mean "not given" everywhere in both APIs."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def show(value: Any) -> str:
    """A bad value as quoted in an error message, kept short."""
    try:
        text = repr(value) if isinstance(value, str) else str(value)
    except RecursionError:
        return "a deeply nested value"
    return text if len(text) <= 80 else text[:77] + "..."


def fold(text: str) -> str:
    """The form in which text is compared: Unicode-aware, case- and edge-blank-insensitive."""
    return unicodedata.normalize("NFC", text.strip()).casefold()


def fold_or_none(text: str | None) -> str | None:
    return None if text is None else fold(text)


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{show(value)} is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{show(value)} is not an integer")
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        number = int(value)
    else:
        raise ValueError(f"{show(value)} is not an integer")
    if abs(number) > MAX_BIGINT:
        raise ValueError(f"{show(value)} is out of range")
    return number


def parse_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{show(value)} is not a string or number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if not isinstance(value, str) else value.strip()
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    return text


def phone_digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


def phone_last10(digits: str) -> str | None:
    return digits[-10:] if len(digits) >= 10 else None


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"not a decimal number: {show(value)}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {show(value)}") from None
    if not number.is_finite():
        raise ValueError(f"not a decimal number: {show(value)}")
    significant = len(number.normalize().as_tuple().digits)
    if significant > MAX_DECIMAL_DIGITS or number.adjusted() >= MAX_DECIMAL_DIGITS:
        raise ValueError(f"{show(value)} has more than {MAX_DECIMAL_DIGITS} significant digits")
    if number.as_tuple().exponent < -MAX_DECIMAL_DIGITS:  # type: ignore[operator]
        number = number.normalize()
    return number


def decimal_text(number: Decimal) -> str:
    return format(number, "f")


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


def to_utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    return to_utc_naive(datetime.combine(day, time(0, 0), tzinfo=tz))


_FORMS = "use yyyy-MM-dd, yyyy-MM-dd HH:mm[:ss], ISO 8601 with an offset, or epoch milliseconds"
MIN_YEAR, MAX_YEAR = 1000, 9998


def parse_datetime(value: Any, tz: ZoneInfo) -> tuple[datetime, date | None]:
    """Returns (naive UTC instant, the local day when only a date was given).

    Accepted: yyyy-MM-dd (and ISO's basic yyyyMMdd), yyyy-MM-dd HH:mm[:ss] (also with T),
    ISO 8601 with an offset, epoch milliseconds (a number, or a digit string other than
    eight digits). Values without an offset are read in `tz`. Instants keep whole seconds;
    years outside 1000..9998 are refused.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{show(value)} is not a date ({_FORMS})")
    text = value.strip() if isinstance(value, str) else ""
    try:
        if isinstance(value, int | float) or (text.isdigit() and len(text) != 8):
            moment = datetime.fromtimestamp(int(value) / 1000, tz=UTC)
            day = None
        elif _DATE_ONLY.fullmatch(text) or (text.isdigit() and len(text) == 8):
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(0, 0), tzinfo=tz)
        else:
            day = None
            moment = _parse_moment(text, tz)
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise OverflowError
        return to_utc_naive(moment), day
    except (OverflowError, OSError):
        raise ValueError(f"{show(value)} is out of range (years {MIN_YEAR}..{MAX_YEAR})") from None
    except ValueError:
        raise ValueError(f"{show(value)} is not a date ({_FORMS})") from None


def _parse_moment(text: str, tz: ZoneInfo) -> datetime:
    for fmt in _LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def end_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """The exclusive end (next local midnight, in naive UTC) of a local day; DST-safe."""
    return local_midnight_utc(day + timedelta(days=1), tz)


def render_datetime(moment: datetime | None, tz: ZoneInfo) -> str | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(tz).isoformat(timespec="seconds")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
