"""The database going away and cold bursts of logins degrade cleanly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from ordersearch.api.app import create_app
from ordersearch.auth import Authenticator
from ordersearch.config import Settings
from ordersearch.db.engine import Database
from tests.conftest import PULL, Tenant, basic_auth


def test_an_unreachable_database_is_a_503_with_retry_after() -> None:
    url = "postgresql://postgres@127.0.0.1:1/nowhere"
    app = create_app(Settings(database_url=url), database=Database.from_url(url))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            PULL, json={"cmId": 1, "orderIds": "1"}, headers=basic_auth("u", "p")
        )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {
        "status": "failed",
        "message": "The database is busy or unreachable; retry shortly",
    }


def test_a_cold_burst_with_the_same_credentials_pays_one_hash(
    database: Database, settings: Settings, tenant: Tenant
) -> None:
    authenticator = Authenticator()
    app = create_app(settings, database=database, authenticator=authenticator)
    before = authenticator.hash_verifications
    body = {"cmId": tenant.account.cm_id, "orderIds": "1"}
    with TestClient(app) as client, ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: client.post(PULL, json=body, headers=tenant.read_headers).status_code,
                range(8),
            )
        )
    assert statuses == [200] * 8
    assert authenticator.hash_verifications - before == 1
