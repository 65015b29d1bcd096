"""The client's own logic against a stub transport: retries, backoff, Retry-After, paging
requests and body encoding. No server here: these answers are scripted on purpose."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ordersearch import client as client_module
from ordersearch.client import (
    ADD_UPDATE_PATH,
    EXPORT_PATH,
    PULL_PATH,
    Client,
    ConnectionFailed,
    RateLimitError,
    ServerError,
)

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sleeps the client asked for (none really happens)."""
    slept: list[float] = []
    monkeypatch.setattr(client_module, "_sleep", slept.append)
    return slept


class Script:
    """A MockTransport answering with the scripted responses in turn; records requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers: Iterator[httpx.Response | Exception] = iter(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = next(self.answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests]


def page(orders: list[dict[str, Any]], cursor: str | None = None, total: int = 2) -> Any:
    return httpx.Response(200, json={
        "status": "success", "message": "Orders fetched successfully", "cmId": 7,
        "totalCount": total, "limit": 1, "offset": 0, "orders": orders,
        "nextCursor": cursor, "warnings": [],
    })


def failed(status: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"status": "failed", "message": message},
                          headers=headers)


def make(script: Script, **options: Any) -> Client:
    options.setdefault("cm_id", 7)
    return Client("http://stub", "user", "secret", transport=httpx.MockTransport(script),
                  **options)


def test_429_is_retried_after_retry_after(waits: list[float]) -> None:
    script = Script(failed(429, "Too many failed attempts; retry later", **{"Retry-After": "3"}),
                    page([{"orderId": 1}]))
    with make(script, backoff=0.5) as client:
        assert [o["orderId"] for o in client.pull(orderIds=1)] == [1]
    assert len(script.requests) == 2
    assert len(waits) == 1 and 3.0 <= waits[0] <= 3.5
    assert script.requests[0].headers["Authorization"] == "Basic dXNlcjpzZWNyZXQ="


def test_429_beyond_max_wait_or_the_retries_is_raised(waits: list[float]) -> None:
    script = Script(failed(429, "slow down", **{"Retry-After": "300"}))
    with make(script, max_wait=60) as client, pytest.raises(RateLimitError) as raised:
        client.pull_page({"orderIds": 1})
    assert (raised.value.status, raised.value.retry_after, waits) == (429, 300.0, [])

    script = Script(*[failed(429, "slow down", **{"Retry-After": "1"})] * 3)
    with make(script, retries=2) as client, pytest.raises(RateLimitError):
        client.add_update({"order_info": {}})  # a 429 is safe to repeat even unkeyed
    assert len(script.requests) == 3 and len(waits) == 2


def test_5xx_and_broken_connections_back_off_exponentially(waits: list[float]) -> None:
    script = Script(failed(503, "unavailable"), httpx.ReadTimeout("slow"),
                    failed(500, "Internal server error"), page([{"orderId": 1}]))
    with make(script, backoff=0.5) as client:
        assert client.pull_page({"orderIds": 1})["orders"] == [{"orderId": 1}]
    assert len(script.requests) == 4
    for attempt, wait in enumerate(waits):
        assert 0.25 * 2**attempt <= wait <= 0.5 * 2**attempt

    script = Script(*[httpx.ConnectError("refused")] * 5)
    with make(script, retries=4) as client, pytest.raises(ConnectionFailed, match="refused"):
        client.pull_page({"orderIds": 1})
    assert len(script.requests) == 5


def test_add_update_is_retried_only_when_every_element_names_its_order(
    waits: list[float],
) -> None:
    keyed = {"order_info": {"erp_order_id": "SO-1"}}
    unkeyed = {"customer_info": {"customer_name": "A"}, "order_info": {"amount": 5}}
    ok = httpx.Response(200, json=[{"status": "success"}] * 2)

    script = Script(failed(500, "Internal server error"), ok)
    with make(script) as client:
        assert client.add_update([keyed, {"order_info": {"order_id": 12}}]) == [
            {"status": "success"}
        ] * 2
    assert len(script.requests) == 2

    for error in (failed(500, "Internal server error"), httpx.ReadTimeout("lost")):
        script = Script(error)
        with make(script) as client, pytest.raises((ServerError, ConnectionFailed)):
            client.add_update([keyed, unkeyed])  # a repeat could duplicate `unkeyed`
        assert len(script.requests) == 1

    script = Script(httpx.ConnectError("refused"), ok)  # never sent: always safe
    with make(script) as client:
        client.add_update(unkeyed)
    assert len(script.requests) == 2


def test_pull_sends_cursors_and_encodes_python_values(waits: list[float]) -> None:
    script = Script(page([{"orderId": 1}], cursor="c1"), page([{"orderId": 2}], cursor="c2"),
                    page([], cursor=None))
    when = datetime(2024, 3, 10, 23, 30, 5, 900, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    with make(script) as client:
        orders = client.pull(
            view_id=1, sort="amount desc", page_size=1, customerIds=(5, 6),
            createStartDate=date(2024, 3, 1), createEndDate=when,
            bookingStatus={"Booked"}, additionalFields={"floor": Decimal("3.50")},
            name=None,
        )
        assert [o["orderId"] for o in orders] == [1, 2]
    first, second, third = script.bodies
    assert first == {
        "cmId": 7, "viewId": 1, "sortParam": "amount desc", "limit": 1,
        "customerIds": [5, 6], "createStartDate": "2024-03-01",
        "createEndDate": "2024-03-10T23:30:05+05:30", "bookingStatus": ["Booked"],
        "additionalFields": {"floor": "3.50"},
    }
    assert second == {**first, "cursor": "c1", "includeTotal": False}
    assert third["cursor"] == "c2"
    assert (orders.pages, orders.total_count) == (3, 2)
    assert all(r.url.path == PULL_PATH for r in script.requests)


class ByteByByte(httpx.SyncByteStream):
    """A body arriving one byte per chunk (splitting UTF-8 characters and line ends)."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __iter__(self) -> Iterator[bytes]:
        for index in range(len(self.content)):
            yield self.content[index : index + 1]


def test_export_and_add_update_paths_and_streams(waits: list[float]) -> None:
    lines = '{"orderId": 1, "remarks": "a\u2028b"}\n{"orderId": 2}\n'.encode()
    csv_body = 'orderId,remarks\r\n1,"two\r\nlines"\r\n2,café\r\n'.encode()
    script = Script(httpx.Response(200, content=lines),
                    httpx.Response(200, stream=ByteByByte(csv_body)),
                    httpx.Response(200, json={"status": "success", "order_id": 3}))
    with make(script) as client:
        assert list(client.export(orderIds="1,2")) == [
            {"orderId": 1, "remarks": "a\u2028b"}, {"orderId": 2},
        ]
        assert list(client.export(format="csv", orderIds="1,2")) == [
            {"orderId": "1", "remarks": "two\r\nlines"}, {"orderId": "2", "remarks": "café"},
        ]
        assert client.add_update({"order_info": {"erp_order_id": "X"}})["order_id"] == 3
    assert [r.url.path for r in script.requests] == [EXPORT_PATH, EXPORT_PATH, ADD_UPDATE_PATH]
    assert [b.get("format") for b in script.bodies] == ["ndjson", "csv", None]
