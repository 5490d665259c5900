"""The ASGI application. `create_app(settings)` builds everything; nothing happens at import."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware

from server import i18n, maintenance
from server.db import THREADS, engine_from_settings
from server.errors import AppError
from server.handlers import error_handlers
from server.middleware import BodyLimit, SecurityHeaders
from server.pages.render import build_environment
from server.routes import route_table
from server.services.sync_limit import SyncLimit
from server.settings import Settings

log = logging.getLogger("xunjian")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    engine = engine_from_settings(settings)
    settings.data_path.mkdir(parents=True, exist_ok=True)
    app = Starlette(
        routes=route_table(settings),
        exception_handlers=error_handlers(),
        middleware=[
            Middleware(SecurityHeaders, tls_proxy=bool(settings.tls_proxy)),
            Middleware(BodyLimit, max_blob_bytes=settings.max_blob_bytes),
        ],
        lifespan=_lifespan(engine, settings),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.secret = settings.resolved_secret()
    app.state.pages = build_environment()
    for lang in i18n.LANGS:
        i18n.catalog(lang)  # read now: the first request's thread may be the event loop's
    app.state.sync_limit = SyncLimit(settings.sync_per_minute)
    return app


def _lifespan(engine, settings: Settings):
    @asynccontextmanager
    async def lifespan(app):
        # as many threads as pooled connections (server/db.py: how a crowd waits)
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        chores = asyncio.create_task(maintenance.run_forever(settings))
        try:
            yield
        finally:
            chores.cancel()
            engine.dispose()

    return lifespan


__all__ = ["AppError", "create_app"]
