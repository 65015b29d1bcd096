"""Credential checks: argon2id hashes, a cache of verified credentials, failure throttling.

The four ways to fail (no header, bad header, unknown user, wrong password or disabled user)
raise the same AuthenticationFailed, and all but the malformed header pay one hash
verification, so neither the body nor the timing tells them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection

from ordersearch.accounts import ApiUser, load_user, password_hasher
from ordersearch.errors import AuthenticationFailed, Forbidden, TooManyRequests
from ordersearch.tenancy import Account

Clock = Callable[[], float]
MAX_PARALLEL_HASHES = 2


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    account: Account

    def require_write(self) -> None:
        if self.role != "write":
            raise Forbidden("this user may only read; ingest needs a user with role 'write'")

    def require_cm_id(self, cm_id: int | None) -> None:
        if cm_id is not None and cm_id != self.account.cm_id:
            raise Forbidden("cmId does not match the authenticated account")


class FailureThrottle:
    """After `max_failures` failures within `window` seconds for one key, refuse the key
    until the oldest of those failures leaves the window."""

    def __init__(self, max_failures: int, window: float, clock: Clock) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it is not throttled."""
        now = self.clock()
        with self._lock:
            failures = self._recent(key, now)
            if failures is None or len(failures) < self.max_failures:
                return None
            oldest_that_counts = failures[-self.max_failures]
            return max(1, math.ceil(oldest_that_counts + self.window - now))

    def record_failure(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            failures = self._recent(key, now)
            if failures is None:
                failures = self._failures[key] = deque(maxlen=self.max_failures * 2)
            failures.append(now)


@dataclass(frozen=True)
class _Verified:
    user_id: int
    version: int
    expires: float


class Authenticator:
    def __init__(
        self,
        *,
        cache_ttl: float = 300.0,
        max_failures: int = 10,
        window: float = 300.0,
        clock: Clock = time.monotonic,
        cache_size: int = 10_000,
    ) -> None:
        self.cache_ttl = cache_ttl
        self.clock = clock
        self.throttle = FailureThrottle(max_failures, window, clock)
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, _Verified] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._dummy_hash = password_hasher.hash(secrets.token_hex(16))
        self.hash_verifications = 0  # observable by tests: a warm request pays none
        # A cold burst must not run one 64 MiB argon2 verification per request: requests
        # with the same credentials queue on one stripe and the first one fills the cache
        # for the others, and at most MAX_PARALLEL_HASHES verifications run at once.
        self._stripes = [threading.Lock() for _ in range(64)]
        self._hash_slots = threading.BoundedSemaphore(MAX_PARALLEL_HASHES)

    def _digest(self, username: str, password: str) -> bytes:
        message = username.encode() + b"\x00" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _check_throttle(self, username: str, client: str) -> None:
        waits = [
            wait
            for wait in (
                self.throttle.retry_after(f"user:{username}"),
                self.throttle.retry_after(f"addr:{client}"),
            )
            if wait is not None
        ]
        if waits:
            raise TooManyRequests(max(waits))

    def _fail(self, username: str, client: str) -> AuthenticationFailed:
        self.throttle.record_failure(f"user:{username}")
        self.throttle.record_failure(f"addr:{client}")
        return AuthenticationFailed()

    def _verify_hash(self, user: ApiUser | None, password: str) -> bool:
        with self._hash_slots:
            self.hash_verifications += 1
            try:
                return password_hasher.verify(
                    user.password_hash if user else self._dummy_hash, password
                ) and user is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def _cached(self, user: ApiUser | None, digest: bytes) -> Principal | None:
        with self._lock:
            cached = self._cache.get(digest)
        if (
            user is not None
            and user.enabled
            and cached is not None
            and cached.user_id == user.id
            and cached.version == user.version
            and cached.expires > self.clock()
        ):
            return Principal(user.id, user.username, user.role, user.account)
        return None

    def authenticate(
        self, conn: Connection, username: str, password: str, client: str
    ) -> Principal:
        self._check_throttle(username, client)
        user = load_user(conn, username)
        digest = self._digest(username, password)
        principal = self._cached(user, digest)
        if principal is not None:
            return principal
        with self._stripes[digest[0] % len(self._stripes)]:
            # While this request waited, another may have verified the same credentials,
            # or failures may have reached the throttle.
            principal = self._cached(user, digest)
            if principal is not None:
                return principal
            self._check_throttle(username, client)
            if not self._verify_hash(user, password) or user is None or not user.enabled:
                with self._lock:
                    self._cache.pop(digest, None)
                raise self._fail(username, client)
            with self._lock:
                expires = self.clock() + self.cache_ttl
                self._cache[digest] = _Verified(user.id, user.version, expires)
                self._cache.move_to_end(digest)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return Principal(user.id, user.username, user.role, user.account)

    def reject_malformed(self, client: str) -> AuthenticationFailed:
        """A missing or unparseable header: counts against the client address."""
        self._check_throttle("", client)
        self.throttle.record_failure(f"addr:{client}")
        self._verify_hash(None, "")
        return AuthenticationFailed()
