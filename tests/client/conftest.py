"""Fixtures for the client tests: the app behind an in-process transport, or a real server.

`api` gives `Client`s whose requests go to the ASGI app of the `client` fixture (over the
`database` fixture, both backends) through starlette's TestClient: the whole app runs,
only the socket is skipped. `live_server` runs `ordersearch serve` as a subprocess on a
free 127.0.0.1 port over the same database, for the tests that go through real HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ordersearch.client import Client
from ordersearch.db.engine import Database
from tests.conftest import Tenant
from tests.live import LiveServer, running_server

WRITER = ("demo-writer", "write-pass")  # the users the `tenant` fixture makes
READER = ("demo-reader", "read-pass")
CM_ID = 1000298


class AppTransport(httpx.BaseTransport):
    """A sync httpx transport that hands each request to starlette's TestClient."""

    def __init__(self, test_client: TestClient) -> None:
        self.test_client = test_client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.test_client.request(
            request.method, str(request.url), content=request.read(),
            headers=request.headers.multi_items(),
        )
        headers = [
            (key, value) for key, value in answer.headers.multi_items()
            if key.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            answer.status_code, headers=headers, content=answer.content, request=request
        )


MakeClient = Callable[..., Client]


@pytest.fixture
def api(client: TestClient, tenant: Tenant) -> Iterator[MakeClient]:
    """`api(username=..., password=..., **options)`: a Client of the in-process app
    (default: the tenant's write user and cmId)."""
    made: list[Client] = []

    def make(username: str = WRITER[0], password: str = WRITER[1], **options: Any) -> Client:
        options.setdefault("cm_id", tenant.account.cm_id)
        options.setdefault("retries", 0)
        made.append(
            Client("http://testserver", username, password,
                   transport=AppTransport(client), **options)
        )
        return made[-1]

    yield make
    for api_client in made:
        api_client.close()


@pytest.fixture
def live_server(database: Database, tenant: Tenant, tmp_path: Path) -> Iterator[LiveServer]:
    """`ordersearch serve` over the test database (with the tenant made), until /healthz."""
    url = database.engine.url.render_as_string(hide_password=False)
    with running_server(url, tmp_path / "server.log") as server:
        yield server


def seed_elements(count: int = 10) -> list[dict[str, Any]]:
    """`count` add-update elements: customers 0..2 repeat (same phone), statuses alternate,
    create dates spread over March 2024, every order keyed by its erp_order_id."""
    statuses = ["Booked", "Cancelled", "On Hold"]
    return [
        {
            "customer_info": {
                "customer_name": f"Buyer {i % 3}", "phone": f"98450000{i % 3:02d}",
                "city": "Bengaluru" if i % 2 else "Mumbai",
            },
            "order_info": {
                "erp_order_id": f"SO-CLIENT-{i:03d}",
                "booking_status": statuses[i % 3],
                "amount": f"{1000 + 37 * i}.50",
                "currency": "INR",
                "create_date": f"2024-03-{1 + i:02d} 10:00",
                "attr1": "Tower A" if i < 5 else "Tower B",
                "additional_fields": {"floor": i % 4, "parking": "covered"},
            },
        }
        for i in range(count)
    ]
