"""A Python client for an ordersearch server: Pull Order, export and add-update.

```python
from ordersearch.client import Client

with Client("http://127.0.0.1:8000", "demo", "demo", cm_id=1000298) as client:
    for order in client.pull(customerIds=[191696570], sortParam="orderId"):
        print(order["orderId"], order["bookingStatus"])
```

Design:

- **The account** is given once, as `cm_id` when the client is made: Basic credentials
  belong to exactly one account, so every pull of a client is for the same `cmId` (the
  server answers 403 for any other). `add_update` does not need it (the server takes the
  account from the credentials); a client without `cm_id` can only push.
- **Filters** are keyword arguments named exactly as the API's body keys
  (`customerIds=[1, 2]`, `createStartDate="2024-01-01"`, `additionalFields={"floor": 3}`).
  Lists, tuples and sets become JSON arrays, `date`/`datetime` become the API's date
  strings, `Decimal` a decimal string, `None` is left out.
- **Paging** is done for you: `pull()` follows `nextCursor` until the last page and yields
  every order of every page.
- **Errors** are exceptions: `ApiError` and its subclasses for an error answer (status and
  the server's `message` and `errors`), `ConnectionFailed` when the server could not be
  reached; both are `ClientError`s.
- **Retries**, with exponential backoff and jitter: a 429 (honouring `Retry-After`) and a
  connection that could not be opened are retried for every call, since the server did
  nothing with the request; a 5xx or a connection lost mid-request are retried for pull
  and export (read-only) and for add-update when every element names its order
  (`order_info.order_id` or `order_info.erp_order_id`), because such a push, repeated,
  finds its order again and updates it instead of adding a duplicate.
"""

from __future__ import annotations

import codecs
import csv
import email.utils
import io
import os
import random
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, TypedDict, overload

import httpx
import orjson

__all__ = [
    "ADD_UPDATE_PATH",
    "EXPORT_PATH",
    "PULL_PATH",
    "RESERVED_KEYS",
    "AddUpdateResult",
    "ApiError",
    "ApiWarning",
    "AuthError",
    "Client",
    "ClientError",
    "ConnectionFailed",
    "ErrorDetail",
    "ForbiddenError",
    "NotFoundError",
    "Order",
    "OrderIterator",
    "PullPage",
    "RateLimitError",
    "ServerError",
    "ValidationError",
]

# The same paths as ordersearch.api.routes; repeated here so that importing the client
# does not import the server (FastAPI, SQLAlchemy).
PULL_PATH = "/ms/customer-search/order-search/api/v1/pull-internal"
EXPORT_PATH = "/ms/customer-search/order-search/api/v1/export"
ADD_UPDATE_PATH = "/ms/customer/order/api/v1/add-update"

MAX_PAGE_SIZE = 500
# Body keys that pull() and export() set themselves; passed as filters they are refused.
RESERVED_KEYS = frozenset({"cmId", "limit", "offset", "cursor", "viewId", "sortParam", "format"})

Order = dict[str, Any]
"""One order as the API returns it: keys of the chosen view (docs/pull-orders.md#views)."""


class ErrorDetail(TypedDict):
    field: str
    message: str


class PullPage(TypedDict):
    """One answer of the Pull Order endpoint."""

    status: str
    message: str
    cmId: int
    totalCount: int | None
    limit: int
    offset: int
    orders: list[Order]
    nextCursor: str | None
    warnings: list[str]


class AddUpdateResult(TypedDict, total=False):
    """The answer for one add-update element: a success (`order_id`, `customer_id`,
    `enquiry_id`, `warnings`) or, inside an array's answer, a failure (`errors`)."""

    status: Literal["success", "failed"]
    message: str
    order_id: int
    customer_id: int
    enquiry_id: int | None
    warnings: list[str]
    errors: list[ErrorDetail]


# --- errors ------------------------------------------------------------------------------


class ClientError(Exception):
    """Anything that kept a call from getting its answer."""


class ConnectionFailed(ClientError):
    """The server could not be reached, or the connection broke (after the retries)."""


class ApiError(ClientError):
    """The server answered with an error status (after the retries, for 429 and 5xx).

    `status` is the HTTP status, `message` the server's message and `errors` its
    `[{"field", "message"}]` list (empty when the answer has none).
    """

    def __init__(
        self, status: int, message: str, errors: Sequence[ErrorDetail] | None = None
    ) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.errors: list[ErrorDetail] = list(errors or [])


class ValidationError(ApiError):
    """400: the body broke a rule; `errors` names each bad field."""


class AuthError(ApiError):
    """401: missing or wrong credentials, a disabled user or a wrong subdomain."""


class ForbiddenError(ApiError):
    """403: a `cmId` of another account, or a `read` user calling add-update."""


class NotFoundError(ApiError):
    """404: an unknown path, or an order/customer/enquiry/contact id not in the account."""


class RateLimitError(ApiError):
    """429: too many failed logins; `retry_after` is the wait the server asked for."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: Sequence[ErrorDetail] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, message, errors)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: a fault of the server (or of a proxy in front of it)."""


class ApiWarning(UserWarning):
    """The server ignored something the call sent (an unknown key, for instance)."""


_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: ValidationError, 401: AuthError, 403: ForbiddenError, 404: NotFoundError,
    429: RateLimitError,
}


def _api_error(response: httpx.Response) -> ApiError:
    """The exception for an error answer (its body must have been read)."""
    message = response.reason_phrase or "error"
    errors: list[ErrorDetail] = []
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        text = response.text.strip()
        if text:
            message = text.splitlines()[0][:200]
    else:
        if isinstance(body, dict):
            message = str(body.get("message") or message)
            raw_errors = body.get("errors")
            if isinstance(raw_errors, list):
                errors = [
                    ErrorDetail(field=str(e.get("field")), message=str(e.get("message")))
                    for e in raw_errors
                    if isinstance(e, dict)
                ]
    status = response.status_code
    if status == 429:
        return RateLimitError(status, message, errors, _retry_after(response))
    cls = ServerError if status >= 500 else _ERROR_CLASSES.get(status, ApiError)
    return cls(status, message, errors)


def _retry_after(response: httpx.Response) -> float | None:
    """The `Retry-After` header in seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# --- request bodies ----------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    """orjson's hook for what it cannot write itself."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _api_value(value: Any) -> Any:
    """A Python value in the form the API reads (see the module's docstring)."""
    if isinstance(value, datetime):
        # Naive: read in the account's timezone; aware: that instant.
        return value.isoformat(sep="T", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _api_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_api_value(v) for v in value]
    return value


def _dumps(body: Any) -> bytes:
    return orjson.dumps(_api_value(body), default=_json_default)


def _filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    clashes = sorted(RESERVED_KEYS & set(filters))
    if clashes:
        raise TypeError(
            f"{', '.join(clashes)} cannot be passed as a filter: the client sets it "
            "(use cm_id=, view_id=, sort=, page_size=, or pull_page() for a raw body)"
        )
    return {key: _api_value(value) for key, value in filters.items() if value is not None}


def _element_is_keyed(element: Any) -> bool:
    """Whether pushing the element twice updates one order (it names the order)."""
    if not isinstance(element, Mapping):
        return False
    order = element.get("order_info")
    if not isinstance(order, Mapping):
        return False
    return any(str(order.get(key) or "").strip() for key in ("order_id", "erp_order_id"))


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _user_agent() -> str:
    try:
        version = metadata.version("ordersearch")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"ordersearch-client/{version} httpx/{httpx.__version__}"


# --- pull ---------------------------------------------------------------------------------


@dataclass
class OrderIterator(Iterator[Order]):
    """The orders of a pull, fetched a page at a time as they are consumed.

    After the first page: `total_count` is the number of orders matching the filters
    (`totalCount` of the first answer) and `warnings` the server's warnings;
    `pages` counts the pages fetched so far.
    """

    _fetch: Callable[[str | None, bool], PullPage]
    total_count: int | None = None
    warnings: list[str] = field(default_factory=list)
    pages: int = 0
    _buffer: Iterator[Order] = field(default_factory=lambda: iter(()))
    _cursor: str | None = None
    _done: bool = False

    def __iter__(self) -> OrderIterator:
        return self

    def __next__(self) -> Order:
        while True:
            order = next(self._buffer, None)
            if order is not None:
                return order
            if self._done:
                raise StopIteration
            self._next_page()

    def _next_page(self) -> None:
        first = self.pages == 0
        page = self._fetch(self._cursor, first)
        self.pages += 1
        if first:
            self.total_count = page.get("totalCount")
            self.warnings = list(page.get("warnings") or [])
        self._buffer = iter(page.get("orders") or [])
        self._cursor = page.get("nextCursor")
        self._done = not self._cursor


# --- the client ---------------------------------------------------------------------------


class Client:
    """A client of one ordersearch server, for one API user (and so one account).

    `base_url` is the server's root (`http://127.0.0.1:8000`, or a proxy prefix such as
    `https://example.com/orders`). `timeout` is seconds per request (connect, read, each
    chunk of a stream). `retries` is how many times a failed call is tried again
    (0: never), waiting `backoff * 2**attempt` seconds (with jitter, at most `max_wait`)
    or what `Retry-After` asks for; a `Retry-After` longer than `max_wait` raises
    `RateLimitError` at once. `transport` is an `httpx.BaseTransport` (tests, proxies,
    custom TLS); other keyword arguments of `httpx.Client` go in `httpx_options`.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        cm_id: int | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        httpx_options: Mapping[str, Any] | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.cm_id = cm_id
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._http = httpx.Client(
            base_url=base_url,
            auth=httpx.BasicAuth(username, password),
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": _user_agent()},
            **dict(httpx_options or {}),
        )

    # -- lifetime

    def close(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- pull

    def pull(
        self,
        *,
        view_id: int = 2,
        sort: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **filters: Any,
    ) -> OrderIterator:
        """Every order matching the filters, page after page (following `nextCursor`).

        `filters` are the API's filter keys (docs/pull-orders.md#filters), e.g.
        `customerIds=[1, 2]`, `bookingStatus="Booked"`, `createStartDate=date(2024, 1, 1)`.
        `view_id` is 1, 2 or 3, `sort` a `sortParam` (`"amount desc"`), `page_size` the
        orders per request (1..500). The pages are fetched lazily as the iterator is
        consumed; unknown keys the server ignored are reported once as an `ApiWarning`.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        body = self._pull_body(view_id, sort, filters)
        body["limit"] = page_size

        def fetch(cursor: str | None, first: bool) -> PullPage:
            page_body = dict(body)
            if cursor is not None:
                page_body["cursor"] = cursor
                page_body["includeTotal"] = False  # counted once, on the first page
            page = self.pull_page(page_body)
            if first:
                _warn(page.get("warnings"))
            return page

        return OrderIterator(fetch)

    def pull_page(self, body: Mapping[str, Any]) -> PullPage:
        """One raw answer of the Pull endpoint for `body`, sent as given (the client's
        `cm_id` is added when the body has no `cmId`). Paging is up to you: `limit`,
        `offset`, `cursor`."""
        payload = dict(body)
        if "cmId" not in payload and self.cm_id is not None:
            payload["cmId"] = self.cm_id
        response = self._request(PULL_PATH, payload, idempotent=True)
        answer: PullPage = self._json(response)
        return answer

    # -- export

    @overload
    def export(
        self,
        *,
        format: Literal["ndjson"] = "ndjson",
        view_id: int = 2,
        sort: str | None = None,
        **filters: Any,
    ) -> Iterator[Order]: ...

    @overload
    def export(
        self,
        *,
        format: Literal["csv"],
        view_id: int = 2,
        sort: str | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, str]]: ...

    def export(
        self,
        *,
        format: Literal["ndjson", "csv"] = "ndjson",
        view_id: int = 2,
        sort: str | None = None,
        **filters: Any,
    ) -> Iterator[Order] | Iterator[dict[str, str]]:
        """Every matching order through the export endpoint, in one streamed request
        (one consistent snapshot; no paging). NDJSON yields the orders exactly as `pull`
        does; CSV yields each row as a dict of strings (nested values of view 3 are JSON
        text). Errors found before the first row (a bad filter, credentials) are raised
        at the first `next()`; a connection lost mid-stream raises `ConnectionFailed`
        (not retried: rows were already yielded)."""
        if format not in ("ndjson", "csv"):
            raise ValueError("format must be 'ndjson' or 'csv'")
        body = self._pull_body(view_id, sort, filters)
        body["format"] = format
        if format == "csv":
            return csv.DictReader(_lines(self._stream(body)))
        return (orjson.loads(line) for line in _lines(self._stream(body)) if line.strip())

    def export_csv(
        self,
        path_or_file: str | os.PathLike[str] | IO[bytes] | IO[str],
        *,
        view_id: int = 2,
        sort: str | None = None,
        **filters: Any,
    ) -> int:
        """Write the export as CSV (header line first) to a path or an open file; returns
        the number of bytes written. A file at `path` is removed again when the export
        fails."""
        body = self._pull_body(view_id, sort, filters)
        body["format"] = "csv"
        if isinstance(path_or_file, str | os.PathLike):
            path = Path(path_or_file)
            try:
                with path.open("wb") as target:
                    return _copy(self._stream(body), target)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return _copy(self._stream(body), path_or_file)

    # -- add-update

    @overload
    def add_update(self, elements: Mapping[str, Any]) -> AddUpdateResult: ...

    @overload
    def add_update(self, elements: Sequence[Mapping[str, Any]]) -> list[AddUpdateResult]: ...

    def add_update(
        self, elements: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> AddUpdateResult | list[AddUpdateResult]:
        """Push one add-update element (a dict) or a list of up to 1,000.

        One element: its result, or the `ApiError` of its failure (`ValidationError` with
        `.errors`, `NotFoundError`, `ForbiddenError`). A list: one result per element in
        the same order; a failed element is a result with `"status": "failed"` (the
        others are still applied), only a problem of the request as a whole raises.
        """
        if isinstance(elements, str | bytes):
            raise TypeError("add_update takes a dict or a list of dicts, not JSON text")
        many = not isinstance(elements, Mapping)
        payload: Any = list(elements) if many else elements
        keyed = all(_element_is_keyed(e) for e in payload) if many else _element_is_keyed(
            payload
        )
        response = self._request(ADD_UPDATE_PATH, payload, idempotent=keyed)
        result: AddUpdateResult | list[AddUpdateResult] = self._json(response)
        return result

    # -- plumbing

    def _pull_body(
        self, view_id: int, sort: str | None, filters: Mapping[str, Any]
    ) -> dict[str, Any]:
        if self.cm_id is None:
            raise ValueError("this client has no cm_id: make it with Client(..., cm_id=N)")
        body: dict[str, Any] = {"cmId": self.cm_id, "viewId": view_id}
        if sort:
            body["sortParam"] = sort
        body.update(_filters(filters))
        return body

    def _send(self, path: str, payload: Any, *, stream: bool) -> httpx.Response:
        request = self._http.build_request(
            "POST", path, content=_dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        return self._http.send(request, stream=stream)

    def _request(
        self, path: str, payload: Any, *, idempotent: bool, stream: bool = False
    ) -> httpx.Response:
        """POST `payload`; the successful response (streaming: still open), after the
        retries. Raises ApiError for an error answer, ConnectionFailed for no answer."""
        attempt = 0
        while True:
            try:
                response = self._send(path, payload, stream=stream)
            except httpx.TransportError as exc:
                # Not connected: the server never saw the request, always safe to repeat.
                unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt < self.retries and (unsent or idempotent):
                    _sleep(self._delay(attempt, None))
                    attempt += 1
                    continue
                raise ConnectionFailed(
                    f"no answer from {self._http.base_url}: {type(exc).__name__}: "
                    f"{exc or 'connection failed'}"
                ) from exc
            if response.is_success:
                return response
            try:
                response.read()
            finally:
                response.close()
            error = _api_error(response)
            retryable = isinstance(error, RateLimitError) or (
                isinstance(error, ServerError) and idempotent
            )
            if not retryable or attempt >= self.retries:
                raise error
            retry_after = error.retry_after if isinstance(error, RateLimitError) else None
            if retry_after is not None and retry_after > self.max_wait:
                raise error
            _sleep(self._delay(attempt, retry_after))
            attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        if retry_after is not None:
            # What the server asked for, plus a little jitter so that clients throttled
            # together do not all come back at the same instant.
            return retry_after + random.uniform(0, min(self.backoff, 1.0))
        ceiling = min(self.max_wait, self.backoff * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter"

    def _stream(self, body: Mapping[str, Any]) -> Iterator[bytes]:
        """The export's body, chunk by chunk; retried until its first byte only."""
        response = self._request(EXPORT_PATH, body, idempotent=True, stream=True)
        try:
            yield from response.iter_bytes()
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"the export broke off: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            response.close()

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise ApiError(
                response.status_code, f"the answer is not JSON: {response.text[:200]!r}"
            ) from exc


def _warn(server_warnings: Iterable[str] | None) -> None:
    # stack: _warn, fetch, OrderIterator._next_page, OrderIterator.__next__, the caller
    for message in server_warnings or ():
        warnings.warn(f"ordersearch: {message}", ApiWarning, stacklevel=5)


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Decode UTF-8 chunks into lines split at "\\n" only, each with its line ending (as
    `csv` wants them; `str.splitlines` would also split at U+2028 and the like, which JSON
    text may contain unescaped)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _copy(chunks: Iterable[bytes], target: IO[bytes] | IO[str]) -> int:
    """Write the chunks to a binary or a text file; the number of bytes received."""
    written = 0
    if isinstance(target, io.TextIOBase) or "b" not in getattr(target, "mode", "b"):
        text_target: IO[str] = target  # type: ignore[assignment]
        decoder = codecs.getincrementaldecoder("utf-8")()
        for chunk in chunks:
            text_target.write(decoder.decode(chunk))
            written += len(chunk)
        text_target.write(decoder.decode(b"", final=True))
        return written
    binary_target: IO[bytes] = target  # type: ignore[assignment]
    for chunk in chunks:
        binary_target.write(chunk)
        written += len(chunk)
    return written
