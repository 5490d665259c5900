"""The office pages' own files under /static/: our CSS and scripts (server/static) and
Leaflet from the xstatic-leaflet package. No CDN: a county intranet reaches none, and the
map must make no request to another host. Every file is read and hashed once, at start-up
(nothing touches the disk on the event loop), and revalidated by its ETag."""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.leaflet as leaflet
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.routes.pwa import Asset, make_asset, respond

MOUNT = "/static/"
OWN = Path(__file__).resolve().parent.parent / "static"
LEAFLET_FILES = ("leaflet.js", "leaflet.css", "images/*.png")


def build_assets() -> dict[str, Asset]:
    assets = {}
    for path in sorted(OWN.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            rel = path.relative_to(OWN)
            assets[MOUNT + rel.as_posix()] = make_asset(rel, path.read_bytes())
    base = Path(leaflet.BASE_DIR)
    for pattern in LEAFLET_FILES:
        for path in sorted(base.glob(pattern)):
            rel = path.relative_to(base)
            assets[MOUNT + "leaflet/" + rel.as_posix()] = make_asset(rel, path.read_bytes())
    return assets


def routes() -> list:
    assets = build_assets()

    async def serve(request: Request) -> Response:
        asset = assets.get(request.url.path)
        if asset is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {
            "ETag": asset.etag,
            "Cache-Control": "no-cache",
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        return respond(request, asset, headers)

    return [Route(MOUNT + "{path:path}", serve, methods=["GET", "HEAD"])]
