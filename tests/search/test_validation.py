"""Pull Order refusals (contract §1, §2, §4) and the lenient body rules.

Every 400 names the field and the bad value, both in `errors[]` and in `message`, and is
JSON without internals. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from ordersearch.config import MAX_BODY_BYTES
from tests.conftest import PULL, Tenant, basic_auth
from tests.search import add_orders, element, post_pull, pull

CM_ID = 1000298  # the `tenant` fixture's account


def assert_plain_json_error(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    for leak in ("Traceback", "SELECT", "<html", "sqlalchemy", "psycopg"):
        assert leak not in response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "failed"
    assert isinstance(body["message"], str) and body["message"]
    return body


def assert_names(response: Response, field: str, *fragments: str) -> None:
    """A 400 whose `errors[]` has `field` with every fragment, and whose message too."""
    body = assert_plain_json_error(response, 400)
    messages = [e["message"] for e in body["errors"] if e["field"] == field]
    assert messages, f"no error names {field!r}: {body}"
    assert f"{field}:" in body["message"]
    for fragment in fragments:
        assert any(fragment in message for message in messages), (fragment, body)
        assert fragment in body["message"], (fragment, body)


def post_pull_raw(client: TestClient, tenant: Tenant, raw: bytes) -> Response:
    """A pull whose body is sent as these bytes, whatever they are."""
    return client.post(PULL, content=raw, headers=tenant.write_headers)


# ---------------------------------------------------------------------------------------
# 400: one bad field


def _ids(count: int) -> list[int]:
    return list(range(1, count + 1))


BAD_FIELDS = [
    pytest.param({"customerIds": "1"}, "cmId", ["required"], id="cmId missing"),
    pytest.param({"cmId": "", "customerIds": "1"}, "cmId", ["required"], id="cmId blank"),
    pytest.param({"cmId": 0, "customerIds": "1"}, "cmId", ["0 ", "> 0"], id="cmId 0"),
    pytest.param({"cmId": -5, "customerIds": "1"}, "cmId", ["-5"], id="cmId negative"),
    pytest.param({"cmId": "abc", "customerIds": "1"}, "cmId", ["'abc'"], id="cmId abc"),
    pytest.param({"cmId": 1.5, "customerIds": "1"}, "cmId", ["1.5"], id="cmId fraction"),
    pytest.param(
        {"cmId": CM_ID, "viewId": 2, "limit": 10}, "filters", ["at least one filter"],
        id="no filter, only viewId and limit",
    ),
    pytest.param(
        {"cmId": CM_ID, "name": "", "customerIds": " , ", "phone": None, "sortParam": "amount"},
        "filters", ["at least one filter"], id="only blank filters",
    ),
    pytest.param(
        {"cmId": CM_ID, "customerIds": "12, 1x5"}, "customerIds", ["'1x5'"],
        id="id token in a comma string",
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": [1, "two"]}, "orderIds", ["'two'"], id="id token in an array"
    ),
    pytest.param(
        {"cmId": CM_ID, "assignIdStr": "7.5"}, "assignIdStr", ["'7.5'"], id="fractional id"
    ),
    pytest.param(
        {"cmId": CM_ID, "leadIdStr": "L-9"}, "leadIdStr", ["'L-9'"],
        id="alias named as sent",
    ),
    pytest.param(
        {"cmId": CM_ID, "customer_Ids": "x"}, "customer_Ids", ["'x'"], id="customer_Ids alias"
    ),
    pytest.param(
        {"cmId": CM_ID, "customerIds": str(2**63)}, "customerIds", [str(2**63)],
        id="id out of range",
    ),
    pytest.param(
        {"cmId": CM_ID, "customerIds": _ids(1001)}, "customerIds", ["1001"],
        id="1001 ids in an array",
    ),
    pytest.param(
        {"cmId": CM_ID, "attr3": ",".join(f"v{i}" for i in _ids(1001))}, "attr3", ["1001"],
        id="1001 values in a comma string",
    ),
    pytest.param(
        {"cmId": CM_ID, "createStartDate": "2024-02-30"}, "createStartDate", ["'2024-02-30'"],
        id="impossible date",
    ),
    pytest.param(
        {"cmId": CM_ID, "nextFollowupEndDate": "next tuesday"}, "nextFollowupEndDate",
        ["'next tuesday'"], id="unparseable date",
    ),
    pytest.param(
        {"cmId": CM_ID, "agreementEndDate": "10/03/2024"}, "agreementEndDate",
        ["'10/03/2024'"], id="dd/mm/yyyy date",
    ),
    pytest.param(
        {"cmId": CM_ID, "bookingStartDate": "2024-03-11", "bookingEndDate": "2024-03-10"},
        "bookingStartDate", ["'2024-03-11'", "bookingEndDate", "'2024-03-10'"],
        id="start day after end day",
    ),
    pytest.param(
        {
            "cmId": CM_ID,
            "createStartDate": "2024-03-10 10:00:01",
            "createEndDate": "2024-03-10 10:00",
        },
        "createStartDate", ["'2024-03-10 10:00:01'", "'2024-03-10 10:00'"],
        id="start instant after end instant",
    ),
    pytest.param({"cmId": CM_ID, "orderIds": "1", "viewId": 4}, "viewId", ["4"], id="viewId 4"),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "viewId": "full"}, "viewId", ["'full'"],
        id="viewId full",
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "sortParam": "price"}, "sortParam", ["'price'"],
        id="unknown sort field",
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "sortParam": "amount sideways"}, "sortParam",
        ["'amount sideways'"], id="unknown sort direction",
    ),
    pytest.param({"cmId": CM_ID, "orderIds": "1", "limit": 0}, "limit", ["0"], id="limit 0"),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "limit": 501}, "limit", ["501"], id="limit 501"
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "limit": "ten"}, "limit", ["'ten'"], id="limit ten"
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "offset": -1}, "offset", ["-1"], id="negative offset"
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "includeTotal": "maybe"}, "includeTotal",
        ["'maybe'"], id="includeTotal maybe",
    ),
    pytest.param({"cmId": CM_ID, "phone": "n/a"}, "phone", ["'n/a'"], id="phone without digits"),
    pytest.param(
        {"cmId": CM_ID, "additionalFields": "floor=3"}, "additionalFields", ["'floor=3'"],
        id="additionalFields not an object",
    ),
    pytest.param({"cmId": CM_ID, "name": "x\x00y"}, "name", ["NUL"], id="NUL in text"),
    pytest.param(
        {"cmId": CM_ID, "name": "x" * 1025}, "name", ["1024"], id="text over 1024 characters"
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "cursor": "not-a-cursor"}, "cursor",
        ["'not-a-cursor'"], id="garbage cursor",
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "cursor": 12345}, "cursor", [],
        id="cursor not a string",
    ),
    pytest.param(
        {"cmId": CM_ID, "orderIds": "1", "cursor": "anything", "offset": 10}, "cursor",
        ["offset"], id="cursor with offset > 0",
    ),
]


@pytest.mark.parametrize(("body", "field", "fragments"), BAD_FIELDS)
def test_a_bad_field_is_a_400_naming_it(
    client: TestClient, tenant: Tenant, body: dict[str, Any], field: str, fragments: list[str]
) -> None:
    assert_names(post_pull(client, tenant, body), field, *fragments)


def test_every_bad_field_is_named_at_once(client: TestClient, tenant: Tenant) -> None:
    response = post_pull(
        client, tenant,
        {"cmId": CM_ID, "orderIds": "1, x", "limit": 0, "createEndDate": "soon"},
    )

    body = assert_plain_json_error(response, 400)
    assert {e["field"] for e in body["errors"]} == {"orderIds", "limit", "createEndDate"}


# Found while writing these tests: dates at the edge of the calendar crash the date-only
# and local-time paths (OverflowError in values.py), where ISO 8601 with an offset gets a
# clean "is out of range" 400.
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("createEndDate", "9999-12-31"),
        ("createStartDate", "0001-01-01"),
        ("bookingStartDate", "0001-01-01 00:00"),
    ],
)
def test_dates_at_the_edge_of_the_calendar_are_not_a_500(
    client: TestClient, tenant: Tenant, key: str, value: str
) -> None:
    response = post_pull(client, tenant, {"cmId": CM_ID, key: value})

    if response.status_code == 400:
        assert_names(response, key, repr(value))
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "fields", [{"fl\x00or": "3"}, {"floor": "3\x00"}], ids=["in a key", "in a value"]
)
def test_nul_in_additional_fields_is_a_400(
    client: TestClient, tenant: Tenant, fields: dict[str, str]
) -> None:
    response = post_pull(client, tenant, {"cmId": CM_ID, "additionalFields": fields})

    assert_names(response, "additionalFields", "NUL")


# ---------------------------------------------------------------------------------------
# 400: the body itself


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param(b'{"cmId": 1000298, "orderIds": "1",}', "not valid JSON", id="trailing comma"),
        pytest.param(b'{"cmId": 1000298 "orderIds": "1"}', "not valid JSON", id="missing comma"),
        pytest.param(b'{"cmId": 1000298, /* "orderIds": "1"}', "/*", id="unterminated comment"),
        pytest.param(b'[{"cmId": 1000298, "customerIds": "1"}]', "JSON object", id="an array"),
        pytest.param(b'"cmId=1000298"', "JSON object", id="a string"),
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b'{"cmId": 1000298, "name": "\xff"}', "UTF-8", id="not UTF-8"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(
    client: TestClient, tenant: Tenant, raw: bytes, fragment: str
) -> None:
    assert_names(post_pull_raw(client, tenant, raw), "body", fragment)


# ---------------------------------------------------------------------------------------
# Cursors that do not belong to the query


def _first_page_cursor(client: TestClient, tenant: Tenant, **keys: Any) -> str:
    add_orders(client, tenant, element(), element(), element())
    cursor = pull(client, tenant, limit=1, **keys)["nextCursor"]
    assert isinstance(cursor, str)
    return cursor


@pytest.mark.parametrize(
    "changed",
    [
        {"createStartDate": "2001-01-01"},
        {"name": "customer"},
        {"sortParam": "createDate asc"},
        {"sortParam": "orderId desc"},
    ],
    ids=["another filter value", "one filter more", "another direction", "another field"],
)
def test_a_cursor_from_a_different_query_is_a_400(
    client: TestClient, tenant: Tenant, changed: dict[str, str]
) -> None:
    query = {"createStartDate": "2000-01-01", "sortParam": "createDate desc"}
    cursor = _first_page_cursor(client, tenant, **query)

    response = post_pull(client, tenant, {"cmId": CM_ID, **query, **changed, "cursor": cursor})

    assert_names(response, "cursor", "different query")


def test_a_cursor_ignores_view_and_limit(client: TestClient, tenant: Tenant) -> None:
    cursor = _first_page_cursor(client, tenant, createStartDate="2000-01-01")

    answer = pull(client, tenant, createStartDate="2000-01-01", cursor=cursor, viewId=1, limit=5)

    assert len(answer["orders"]) == 2


@pytest.mark.parametrize("value", ["abc", 1.5], ids=["text", "number"])
def test_a_tampered_cursor_is_a_400(client: TestClient, tenant: Tenant, value: Any) -> None:
    cursor = _first_page_cursor(client, tenant, createStartDate="2000-01-01")
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    payload["v"] = value  # the create date the next page starts after
    tampered = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")

    response = post_pull(
        client, tenant, {"cmId": CM_ID, "createStartDate": "2000-01-01", "cursor": tampered}
    )

    assert_names(response, "cursor")


# ---------------------------------------------------------------------------------------
# 401, 403, 404, 405, 413


def test_no_credentials_is_401(client: TestClient, tenant: Tenant) -> None:
    response = client.post(PULL, json={"cmId": CM_ID, "orderIds": "1"})

    assert response.status_code == 401
    assert response.json() == {"status": "failed", "message": "Invalid Auth Key"}
    assert response.headers["WWW-Authenticate"] == 'Basic realm="ordersearch"'


def test_wrong_password_is_the_same_401(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        PULL, json={"cmId": CM_ID, "orderIds": "1"}, headers=basic_auth("demo-reader", "nope")
    )

    assert response.status_code == 401
    assert response.json() == {"status": "failed", "message": "Invalid Auth Key"}
    assert response.headers["WWW-Authenticate"] == 'Basic realm="ordersearch"'


def test_the_read_user_may_pull(client: TestClient, tenant: Tenant) -> None:
    response = client.post(PULL, json={"cmId": CM_ID, "orderIds": "1"}, headers=tenant.read_headers)

    assert response.status_code == 200, response.text


def test_cm_id_of_another_account_is_403(
    client: TestClient, tenant: Tenant, make_tenant: Any
) -> None:
    make_tenant(cm_id=2000001, subdomain="other")

    response = post_pull(client, tenant, {"cmId": 2000001, "orderIds": "1"})

    assert response.status_code == 403
    assert response.json() == {
        "status": "failed", "message": "cmId does not match the authenticated account"
    }


def test_body_over_one_mib_is_413(client: TestClient, tenant: Tenant) -> None:
    start = b'{"cmId": 1000298, "orderIds": "1"}'
    at_limit = start + b" " * (MAX_BODY_BYTES - len(start))

    assert post_pull_raw(client, tenant, at_limit).status_code == 200
    response = post_pull_raw(client, tenant, at_limit + b" ")
    body = assert_plain_json_error(response, 413)
    assert "1 MiB" in body["message"]



def test_unknown_path_is_a_json_404(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/ms/customer-search/order-search/api/v1/pull-everything",
        json={"cmId": CM_ID, "orderIds": "1"},
        headers=tenant.write_headers,
    )

    assert_plain_json_error(response, 404)


def test_get_on_the_pull_path_is_a_json_405(client: TestClient, tenant: Tenant) -> None:
    response = client.get(PULL, headers=tenant.write_headers)

    assert_plain_json_error(response, 405)


# ---------------------------------------------------------------------------------------
# Lenient parsing


def test_unknown_keys_are_ignored_with_a_warning(client: TestClient, tenant: Tenant) -> None:
    wanted, _other = add_orders(client, tenant, element(), element())

    answer = pull(client, tenant, orderIds=str(wanted), customerId="7", colour="red")

    assert [o["orderId"] for o in answer["orders"]] == [wanted]
    assert answer["warnings"] == [
        "unknown field 'customerId' ignored; did you mean 'customerIds'?",
        "unknown field 'colour' ignored",
    ]


def test_no_unknown_key_means_no_warning(client: TestClient, tenant: Tenant) -> None:
    assert pull(client, tenant, orderIds="1")["warnings"] == []


def test_numbers_may_come_as_strings_and_strings_as_numbers(
    client: TestClient, tenant: Tenant
) -> None:
    wanted, _other = add_orders(
        client, tenant, element(order={"erp_order_id": "4711"}), element()
    )

    answer = pull(
        client, tenant, cmId=str(CM_ID), erpOrderId=4711, viewId="1", limit="5", offset="0"
    )

    assert [o["orderId"] for o in answer["orders"]] == [wanted]
    assert (answer["cmId"], answer["limit"], answer["offset"]) == (CM_ID, 5, 0)


def test_comments_outside_strings_are_accepted(client: TestClient, tenant: Tenant) -> None:
    wanted, _other = add_orders(client, tenant, element(), element())
    body = f"""{{
        // the account
        "cmId": 1000298, /* a block comment
        over two lines */ "orderIds": "{wanted}" // the last line
    }} // after the object"""

    response = post_pull_raw(client, tenant, body.encode())

    assert response.status_code == 200, response.text
    assert [o["orderId"] for o in response.json()["orders"]] == [wanted]


def test_comment_markers_inside_strings_are_kept(client: TestClient, tenant: Tenant) -> None:
    wanted, _other = add_orders(
        client, tenant,
        element(customer={"customer_name": 'Tom // Jerry /* "Ltd" */'}),
        element(customer={"customer_name": "Tom"}),
    )
    body = """{
        "cmId": 1000298, // the account
        "name": "tom // jerry /* \\"ltd\\" */"
    }"""

    response = post_pull_raw(client, tenant, body.encode())

    assert response.status_code == 200, response.text
    assert [o["orderId"] for o in response.json()["orders"]] == [wanted]


def test_blank_and_null_mean_not_given(client: TestClient, tenant: Tenant) -> None:
    first, second = add_orders(client, tenant, element(), element())

    answer = pull(
        client, tenant, orderIds=f"{first},{second}", name="", phone=None, limit="", viewId=" "
    )

    assert {o["orderId"] for o in answer["orders"]} == {first, second}
    assert (answer["limit"], answer["offset"]) == (50, 0)
    assert "attr1" in answer["orders"][0]  # the default view is 2
