"""Keyset cursors: an opaque token for "the rows after this one, in this query's order".

The token carries the last row's sort value and order id, plus a fingerprint of the
filters and sort it belongs to, so a cursor replayed with another query is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from ordersearch.values import MAX_BIGINT, to_utc_naive

if TYPE_CHECKING:
    from ordersearch.search.parse import PullQuery


@dataclass(frozen=True)
class Cursor:
    sort_value: Any
    order_id: int


def fingerprint(query: PullQuery) -> str:
    source = orjson.dumps(query.fingerprint_source(), default=str, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(source).hexdigest()[:16]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any, query: PullQuery) -> Any:
    """The sort value, which must have the type of the query's sort column."""
    field = query.sort.field
    if value is None and field.nullable:
        return None
    if field.name == "orderId":
        return None
    if field.is_text:
        if isinstance(value, str) and "\x00" not in value:
            return value
    elif field.name == "amount":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        moment = datetime.fromisoformat(value["t"])
        return moment if moment.tzinfo is None else to_utc_naive(moment)
    raise ValueError("bad value")


def encode_cursor(query: PullQuery, sort_value: Any, order_id: int) -> str:
    payload = orjson.dumps({"q": fingerprint(query), "v": _encode_value(sort_value), "i": order_id})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(token: Any, query: PullQuery) -> Cursor:
    if not isinstance(token, str):
        raise ValueError("is not a cursor string from nextCursor")
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(payload, dict) or type(payload.get("i")) is not int:
            raise ValueError("bad payload")
        query_print = payload.get("q")
        if query_print != fingerprint(query):
            raise LookupError
        cursor = Cursor(_decode_value(payload.get("v"), query), payload["i"])
    except LookupError:
        raise ValueError("belongs to a different query (filters or sortParam changed)") from None
    except (ValueError, binascii.Error, orjson.JSONDecodeError, TypeError, OverflowError):
        raise ValueError(f"{token[:40]!r} is not a cursor from nextCursor") from None
    if abs(cursor.order_id) > MAX_BIGINT:
        raise ValueError(f"{token[:40]!r} is not a cursor from nextCursor")
    return cursor
