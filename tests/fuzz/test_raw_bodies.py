"""Raw-body fuzzing of Pull, export and add-update, on SQLite and PostgreSQL.

Hypothesis builds bodies below the level of the schema: bytes that are not JSON or not
UTF-8, JSON with comments in odd places, wrong types for every key, huge numbers
(10**30, -10**30, 1e308), deep nesting, unicode (escaped and raw surrogates, RTL marks,
NUL in keys and values), 10,000-id lists, bodies of 1 MiB + 1, tampered cursors. Every
answer must be one of:

- a 4xx with a JSON `{"status":"failed","message":...}` body (plus `errors` on a 400);
- a 200 where the body happens to be valid, in its documented shape;

and never a 5xx, a stack trace, SQL, a driver name or HTML. After a 4xx of add-update
the database is unchanged: every table has the rows it had before.

Inputs that once answered 500 stay as `test_regression_*` tests at the end.

`ORDERSEARCH_FUZZ_EXAMPLES=N` runs N examples per property instead of `DEFAULT_EXAMPLES`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx2
import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ordersearch.auth import Authenticator
from ordersearch.config import MAX_BODY_BYTES
from ordersearch.db.engine import Database
from ordersearch.db.tables import metadata
from ordersearch.ingest.parse import CONTACT, CUSTOMER, ENQUIRY, ITEM, ORDER, Section
from ordersearch.search.filters import KNOWN_KEYS
from tests.conftest import ADD_UPDATE, PULL, Tenant
from tests.fuzz import tally

EXPORT = "/ms/customer-search/order-search/api/v1/export"
CM_ID = 1000298  # tests/conftest.py: the tenant's cmId
DEFAULT_EXAMPLES = 120
LONG_RUN = bool(os.environ.get("ORDERSEARCH_FUZZ_EXAMPLES"))
EXAMPLES = int(os.environ.get("ORDERSEARCH_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)
SUITE = "raw bodies"

LEAKS = ("Traceback", "SELECT ", "sqlalchemy", "psycopg", "<html")

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


# --- checking an answer ---------------------------------------------------------------


def table_counts(database: Database) -> dict[str, int]:
    """The row count of every table, in one statement."""
    tables = metadata.sorted_tables
    statement = select(
        *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables)
    )
    with database.read() as conn:
        row = conn.execute(statement).one()
    return {name: int(value) for name, value in row._mapping.items()}


def leaks_in(text: str, sent: bytes) -> list[str]:
    """Leak markers in an answer that the request did not carry itself (a 400 quotes the
    bad value, so `"name": "<html>"` may come back in the message)."""
    sent_text = sent.decode("utf-8", "replace").lower()
    return [
        leak for leak in LEAKS if leak.lower() in text.lower() and leak.lower() not in sent_text
    ]


BODY_ERRORS = (400, 403, 404, 413)


def check_answer(
    response: httpx2.Response, sent: bytes, path: str, statuses: tuple[int, ...] = BODY_ERRORS
) -> Any:
    """The checks every answer passes; returns the parsed JSON body (None for an export)."""
    status = response.status_code
    shown = f"{path} {status}: {response.text[:300]!r} for {sent[:300]!r}"
    assert status < 500, shown
    assert 200 <= status < 500, shown
    found = leaks_in(response.text, sent)
    assert not found, f"answer shows {found}: {shown}"
    content_type = response.headers.get("content-type", "")
    if status == 200 and path == EXPORT:
        assert content_type.startswith(("application/x-ndjson", "text/csv")), shown
        return None
    assert content_type.startswith("application/json"), shown
    body = response.json()
    if status != 200:
        assert isinstance(body, dict), shown
        assert body.get("status") == "failed", shown
        assert isinstance(body.get("message"), str) and body["message"], shown
        assert set(body) <= {"status", "message", "errors"}, shown
        if status == 400:
            errors = body.get("errors")
            assert isinstance(errors, list) and errors, shown
            assert all(isinstance(e, dict) and set(e) == {"field", "message"} for e in errors)
        assert status in statuses, shown
        return body
    if path == ADD_UPDATE:
        results = body if isinstance(body, list) else [body]
        for result in results:
            assert result["status"] in ("success", "failed"), shown
            # A server fault inside one element is answered in its place, within a 200.
            assert result["message"] != "Internal server error", shown
    else:
        assert body["status"] == "success" and isinstance(body["orders"], list), shown
    return body


class Sender:
    """Posts raw bytes as the tenant's write user and checks the answer."""

    def __init__(
        self, client: TestClient, tenant: Tenant, database: Database, backend: str
    ) -> None:
        self.client = client
        self.tenant = tenant
        self.database = database
        self.backend = backend

    def post(
        self,
        path: str,
        raw: bytes | Callable[[], Iterator[bytes]],
        content_type: str | None = "application/json",
    ) -> tuple[httpx2.Response, Any]:
        headers = dict(self.tenant.write_headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        before = table_counts(self.database) if path == ADD_UPDATE else None
        content = raw() if callable(raw) else raw
        response = self.client.post(path, content=content, headers=headers)
        tally.count(SUITE, self.backend)
        sent = raw if isinstance(raw, bytes) else b""
        body = check_answer(response, sent, path)
        if before is not None and response.status_code != 200:
            after = table_counts(self.database)
            assert after == before, f"{response.status_code} changed rows: {before} -> {after}"
        return response, body


@pytest.fixture
def authenticator() -> Authenticator:
    """The `client` fixture's authenticator, which never throttles: the header fuzzing
    fails to log in on purpose, and must keep reaching the credential parsing rather than
    the cool-down (throttling has its own tests in tests/api/test_auth.py)."""
    return Authenticator(max_failures=1_000_000_000)


@pytest.fixture
def sender(
    client: TestClient, tenant: Tenant, database: Database, backend: str
) -> Iterator[Sender]:
    with tally.timed(SUITE, backend):
        yield Sender(client, tenant, database, backend)


# --- values ---------------------------------------------------------------------------

HUGE_NUMBERS: list[Any] = [
    10**30, -(10**30), 1e308, -1e308, 2**63, -(2**63), 2**63 - 1, 2**64, 5e-324, -0.0, 0.5,
    1e16, 123456789012345678,
]
SPECIAL_TEXTS = [
    "", " ", "\t\n", "\x00", "a\x00b", "\u202eevil\u202c", "مرحبا بالعالم", "שלום", "\u200f",
    "\ufeff", "İstanbul", "STRASSE", "ß", "Ǆ", "\u0301", "👩‍💻", "\U0010ffff", "ＡＢＣ", "١٢٣",
    "12, 15,19", " , ,", "1,x", "-", "+", "1e3", "0x10", "1_000", "９", "²", "2024-02-30",
    "2024-03-10T25:00", "99999-01-01", "0001-01-01T00:00:00+05:00", "%", "_", "\\", "'",
    "' OR 1=1 --", "\"", "//", "/*", "*/", "a" * 1025, "x," * 1001, "9" * 5000,
]
surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1,
                     max_size=3)
texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(SPECIAL_TEXTS),
    surrogates,
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), surrogates, st.text(max_size=5)),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(HUGE_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)
    ),
    max_leaves=10,
)
id_lists = st.one_of(
    st.builds(lambda n: list(range(1, n + 1)), st.sampled_from([999, 1000, 1001, 10_000])),
    st.builds(lambda n: ",".join(map(str, range(n))), st.sampled_from([1000, 1001, 10_000])),
    st.lists(st.one_of(numbers, texts, st.none()), max_size=6),
)
values = st.one_of(scalars, json_values, id_lists)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), texts)


@st.composite
def cm_ids(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly the tenant's own cmId (so the other keys get checked), sometimes anything."""
    if draw(st.integers(0, 4)) > 0:
        return {"cmId": draw(st.sampled_from([CM_ID, str(CM_ID), f" {CM_ID} ", float(CM_ID)]))}
    if draw(st.booleans()):
        return {}
    return {"cmId": draw(values)}


pull_bodies = st.builds(
    lambda cm, rest: {**rest, **cm},
    cm_ids(),
    st.dictionaries(keys, values, max_size=8),
)


def section_bodies(section: Section, extra: dict[str, Any] | None = None) -> Any:
    known = sorted(section.known - set(extra or {}))
    fields = st.dictionaries(st.one_of(st.sampled_from(known), texts), values, max_size=6)
    if not extra:
        return fields
    return st.builds(lambda f, e: {**f, **e}, fields, st.fixed_dictionaries({}, optional=extra))


order_infos = section_bodies(
    ORDER, {"product_details": st.one_of(values, st.lists(section_bodies(ITEM), max_size=3))}
)
elements = st.fixed_dictionaries(
    {},
    optional={
        "cmId": st.one_of(st.just(CM_ID), values),
        "customer_info": st.one_of(section_bodies(CUSTOMER), values),
        "contact_info": st.one_of(st.lists(section_bodies(CONTACT), max_size=3), values),
        "enquiry_info": st.one_of(section_bodies(ENQUIRY), values),
        "order_info": st.one_of(order_infos, order_infos, values),
        "zz unknown": values,
    },
)
add_update_bodies = st.one_of(
    elements, elements, st.lists(st.one_of(elements, values), min_size=0, max_size=3), values
)


# --- from values to bytes -------------------------------------------------------------


def _dumps(value: Any, *, ascii_only: bool, indent: int | None) -> bytes:
    # ensure_ascii escapes a lone surrogate as \udXXX (valid JSON, which the server must
    # refuse or accept cleanly); without it the surrogate goes out raw: not UTF-8.
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent, allow_nan=False)
    return text.encode("utf-8", "surrogatepass")


def _json(value: Any) -> bytes:
    return _dumps(value, ascii_only=False, indent=None)


@st.composite
def encoded(draw: st.DrawFn, bodies: Any) -> bytes:
    """A body serialised as JSON, then perhaps broken or decorated at the byte level."""
    value = draw(bodies)
    raw = _dumps(value, ascii_only=draw(st.booleans()), indent=draw(st.sampled_from([None, 1])))
    how = draw(st.sampled_from(["as is", "as is", "as is", "comment", "comment", "truncate",
                                "append", "bom", "nest", "splice"]))
    if how == "comment":
        at = draw(st.integers(0, len(raw)))
        comment = draw(st.sampled_from([b"//x\n", b"// cmId\n", b"/* */", b"/* // */", b"/*",
                                        b"//", b"/**/", b"*/", b"/* \xe2\x80\xae */", b"\n//\n"]))
        raw = raw[:at] + comment + raw[at:]
    elif how == "truncate":
        raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    elif how == "append":
        raw += draw(st.sampled_from([b" ", b"\x00", b"}", b",", b"// done", b"/* x", b"\xff"]))
    elif how == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif how == "nest":
        depth = draw(st.sampled_from([2, 100, 1_000, 10_000]))
        raw = b'{"a":' * depth + raw + b"}" * depth
    elif how == "splice":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=8)) + raw[at:]
    return raw


content_types = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", None,
     "application/json; charset=latin-1", "multipart/form-data; boundary=x"]
)


# --- the properties -------------------------------------------------------------------


@FUZZ
@given(raw=st.one_of(encoded(pull_bodies), st.binary(max_size=64)), content_type=content_types,
       path=st.sampled_from([PULL, EXPORT]))
def test_pull_and_export_never_fail_badly(
    sender: Sender, raw: bytes, content_type: str | None, path: str
) -> None:
    sender.post(path, raw, content_type)


@FUZZ
@given(raw=st.one_of(encoded(add_update_bodies), st.binary(max_size=64)),
       content_type=content_types)
def test_add_update_never_fails_badly_nor_writes_on_4xx(
    sender: Sender, raw: bytes, content_type: str | None
) -> None:
    sender.post(ADD_UPDATE, raw, content_type)


def _seed_pages(sender: Sender, count: int = 3) -> None:
    for i in range(count):
        body = {"customer_info": {"customer_name": f"Cursor {i}", "phone": f"98450{i:05d}"},
                "order_info": {"erp_order_id": f"CUR-{i}", "amount": i + 0.5,
                               "booking_date": f"2024-03-0{i + 1}"}}
        response, _ = sender.post(ADD_UPDATE, _json(body))
        assert response.status_code == 200, response.text


def _tamper(cursor: str, value: Any, order_id: Any) -> str:
    payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    payload["v"], payload["i"] = value, order_id
    encoded_payload = json.dumps(payload, allow_nan=False).encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(encoded_payload).decode().rstrip("=")


def _date_overflows(value: Any) -> bool:
    try:
        moment = datetime.fromisoformat(value["t"])
        if moment.tzinfo is not None:
            moment.astimezone(UTC)
    except OverflowError:
        return True
    except (ValueError, TypeError, KeyError):
        pass
    return False


def _cursor_bug(sort: str, value: Any, order_id: Any, backend: str) -> bool:
    if isinstance(order_id, bool):
        return True  # test_bug_tampered_cursor_boolean_id
    if sort in ("createDate", "updatedAt", "bookingDate", "agreementDate"):
        # test_bug_tampered_cursor_date_out_of_range
        return isinstance(value, dict) and _date_overflows(value)
    if sort in ("customerName", "erpOrderId") and backend == "postgresql":
        return isinstance(value, str) and "\x00" in value  # test_bug_tampered_cursor_nul
    return False


@FUZZ
@given(
    sort=st.sampled_from(["orderId", "createDate", "updatedAt", "bookingDate", "agreementDate",
                          "amount", "customerName", "erpOrderId"]),
    descending=st.booleans(),
    value=st.one_of(values, st.fixed_dictionaries({"t": st.one_of(texts, values)})),
    order_id=st.one_of(st.integers(-(2**70), 2**70), values),
)
def test_tampered_cursors_are_refused_cleanly(
    sender: Sender, sort: str, descending: bool, value: Any, order_id: Any
) -> None:
    """A real nextCursor with its sort value and order id replaced, fingerprint kept."""
    assume(not _cursor_bug(sort, value, order_id, sender.backend))
    if not table_counts(sender.database)["orders"]:
        _seed_pages(sender)
    body = {"cmId": CM_ID, "name": "cursor", "limit": 1,
            "sortParam": f"{sort} {'desc' if descending else 'asc'}"}
    _, first = sender.post(PULL, _json(body))
    assert first["nextCursor"], first
    tampered = {**body, "cursor": _tamper(first["nextCursor"], value, order_id)}
    sender.post(PULL, _dumps(tampered, ascii_only=True, indent=None))


header_bytes = st.binary(max_size=80).map(
    lambda raw: bytes(b for b in raw if b not in b"\r\n\x00")
)
basic_tokens = st.one_of(
    header_bytes,
    st.builds(lambda user, password: base64.b64encode(user + b":" + password),
              header_bytes, header_bytes),
    st.sampled_from([base64.b64encode(b"demo-writer:write-pass"), b"", b"=", b"====",
                     base64.b64encode(b"no-colon"), base64.b64encode(b":no-user"),
                     base64.b64encode(b"\xff\xfe:x"), b"A" * 10_000]),
)


@FUZZ
@given(scheme=st.sampled_from([b"Basic", b"basic", b"BASIC", b"Bearer", b"", b"Basic  "]),
       token=basic_tokens)
def test_authorization_headers_never_fail_badly(
    sender: Sender, scheme: bytes, token: bytes
) -> None:
    value = (scheme + b" " + token).strip(b" \t")
    assume(value.isascii())  # test_bug_non_ascii_basic_token
    response = sender.client.post(
        PULL, content=_pull(name="a"), headers=[(b"authorization", value)]
    )
    tally.count(SUITE, sender.backend)
    check_answer(response, value, PULL, statuses=(401,))
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == 'Basic realm="ordersearch"'


# --- named cases ----------------------------------------------------------------------


def _nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


def _ids(count: int) -> list[int]:
    return list(range(1, count + 1))


def _padded(size: int) -> bytes:
    body = _json({"cmId": CM_ID, "customerIds": "1"})
    return body + b" " * (size - len(body))


def _chunked(size: int) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        body = _padded(size)
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    return chunks


def _pull(**keys: Any) -> bytes:
    return _json({"cmId": CM_ID, **keys})


def _element(**order_info: Any) -> dict[str, Any]:
    return {"customer_info": {"customer_name": "Fuzz"},
            "order_info": {"erp_order_id": "NAMED-1", **order_info}}


# (id, path, body, content type, the statuses allowed)
NAMED: list[tuple[str, str, Any, str | None, set[int]]] = [
    ("empty", PULL, b"", "application/json", {400}),
    ("whitespace", PULL, b" \n\t ", None, {400}),
    ("null", PULL, b"null", None, {400}),
    ("array", PULL, b"[]", None, {400}),
    ("string", PULL, b'"cmId"', None, {400}),
    ("single-quotes", PULL, b"{'cmId': 1000298}", None, {400}),
    ("trailing-comma", PULL, b'{"cmId": 1000298, "name": "a",}', None, {400}),
    ("nan", PULL, b'{"cmId": 1000298, "limit": NaN}', None, {400}),
    ("infinity", PULL, b'{"cmId": 1000298, "limit": Infinity}', None, {400}),
    ("1e309", PULL, b'{"cmId": 1000298, "limit": 1e309}', None, {400}),
    ("unterminated-comment", PULL, b'{"cmId": 1000298, /* "name": "a"}', None, {400}),
    ("comment-at-end", PULL, b'{"cmId": 1000298, "name": "a"} // end', None, {200}),
    ("comment-eats-body", PULL, b'{"cmId": 1000298,//x "name": "a"}', None, {400}),
    ("comment-in-string", PULL, b'{"cmId": 1000298, "name": "a // b /* c */"}', None, {200}),
    ("comment-between-tokens", PULL, b'{/**/"cmId"/**/:/**/1000298/**/,"name"://x\n"a"}',
     None, {200}),
    ("comment-in-number", PULL, b'{"cmId": 1000/**/298, "name": "a"}', None, {400}),
    ("comment-only", PULL, b"// nothing\n/* else */", None, {400}),
    ("bom", PULL, b"\xef\xbb\xbf" + _pull(name="a"), None, {200, 400}),
    ("utf16", PULL, _pull(name="a").decode().encode("utf-16"), None, {400}),
    ("latin1", PULL, '{"cmId": 1000298, "name": "Müller"}'.encode("latin-1"), None, {400}),
    ("raw-surrogate", PULL, b'{"cmId": 1000298, "name": "\xed\xa0\x80"}', None, {400}),
    ("escaped-lone-surrogate", PULL, b'{"cmId": 1000298, "name": "\\ud800"}', None, {400}),
    ("escaped-surrogate-pair", PULL, b'{"cmId": 1000298, "name": "\\ud83d\\ude00"}', None,
     {200}),
    ("rtl", PULL, _pull(name="\u202eredro\u202c", city="القاهرة"), None, {200}),
    ("nul-value", PULL, _pull(name="a\x00b"), None, {400}),
    ("nul-key", PULL, _pull(**{"na\x00me": "a", "name": "a"}), None, {200}),
    ("nul-field-key", PULL, _pull(additionalFields={"k\x00": "v"}), None, {400}),
    ("nul-field-value", PULL, _pull(additionalFields={"k": "v\x00"}), None, {400}),
    ("nul-in-list", PULL, _pull(erpOrderId=["a", "\x00"]), None, {400}),
    ("nul-raw-byte", PULL, b'{"cmId": 1000298, "name": "a\x00"}', None, {400}),
    ("cmId-1e30", PULL, b'{"cmId": 1000000000000000000000000000000, "name": "a"}', None, {400}),
    ("cmId--1e30", PULL, b'{"cmId": -1000000000000000000000000000000, "name": "a"}', None,
     {400}),
    ("cmId-1e308", PULL, b'{"cmId": 1e308, "name": "a"}', None, {400}),
    ("cmId-2^64", PULL, b'{"cmId": 18446744073709551616, "name": "a"}', None, {400}),
    ("ids-1e30", PULL, _pull(customerIds=[10**30]), None, {400}),
    ("ids--1e30", PULL, _pull(orderIds=str(-(10**30))), None, {400}),
    ("ids-1e308", PULL, _pull(enquiryIds=1e308), None, {400}),
    ("ids-2^63", PULL, _pull(customerIds=2**63), None, {400}),
    ("ids-2^63-1", PULL, _pull(customerIds=2**63 - 1), None, {200}),
    ("ids-5000-digits", PULL, _pull(customerIds="9" * 5000), None, {400}),
    ("limit-1e30", PULL, _pull(name="a", limit=10**30), None, {400}),
    ("offset-1e308", PULL, _pull(name="a", offset=1e308), None, {400}),
    ("offset-huge", PULL, _pull(name="a", offset=2**63 - 1), None, {200}),
    ("date-1e308", PULL, _pull(createStartDate=1e308), None, {400}),
    ("date--1e308", PULL, _pull(createEndDate=-1e308), None, {400}),
    ("date-1e30", PULL, _pull(bookingStartDate=10**30), None, {400}),
    ("date-digits", PULL, _pull(bookingStartDate="9" * 5000), None, {400}),
    ("phone-1e308", PULL, _pull(phone=1e308), None, {200}),
    ("name-1e308", PULL, _pull(name=-1e308), None, {200}),
    ("ids-999", PULL, _pull(customerIds=_ids(999)), None, {200}),
    ("ids-1000", PULL, _pull(customerIds=_ids(1000)), None, {200}),
    ("ids-1001", PULL, _pull(customerIds=_ids(1001)), None, {400}),
    ("ids-10000", PULL, _pull(customerIds=_ids(10_000)), None, {400}),
    ("ids-10000-string", PULL, _pull(orderIds=",".join(map(str, _ids(10_000)))), None, {400}),
    ("texts-10000", PULL, _pull(email=[f"{i}@x.org" for i in range(10_000)]), None, {400}),
    ("phones-10000", PULL, _pull(phone=",".join(["9380491257"] * 10_000)), None, {400}),
    ("fields-1001", PULL, _pull(additionalFields={str(i): i for i in range(1001)}), None, {400}),
    ("deep-10000-array", PULL, _nested(10_000), None, {400}),
    ("deep-10000-object", PULL, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, None, {400}),
    ("deep-10000-in-body", PULL, b'{"cmId": 1000298, "customerIds": ' + _nested(10_000) + b"}",
     None, {400}),
    ("deep-1000-unknown-key", PULL, b'{"cmId": 1000298, "name": "a", "x": ' + _nested(1000)
     + b"}", None, {400}),  # bodies nest at most 32 levels (jsonbody.MAX_DEPTH)
    ("deep-900-ids", PULL, b'{"cmId": 1000298, "customerIds": ' + _nested(900) + b"}", None,
     {400}),
    ("deep-900-ids-object", PULL,
     b'{"cmId": 1000298, "customerIds": {"a": ' + _nested(900) + b"}}", None, {400}),
    ("deep-200-ids", PULL, b'{"cmId": 1000298, "customerIds": ' + _nested(200) + b"}", None,
     {400}),
    ("deep-200-field", PULL, _pull(additionalFields={"k": json.loads(_nested(200))}), None,
     {400}),
    ("one-mib", PULL, _padded(MAX_BODY_BYTES), None, {200}),
    ("one-mib-plus-one", PULL, _padded(MAX_BODY_BYTES + 1), None, {413}),
    ("one-mib-plus-one-chunked", PULL, _chunked(MAX_BODY_BYTES + 1), None, {413}),
    ("one-mib-chunked", PULL, _chunked(MAX_BODY_BYTES), None, {200}),
    ("one-mib-key", PULL, _pull(name="a", **{"k" * (MAX_BODY_BYTES - 64): 1}), None, {200}),
    ("export-format-nul", EXPORT, _pull(name="a", format="csv\x00"), None, {400}),
    ("export-format-list", EXPORT, _pull(name="a", format=["csv"]), None, {400}),
    ("export-1e308-limit", EXPORT, _pull(name="a", limit=1e308), None, {400}),
    ("export-deep", EXPORT, _nested(10_000), None, {400}),
    ("export-one-mib-plus-one", EXPORT, _padded(MAX_BODY_BYTES + 1), None, {413}),
    ("add-empty", ADD_UPDATE, b"", None, {400}),
    ("add-null", ADD_UPDATE, b"null", None, {400}),
    ("add-empty-array", ADD_UPDATE, b"[]", None, {400}),
    ("add-1001", ADD_UPDATE, _json([_element()] * 1001), None, {400}),
    ("add-1001-scalars", ADD_UPDATE, _json([1] * 1001), None, {400}),
    ("add-deep-10000", ADD_UPDATE, _nested(10_000), None, {400}),
    ("add-deep-900-section", ADD_UPDATE,
     b'{"order_info": {"erp_order_id": "D"}, "customer_info": ' + _nested(900) + b"}", None,
     {400}),
    ("add-deep-200-field", ADD_UPDATE,
     _json(_element(additional_fields={"k": json.loads(_nested(200))})), None, {400}),
    ("add-deep-300-kept", ADD_UPDATE,
     b'{"order_info": {"erp_order_id": "K"}, "customer_info": {"customer_name": "K", '
     b'"locality": ' + _nested(300) + b"}}", None, {400}),
    ("add-amount-1e30", ADD_UPDATE, _json(_element(amount=10**30)), None, {400}),
    ("add-amount--1e30", ADD_UPDATE, _json(_element(amount=-(10**30))), None, {400}),
    ("add-amount-1e308", ADD_UPDATE, _json(_element(amount=1e308)), None, {400}),
    ("add-amount-tiny", ADD_UPDATE, _json(_element(amount="1e-999999")), None, {400}),
    ("add-amount-tinier", ADD_UPDATE, _json(_element(amount="1e-99999999999")), None,
     {200, 400}),
    ("add-amount-nan", ADD_UPDATE, _json(_element(amount="NaN")), None, {400}),
    ("add-zone-1e30", ADD_UPDATE, _json(_element(zone_id=10**30)), None, {400}),
    ("add-date-1e308", ADD_UPDATE, _json(_element(booking_date=1e308)), None, {400}),
    ("add-date--1e30", ADD_UPDATE, _json(_element(create_date=-(10**30))), None, {400}),
    ("add-cmId-1e30", ADD_UPDATE, _json({**_element(), "cmId": 10**30}), None, {400}),
    ("add-nul-value", ADD_UPDATE, _json(_element(remarks="a\x00b")), None, {400}),
    ("add-nul-field-value", ADD_UPDATE,
     _json(_element(additional_fields={"k": "v\x00"})), None, {400}),
    ("add-nul-kept", ADD_UPDATE,
     _json({**_element(), "customer_info": {"customer_name": "N", "locality": "a\x00"}}),
     None, {400}),
    ("add-nul-unknown-key", ADD_UPDATE, _json({**_element(), "x\x00": 1}), None, {200}),
    ("add-rtl", ADD_UPDATE,
     _json({**_element(remarks="\u202eabc\u202c"),
                   "customer_info": {"customer_name": "עברית", "city": "القاهرة"}}),
     None, {200}),
    ("add-lone-surrogate", ADD_UPDATE,
     b'{"order_info": {"erp_order_id": "\\udfff"}, "customer_info": {"customer_name": "S"}}',
     None, {400}),
    ("add-raw-surrogate", ADD_UPDATE,
     b'{"order_info": {"erp_order_id": "\xed\xbf\xbf"}, "customer_info": {"customer_name": "S"}}',
     None, {400}),
    ("add-10000-items", ADD_UPDATE,
     _json(_element(product_details=[{"sku_id": str(i)} for i in range(10_000)])), None,
     {200, 400}),
    ("add-one-mib-plus-one", ADD_UPDATE, _padded(MAX_BODY_BYTES + 1), None, {413}),
    ("add-one-mib-plus-one-chunked", ADD_UPDATE, _chunked(MAX_BODY_BYTES + 1), None, {413}),
    ("add-comment-odd", ADD_UPDATE,
     b'[/* first */{"order_info"://\n{"erp_order_id": "C1"}, "customer_info": {"customer_name"'
     b': "C" /* } */}}]// tail', None, {200}),
]


# Long run only: one element with 10,000 contacts is matched contact by contact, about 5 s
# of CPU (and the SQLite write lock) for one request.
NAMED_LONG: list[tuple[str, str, Any, str | None, set[int]]] = [
    ("add-10000-contacts", ADD_UPDATE,
     _json({**_element(), "contact_info": [{"contact_person_phone": "1"}] * 10_000}),
     None, {200, 400}),
]


def test_named_bodies(sender: Sender) -> None:
    """Every named body, one after the other on one database; all failures reported."""
    failures = []
    for name, path, raw, content_type, allowed in NAMED + (NAMED_LONG if LONG_RUN else []):
        try:
            response, _ = sender.post(path, raw, content_type)
            assert response.status_code in allowed, response.text[:300]
        except AssertionError as exc:
            failures.append(f"{name}: {exc}")
    assert not failures, "\n".join(failures)


# --- regressions (each of these inputs once answered 500) ------------------------------


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("path", [PULL, EXPORT])
def test_regression_deep_additional_fields_value(sender: Sender, path: str) -> None:
    sender.post(path, _pull(additionalFields={"floor": _deep(300)}))


def test_regression_nul_in_order_additional_field_key(
    sender: Sender
) -> None:
    element = _element(additional_fields={"fl\x00or": "9"})
    sender.post(ADD_UPDATE, _json(element))
    sender.post(ADD_UPDATE, _json([element]))


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_regression_tampered_cursor_date_out_of_range(sender: Sender, moment: str) -> None:
    _seed_pages(sender)
    body = {"cmId": CM_ID, "name": "cursor", "limit": 1, "sortParam": "createDate"}
    _, first = sender.post(PULL, _json(body))
    cursor = _tamper(first["nextCursor"], {"t": moment}, 1)
    sender.post(PULL, _json({**body, "cursor": cursor}))


@pytest.mark.parametrize("sort", ["customerName", "erpOrderId"])
def test_regression_tampered_cursor_nul(
    sender: Sender, sort: str
) -> None:
    _seed_pages(sender)
    body = {"cmId": CM_ID, "name": "cursor", "limit": 1, "sortParam": sort}
    _, first = sender.post(PULL, _json(body))
    cursor = _tamper(first["nextCursor"], "Cursor\x00", 1)
    sender.post(PULL, _json({**body, "cursor": cursor}))


@pytest.mark.parametrize("order_id", [True, False])
def test_regression_tampered_cursor_boolean_id(sender: Sender, order_id: bool) -> None:
    _seed_pages(sender)
    body = {"cmId": CM_ID, "name": "cursor", "limit": 1, "sortParam": "orderId"}
    _, first = sender.post(PULL, _json(body))
    cursor = _tamper(first["nextCursor"], None, order_id)
    sender.post(PULL, _json({**body, "cursor": cursor}))


DEEP = 1000  # under orjson's parse limit (1024), over Python's repr recursion limit


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        pytest.param(PULL, b'{"cmId": 1000298, "customerIds": ' + _nested(DEEP) + b"}",
                     id="pull-id-list"),
        pytest.param(PULL, b'{"cmId": 1000298, "customerIds": {"a": ' + _nested(DEEP) + b"}}",
                     id="pull-id-list-object"),
        pytest.param(PULL, b'{"cmId": 1000298, "name": ' + _nested(DEEP) + b"}",
                     id="pull-name"),
        pytest.param(EXPORT, b'{"cmId": 1000298, "city": ' + _nested(DEEP) + b"}",
                     id="export-city"),
        pytest.param(ADD_UPDATE, b'{"order_info": {"erp_order_id": "D"}, "customer_info": '
                     + _nested(DEEP) + b"}", id="add-update-section"),
        pytest.param(ADD_UPDATE, b'{"order_info": {"erp_order_id": "D", "amount": '
                     + _nested(DEEP) + b"}}", id="add-update-amount"),
    ],
)
def test_regression_deep_value_quoted_in_error(sender: Sender, path: str, raw: bytes) -> None:
    sender.post(path, raw)


@pytest.mark.parametrize("token", [b"\xe9", "é".encode(), b"ZGVtbw==\xa0"])
def test_regression_non_ascii_basic_token(sender: Sender, token: bytes) -> None:
    response = sender.client.post(
        PULL, content=_pull(name="a"), headers=[(b"authorization", b"Basic " + token)]
    )
    check_answer(response, b"", PULL, statuses=(401,))
