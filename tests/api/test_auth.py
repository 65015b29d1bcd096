"""Authentication, credential cache, failure throttling, subdomain routing, roles and cmId.

Contract §1. Every HTTP test runs on SQLite and PostgreSQL through the `database` fixture.
Time is injected: the Authenticator takes a `clock`, so cache expiry and throttling windows
are tested without sleeping.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx2 import Response

from ordersearch import accounts as accounts_service
from ordersearch import auth as auth_module
from ordersearch.api.app import create_app
from ordersearch.auth import Authenticator
from ordersearch.config import Settings
from ordersearch.db.engine import Database
from ordersearch.errors import AuthenticationFailed, TooManyRequests
from tests.conftest import ADD_UPDATE, PULL, Tenant, basic_auth

INVALID_AUTH_BODY = b'{"status":"failed","message":"Invalid Auth Key"}'
CHALLENGE = 'Basic realm="ordersearch"'
CM_ID = 1000298
OTHER_CM_ID = 1000299
PULL_BODY: dict[str, Any] = {"cmId": CM_ID, "customerIds": "1"}
INGEST_BODY: dict[str, Any] = {
    "cmId": CM_ID,
    "customer_info": {"customer_name": "ABC", "phone": "9380491257"},
    "order_info": {"erp_order_id": "ERP-1", "amount": "10.00"},
}
WRITER = basic_auth("demo-writer", "write-pass")
READER = basic_auth("demo-reader", "read-pass")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(database: Database, settings: Settings) -> Iterator[ClientFactory]:
    """Build apps the way conftest's `client` does, with our own settings/authenticator.

    `app_of` reuses the app of an earlier client so that several client addresses share
    one Authenticator.
    """
    with ExitStack() as stack:

        def make(
            *,
            authenticator: Authenticator | None = None,
            app_settings: Settings | None = None,
            address: str = "testclient",
            app_of: TestClient | None = None,
            base_url: str = "http://testserver",
        ) -> TestClient:
            app = (
                app_of.app
                if app_of is not None
                else create_app(
                    app_settings or settings,
                    database=database,
                    authenticator=authenticator or Authenticator(),
                )
            )
            test_client = TestClient(
                app,
                base_url=base_url,
                raise_server_exceptions=False,
                client=(address, 50000),
            )
            return stack.enter_context(test_client)

        yield make


def pull(client: TestClient, headers: dict[str, str], body: Any = None) -> Response:
    return client.post(PULL, json=PULL_BODY if body is None else body, headers=headers)


def assert_invalid_auth(response: Response) -> None:
    assert response.status_code == 401, response.text
    assert response.content == INVALID_AUTH_BODY
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.headers["content-type"].startswith("application/json")


def assert_throttled(response: Response) -> int:
    """429 with a JSON error body and an integer Retry-After > 0; returns the seconds."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["status"] == "failed"
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) == {"status", "message"}
    assert response.headers["content-type"].startswith("application/json")
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    seconds = int(retry_after)
    assert 0 < seconds <= 300
    return seconds


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# --------------------------------------------------------------------------- 401 cases

MALFORMED_HEADERS: dict[str, dict[str, str]] = {
    "no header": {},
    "empty header": {"Authorization": ""},
    "wrong scheme": {"Authorization": f"Bearer {_b64(b'demo-writer:write-pass')}"},
    "scheme only": {"Authorization": "Basic"},
    "bad base64": {"Authorization": "Basic !!not*base64!!"},
    "no colon": {"Authorization": f"Basic {_b64(b'demo-writer')}"},
    "empty username": {"Authorization": f"Basic {_b64(b':write-pass')}"},
    "not utf-8": {"Authorization": f"Basic {_b64(bytes([0xFF, 0xFE, 0x3A, 0x78]))}"},
}


@pytest.fixture
def disabled_user(database: Database, tenant: Tenant) -> dict[str, str]:
    with database.write() as conn:
        accounts_service.create_user(
            conn, tenant.account, username="demo-disabled", password="disabled-pass",
            role="write",
        )
        accounts_service.disable_user(conn, "demo-disabled")
    return basic_auth("demo-disabled", "disabled-pass")


@pytest.mark.parametrize("path", [PULL, ADD_UPDATE])
def test_missing_or_malformed_header_is_401(client: TestClient, tenant: Tenant, path: str) -> None:
    # 8 failures from one address: under the throttling threshold.
    for case, headers in MALFORMED_HEADERS.items():
        response = client.post(path, json=PULL_BODY, headers=headers)
        assert response.status_code == 401, case
        assert_invalid_auth(response)


@pytest.mark.parametrize("path", [PULL, ADD_UPDATE])
def test_bad_credentials_are_401_and_pay_one_hash_each(
    client: TestClient,
    tenant: Tenant,
    disabled_user: dict[str, str],
    authenticator: Authenticator,
    path: str,
) -> None:
    cases = {
        "unknown user": basic_auth("nobody-here", "write-pass"),
        "wrong password": basic_auth("demo-writer", "not-the-password"),
        "disabled user": disabled_user,
    }
    for case, headers in cases.items():
        before = authenticator.hash_verifications
        response = client.post(path, json=PULL_BODY, headers=headers)
        assert response.status_code == 401, case
        assert_invalid_auth(response)
        # An unknown user costs the same slow hash as a known one: no timing oracle.
        assert authenticator.hash_verifications == before + 1, case


def test_every_401_is_byte_identical(
    client: TestClient, tenant: Tenant, disabled_user: dict[str, str]
) -> None:
    """Status, body and headers of all failure kinds match exactly (9 failures: < 10)."""
    cases = [
        {},
        MALFORMED_HEADERS["wrong scheme"],
        MALFORMED_HEADERS["bad base64"],
        MALFORMED_HEADERS["no colon"],
        basic_auth("nobody-here", "write-pass"),
        basic_auth("demo-writer", "not-the-password"),
        disabled_user,
    ]
    seen = set()
    for headers in cases:
        response = pull(client, headers)
        assert_invalid_auth(response)
        # X-Request-Id is random per request, whatever the failure kind.
        headers_seen = sorted(i for i in response.headers.items() if i[0] != "x-request-id")
        seen.add((response.status_code, response.content, tuple(headers_seen)))
    assert len(seen) == 1, seen


def test_wrong_password_after_a_cached_success_still_fails(
    client: TestClient, tenant: Tenant, authenticator: Authenticator
) -> None:
    assert pull(client, WRITER).status_code == 200
    before = authenticator.hash_verifications
    assert_invalid_auth(pull(client, basic_auth("demo-writer", "write-pas")))
    assert_invalid_auth(pull(client, basic_auth("demo-writer", "write-pass ")))
    assert authenticator.hash_verifications == before + 2


# --------------------------------------------------------------------------- cache


def test_warm_requests_pay_no_hash(
    client: TestClient, tenant: Tenant, authenticator: Authenticator
) -> None:
    before = authenticator.hash_verifications
    assert pull(client, WRITER).status_code == 200
    assert authenticator.hash_verifications == before + 1
    for _ in range(5):
        assert pull(client, WRITER).status_code == 200
    assert authenticator.hash_verifications == before + 1
    # Other credentials are cached separately.
    assert pull(client, READER).status_code == 200
    assert pull(client, READER).status_code == 200
    assert authenticator.hash_verifications == before + 2


def test_set_password_drops_cached_credentials(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    assert pull(client, WRITER).status_code == 200
    assert pull(client, WRITER).status_code == 200  # now served from the cache
    with database.write() as conn:
        accounts_service.set_password(conn, "demo-writer", "brand-new-pass")
    assert_invalid_auth(pull(client, WRITER))
    assert pull(client, basic_auth("demo-writer", "brand-new-pass")).status_code == 200
    # The other user of the account is untouched.
    assert pull(client, READER).status_code == 200


def test_disable_user_drops_cached_credentials(
    client: TestClient, database: Database, tenant: Tenant, authenticator: Authenticator
) -> None:
    assert pull(client, WRITER).status_code == 200
    assert pull(client, WRITER).status_code == 200
    with database.write() as conn:
        accounts_service.disable_user(conn, "demo-writer")
    assert_invalid_auth(pull(client, WRITER))
    with database.write() as conn:
        accounts_service.enable_user(conn, "demo-writer")
    before = authenticator.hash_verifications
    assert pull(client, WRITER).status_code == 200
    assert authenticator.hash_verifications == before + 1  # new version: verified afresh


def test_cache_entry_expires_after_ttl(make_client: ClientFactory, tenant: Tenant) -> None:
    clock = FakeClock()
    authenticator = Authenticator(cache_ttl=60.0, clock=clock)
    client = make_client(authenticator=authenticator)
    assert pull(client, WRITER).status_code == 200
    assert authenticator.hash_verifications == 1
    clock.advance(59)
    assert pull(client, WRITER).status_code == 200
    assert authenticator.hash_verifications == 1
    clock.advance(2)  # 61 s after the verification: past the TTL
    assert pull(client, WRITER).status_code == 200
    assert authenticator.hash_verifications == 2
    assert pull(client, WRITER).status_code == 200
    assert authenticator.hash_verifications == 2


# --------------------------------------------------------------------------- throttling
#
# These tests count failures, not hashing cost: a low-cost argon2id hasher keeps the
# dozens of verifications they need fast. It is installed before the tenant's users are
# created and before the Authenticator makes its dummy hash, and restored afterwards.

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts_service, "password_hasher", CHEAP_HASHER)
    monkeypatch.setattr(auth_module, "password_hasher", CHEAP_HASHER)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttled_authenticator(cheap_hashing: None, clock: FakeClock) -> Authenticator:
    return Authenticator(clock=clock)


@pytest.fixture
def fast_tenant(cheap_hashing: None, make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


@pytest.fixture
def throttled_client(
    make_client: ClientFactory, fast_tenant: Tenant, throttled_authenticator: Authenticator
) -> TestClient:
    return make_client(authenticator=throttled_authenticator)


def fail(client: TestClient, times: int, username: str = "demo-writer") -> None:
    for _ in range(times):
        assert_invalid_auth(pull(client, basic_auth(username, "wrong")))


def test_nine_failures_never_throttle(throttled_client: TestClient, clock: FakeClock) -> None:
    for _ in range(9):
        fail(throttled_client, 1)
        clock.advance(1)
    assert pull(throttled_client, WRITER).status_code == 200


def test_tenth_failure_is_still_401_then_429_until_cool_down(
    throttled_client: TestClient, clock: FakeClock, throttled_authenticator: Authenticator
) -> None:
    for _ in range(10):  # the 10th failure itself is answered 401
        fail(throttled_client, 1)
        clock.advance(1)
    before = throttled_authenticator.hash_verifications
    retry_after = assert_throttled(pull(throttled_client, WRITER))  # correct credentials too
    assert_throttled(pull(throttled_client, basic_auth("demo-writer", "wrong")))
    assert throttled_authenticator.hash_verifications == before  # refused before hashing
    # Still refused one second before the announced end of the cool-down ...
    clock.advance(retry_after - 1)
    assert_throttled(pull(throttled_client, WRITER))
    # ... and accepted once it is over.
    clock.advance(1)
    assert pull(throttled_client, WRITER).status_code == 200


def test_throttle_ends_after_the_window(throttled_client: TestClient, clock: FakeClock) -> None:
    fail(throttled_client, 10)
    assert_throttled(pull(throttled_client, WRITER))
    clock.advance(5 * 60 - 1)
    assert_throttled(pull(throttled_client, WRITER))
    clock.advance(2)
    assert pull(throttled_client, WRITER).status_code == 200


def test_failures_older_than_the_window_do_not_count(
    throttled_client: TestClient, clock: FakeClock
) -> None:
    fail(throttled_client, 9)
    clock.advance(5 * 60 + 1)
    fail(throttled_client, 9)
    # 18 failures in total, but never 10 within 5 minutes.
    assert pull(throttled_client, WRITER).status_code == 200


def test_throttle_by_address_covers_every_username(
    make_client: ClientFactory,
    fast_tenant: Tenant,
    clock: FakeClock,
    throttled_authenticator: Authenticator,
) -> None:
    client = make_client(authenticator=throttled_authenticator, address="192.0.2.10")
    for i in range(10):  # ten different usernames, one address
        fail(client, 1, username=f"guess-{i}")
    assert_throttled(pull(client, WRITER))
    assert_throttled(pull(client, READER))
    assert_throttled(pull(client, {}))  # even a request without credentials
    # Another address, same users: unaffected.
    elsewhere = make_client(app_of=client, address="192.0.2.11")
    assert pull(elsewhere, WRITER).status_code == 200
    assert pull(elsewhere, READER).status_code == 200
    clock.advance(5 * 60 + 1)
    assert pull(client, WRITER).status_code == 200


def test_malformed_headers_count_against_the_address(
    make_client: ClientFactory,
    fast_tenant: Tenant,
    clock: FakeClock,
    throttled_authenticator: Authenticator,
) -> None:
    client = make_client(authenticator=throttled_authenticator, address="192.0.2.20")
    for _ in range(10):
        assert_invalid_auth(pull(client, {}))
    assert_throttled(pull(client, WRITER))
    elsewhere = make_client(app_of=client, address="192.0.2.21")
    assert pull(elsewhere, WRITER).status_code == 200


def test_throttle_by_username_covers_every_address(
    make_client: ClientFactory,
    fast_tenant: Tenant,
    clock: FakeClock,
    throttled_authenticator: Authenticator,
) -> None:
    first = make_client(authenticator=throttled_authenticator, address="198.51.100.1")
    for i in range(10):  # one username, ten addresses: no address reaches 10 failures
        fail(make_client(app_of=first, address=f"198.51.100.{i + 1}"), 1)
    owner = make_client(app_of=first, address="203.0.113.5")
    assert_throttled(pull(owner, WRITER))
    # Another username, from a fresh address or from an attacking one: unaffected.
    assert pull(owner, READER).status_code == 200
    assert pull(first, READER).status_code == 200
    clock.advance(5 * 60 + 1)
    assert pull(owner, WRITER).status_code == 200


def test_throttle_on_the_authenticator_with_arbitrary_client_strings(
    database: Database, fast_tenant: Tenant, throttled_authenticator: Authenticator
) -> None:
    authenticator = throttled_authenticator
    with database.read() as conn:
        for i in range(10):
            with pytest.raises(AuthenticationFailed):
                authenticator.authenticate(conn, "demo-writer", "wrong", f"addr-{i}")
        with pytest.raises(TooManyRequests) as throttled:
            authenticator.authenticate(conn, "demo-writer", "write-pass", "fresh-addr")
        assert throttled.value.retry_after > 0
        principal = authenticator.authenticate(conn, "demo-reader", "read-pass", "addr-0")
        assert principal.username == "demo-reader"
        for i in range(10):
            with pytest.raises(AuthenticationFailed):
                authenticator.authenticate(conn, f"guess-{i}", "x", "bad-addr")
        with pytest.raises(TooManyRequests):
            authenticator.authenticate(conn, "demo-reader", "read-pass", "bad-addr")
        principal = authenticator.authenticate(conn, "demo-reader", "read-pass", "good-addr")
        assert principal.account.cm_id == CM_ID


# --------------------------------------------------------------------------- subdomains

BASE_DOMAIN = "orders.example.com"
GOOD_HOSTS = ["demo.orders.example.com", "DEMO.Orders.Example.COM", "demo.orders.example.com:8443"]
BAD_HOSTS = [
    "other.orders.example.com",  # another account's subdomain
    "orders.example.com",  # the bare base domain
    "",  # no host
    "testserver",
    "127.0.0.1:8000",
    "demo",
    "demo.orders.example.com.evil.test",
    "x.demo.orders.example.com",
    "demo-orders.example.com",
    "demo.orders.example.co",
    "unknown.orders.example.com",
]


@pytest.fixture
def routed_client(
    make_client: ClientFactory, database: Database, make_tenant: Callable[..., Tenant]
) -> TestClient:
    make_tenant()  # demo
    make_tenant(cm_id=OTHER_CM_ID, subdomain="other")
    routed = Settings(database_url=str(database.engine.url), base_domain=BASE_DOMAIN)
    return make_client(app_settings=routed)


def test_own_subdomain_is_accepted(routed_client: TestClient) -> None:
    for host in GOOD_HOSTS:
        response = pull(routed_client, {**WRITER, "Host": host})
        assert response.status_code == 200, (host, response.text)


def test_other_hosts_are_401(routed_client: TestClient) -> None:
    for host in BAD_HOSTS:
        for headers in (WRITER, READER):
            response = pull(routed_client, {**headers, "Host": host})
            assert response.status_code == 401, host
            assert_invalid_auth(response)


def test_each_account_only_on_its_own_subdomain(routed_client: TestClient) -> None:
    other_writer = basic_auth("other-writer", "write-pass")
    other_body = {"cmId": OTHER_CM_ID, "customerIds": "1"}
    ok = pull(routed_client, {**other_writer, "Host": "other.orders.example.com"}, other_body)
    assert ok.status_code == 200, ok.text
    assert ok.json()["cmId"] == OTHER_CM_ID
    assert_invalid_auth(
        pull(routed_client, {**other_writer, "Host": "demo.orders.example.com"}, other_body)
    )


def test_base_url_of_the_subdomain_works(
    make_client: ClientFactory, database: Database, tenant: Tenant
) -> None:
    routed = Settings(database_url=str(database.engine.url), base_domain=BASE_DOMAIN)
    client = make_client(app_settings=routed, base_url="https://demo.orders.example.com")
    assert pull(client, WRITER).status_code == 200


def test_without_base_domain_any_host_works(client: TestClient, tenant: Tenant) -> None:
    for host in ["testserver", "anything.example.net", "other.orders.example.com", ""]:
        response = pull(client, {**WRITER, "Host": host})
        assert response.status_code == 200, (host, response.text)


# --------------------------------------------------------------------------- roles, cmId


def test_read_user_cannot_ingest(client: TestClient, tenant: Tenant) -> None:
    response = client.post(ADD_UPDATE, json=INGEST_BODY, headers=READER)
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["status"] == "failed" and isinstance(body["message"], str)
    assert set(body) == {"status", "message"}
    # An array body is refused the same way.
    response = client.post(ADD_UPDATE, json=[INGEST_BODY, INGEST_BODY], headers=READER)
    assert response.status_code == 403, response.text


def test_read_user_can_pull(client: TestClient, tenant: Tenant) -> None:
    response = pull(client, READER)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"


def test_write_user_can_pull(client: TestClient, tenant: Tenant) -> None:
    response = pull(client, WRITER)
    assert response.status_code == 200, response.text
    assert response.json()["cmId"] == CM_ID


def test_cm_id_of_another_account_is_403(
    client: TestClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant()
    make_tenant(cm_id=OTHER_CM_ID, subdomain="other")
    expected = b'{"status":"failed","message":"cmId does not match the authenticated account"}'
    for cm_id in (OTHER_CM_ID, str(OTHER_CM_ID), 424242):
        for headers in (WRITER, READER):
            response = pull(client, headers, {"cmId": cm_id, "customerIds": "1"})
            assert response.status_code == 403, (cm_id, response.text)
            assert response.content == expected


def test_read_user_is_refused_before_the_body_is_parsed(
    client: TestClient, tenant: Tenant
) -> None:
    response = client.post(ADD_UPDATE, content=b'{"cmId": 1000298,', headers=READER)
    assert response.status_code == 403, response.text
