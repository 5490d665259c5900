"""No route makes a blocking call on the event loop (issue 11, part 1).

Every route of the route table is called, with a real conflict, device and photo behind
its path parameters, while `loop_guard` records any database checkout, file access, lock,
sleep or password hash made on the loop's own thread. A route added later is called too:
the walk reads the route table, so a new route cannot slip past this test."""

from __future__ import annotations

from starlette.routing import Route

from server.routes import route_table
from tests.hostile.loop_guard import loop_guard
from tests.logins import csrf_of, web_login
from tests.server.test_review_pages import PHOTO, PHOTO_SHA


def _path(route: Route, params: dict[str, str]) -> str:
    path = route.path
    for name in route.param_convertors:
        path = path.replace("{" + name + "}", params.get(name, "1"))
        path = path.replace("{" + name + ":path}", params.get(name, "1"))
    return path


def _body(path: str) -> dict:
    if path == "/api/auth/login":
        return {"username": "inspector", "password": "wrong", "device_id": "d-9"}
    if path == "/api/sync":
        return {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": []}
    if path.endswith("/resolve"):
        return {"take": "server"}
    return {}


def test_no_route_blocks_the_event_loop(client, app, conflict, phones, monkeypatch):
    params = {
        "conflict_id": str(conflict["id"]),
        "device_id": "d-2",
        "sha256": PHOTO_SHA,
        "path": "index.html",
    }
    phone, _ = phones
    called = []
    # The table is built as the app starts, not on a request; a browser test earlier in the
    # same run may leave Playwright's loop set on this thread, so it is read outside the guard.
    table = route_table(app.state.settings)
    with loop_guard(monkeypatch) as blocked:
        # a batch big enough that parsing it is real CPU work, refused op by op (before a route
        # below signs the phone out)
        ops = [{"op_id": f"x-{i}", "kind": "bogus", "note": "长" * 200} for i in range(60)]
        big = {"protocol": 1, "device_id": "d-1", "cursor": None, "ops": ops}
        r = client.post("/api/sync", json=big, headers={**phone, "Accept-Encoding": "gzip"})
        assert r.status_code == 200, r.text
        assert web_login(client).status_code == 303
        csrf = csrf_of(client.get("/review/devices").text)
        for route in table:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                path = _path(route, params)
                if path.startswith("/api/"):
                    kw = {"headers": phone}
                    if method == "PUT":
                        kw["content"] = PHOTO
                    elif method == "POST":
                        kw["json"] = _body(path)
                elif method == "POST":
                    kw = {"data": {"csrf": csrf, "pick:answers.book_volumes": "server"}}
                else:
                    kw = {}
                r = client.request(method, path, follow_redirects=False, **kw)
                assert r.status_code < 500, (method, path, r.text)
                called.append((method, route.path))
    assert blocked == [], f"blocking calls on the event loop: {blocked}"
    assert len(called) >= 30
