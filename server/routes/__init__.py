"""The one route table."""

from __future__ import annotations

from server.settings import Settings


def route_table(settings: Settings) -> list:
    from server.routes import health, home

    table: list = [*health.routes, *home.routes]
    from server.routes import api_auth, api_blobs, api_review, api_sync, openapi  # sync owner

    table += [*api_auth.routes, *api_sync.routes, *api_blobs.routes, *api_review.routes]
    table += openapi.routes
    try:
        from server.routes import pwa
    except ImportError:  # the field app lands separately
        pwa = None
    if pwa is not None:
        table.extend(pwa.routes(settings))
    return table
