"""The ASGI application."""

from __future__ import annotations

from fastapi import FastAPI

from ordersearch.api.console import router as console_router
from ordersearch.api.errors import install_error_handlers
from ordersearch.api.observability import install_observability
from ordersearch.api.openapi import install_openapi
from ordersearch.api.routes import router
from ordersearch.auth import Authenticator
from ordersearch.config import Settings
from ordersearch.db.engine import Database


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    authenticator: Authenticator | None = None,
) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="ordersearch",
        version="0.1.0",
        description="Multi-tenant CRM order store answering Kapture CRM's Pull Order API.",
    )
    app.state.settings = settings
    app.state.database = database or Database.from_url(settings.database_url)
    app.state.authenticator = authenticator or Authenticator(
        cache_ttl=settings.auth_cache_ttl_seconds,
        max_failures=settings.throttle_max_failures,
        window=settings.throttle_window_seconds,
    )
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(console_router)
    install_openapi(app)
    install_observability(app)
    return app
