"""The ASGI application. `create_app(settings)` builds everything; nothing happens at import."""

from __future__ import annotations

import asyncio
import gc
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
GC_THRESHOLD = 10_000  # new container objects between collections (Python's default: 700)
GC_YOUNG_PER_MIDDLE = 50  # young collections per middle-generation one (Python's: 10)


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
        _tune_gc()
        try:
            yield
        finally:
            chores.cancel()
            engine.dispose()

    return lifespan


def _tune_gc() -> None:
    """Python's default collector runs every 700 new container objects. Parsing a 500-op
    batch makes ~150,000 that live until its reply, so each batch set off ~130 collections,
    a tenth of them over the whole heap: ~100 ms of a 500-op request (bench/sync_ingest.py).
    What the process built to start (modules, routes, templates, catalogs) lives as long
    as it does: frozen, no collection scans it again. A larger first threshold leaves
    ~8 collections per batch (~25 ms). Almost everything is freed by reference counting
    anyway; the collector only finds cycles, which the request path rarely makes.
    What survives a young collection is mostly the batch still being worked on, and each
    middle-generation collection walked all of it again: ~33 ms, every 10 young ones
    (three per 3,000 ops, 0.10 of 0.15 s the collector took). Every 50 it runs once per
    ~1,500 ops (bench/sync_ingest.py, docs/benchmarks.md, seventh session)."""
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, GC_YOUNG_PER_MIDDLE, gc.get_threshold()[2])


__all__ = ["AppError", "create_app"]
