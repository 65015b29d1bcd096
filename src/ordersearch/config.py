"""Settings read from the environment (documented in docs/configuration.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ordersearch.db.engine import database_url_from_env

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=database_url_from_env)
    # When set, requests must arrive on <subdomain>.<base_domain> of the user's account.
    base_domain: str | None = field(
        default_factory=lambda: os.environ.get("ORDERSEARCH_BASE_DOMAIN") or None
    )
    auth_cache_ttl_seconds: float = field(
        default_factory=lambda: float(os.environ.get("ORDERSEARCH_AUTH_CACHE_TTL", "300"))
    )
    throttle_max_failures: int = 10
    throttle_window_seconds: float = 300.0
