"""/openapi.json describes every /api route the app serves, with the right methods."""

from __future__ import annotations

from starlette.routing import Route


def test_every_api_route_is_described(client, app):
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    served = {
        (r.path, m.lower())
        for r in app.routes
        if isinstance(r, Route) and r.path.startswith("/api/")
        for m in (r.methods or set()) - {"HEAD"}
    }
    described = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert served - described == set(), "undocumented routes: add them to server/openapi.py"
    assert described - served == set(), "documented routes the app does not serve"
