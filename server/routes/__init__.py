"""The one route table."""

from __future__ import annotations

from server.settings import Settings


def route_table(settings: Settings) -> list:
    from server.routes import (
        admin_people,
        admin_places,
        admin_work,
        api_auth,
        api_blobs,
        api_review,
        api_sync,
        desk,
        desk_detail,
        followups,
        health,
        home,
        openapi,
        pwa,
        reports,
        review,
        static,
        web_auth,
    )

    return [
        *health.routes,
        *home.routes,
        *desk.routes,
        *api_auth.routes,
        *api_sync.routes,
        *api_blobs.routes,
        *api_review.routes,
        *openapi.routes,
        *web_auth.routes,
        *review.routes,
        *desk_detail.routes,
        *followups.routes,
        *reports.routes,
        *admin_people.routes,
        *admin_places.routes,
        *admin_work.routes,
        *static.routes(),
        *pwa.routes(settings),
    ]
