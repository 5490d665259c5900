"""docs/security.md's table of who may call what is true (issue 11, part 5).

Every route of the route table has one row there, and no row names a route that is gone;
each row is then called as anonymous, an inspector, a supervisor and an admin, and the
answer must be a refusal exactly for those the row's *who* leaves out. A refusal is a 401
or 403, or an office page sending the reader to /login."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Route

from server.routes import route_table
from tests.hostile.test_event_loop import _body
from tests.logins import api_login, csrf_of, web_login

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
ROW = re.compile(r"^\| (GET|POST|PUT|DELETE|PATCH) \| `([^`]+)` \| (\w+) \| ?(.*?) ?\|$", re.M)
WHO = {
    "anyone": {"anonymous", "inspector", "supervisor", "admin"},
    "token": {"inspector", "supervisor", "admin"},
    "supervising": {"supervisor", "admin"},
    "office": {"supervisor", "admin"},
    "admin": {"admin"},
}
# calls that end the caller's own token get a fresh one each time
SPENDS_TOKEN = {"/api/auth/rotate", "/api/auth/logout"}


def _rows() -> dict[tuple[str, str], str]:
    rows = {(m, p): who for m, p, who, _ in ROW.findall(DOC.read_text(encoding="utf-8"))}
    assert len(rows) >= 40
    return rows


def test_the_table_lists_every_route_once(app):
    documented = _rows()
    routes = {
        (method, route.path)
        for route in route_table(app.state.settings)
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert sorted(routes - set(documented)) == [], "routes missing from docs/security.md"
    assert sorted(set(documented) - routes) == [], "rows of routes that no longer exist"
    assert set(documented.values()) <= set(WHO)


def _path(route: Route, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: params.get(m.group(1), "1"), route.path)


def _refused(r) -> bool:
    """401, a 403 for the role (not a scope answer such as `photo_not_named`), or an office
    page sending the reader to log in."""
    if r.status_code == 401:
        return True
    if r.status_code == 403:
        kind = r.headers.get("content-type", "")
        return "json" not in kind or r.json()["error"]["code"] in ("forbidden", "csrf_failed")
    return r.status_code in (302, 303, 307) and _to_login(r)


def _to_login(r) -> bool:
    return r.headers.get("location", "").startswith("/login?next=")


def test_each_row_is_probed_as_each_role(client, demo):
    params = {"conflict_id": "999999", "device_id": "d-none", "sha256": "ab" * 32}
    params |= {"path": "index.html", "user_id": "999999", "code": "000000000000"}
    params |= {"plan_id": "999999", "cycle_id": "999999", "key": "village_point"}
    params["county"] = "610424"
    tokens = {r: api_login(client, r, f"d-{r}") for r in ("inspector", "supervisor", "admin")}
    cookies: dict[str, dict] = {"anonymous": {}, "inspector": {}}
    csrf: dict[str, str] = {}
    for role in ("supervisor", "admin"):
        client.cookies.clear()
        assert web_login(client, role).status_code == 303
        cookies[role] = dict(client.cookies)
        csrf[role] = csrf_of(client.get("/review/devices").text)
    client.cookies.clear()
    table = {
        (m, r.path): r
        for r in route_table(client.app.state.settings)
        if isinstance(r, Route)
        for m in (r.methods or set()) - {"HEAD"}
    }
    wrong = []
    for (method, path), who in sorted(_rows().items()):
        url = _path(table[(method, path)], params)
        for role in ("anonymous", "inspector", "supervisor", "admin"):
            headers = {}
            if role in tokens and url.startswith("/api/"):
                headers = tokens[role]
                if path in SPENDS_TOKEN:
                    headers = api_login(client, role, f"d-spent-{role}")
            client.cookies.clear()
            for k, v in cookies[role].items():
                client.cookies.set(k, v)
            kw: dict = {"headers": headers, "follow_redirects": False}
            if method == "POST" and not url.startswith("/api/"):
                kw["data"] = {"csrf": csrf.get(role, "")}
            elif method in ("POST", "PUT"):
                kw["json"] = _body(url)  # a well-formed body: the answer is about who asks
            r = client.request(method, url, **kw)
            assert r.status_code < 500, (method, url, role, r.text[:300])
            while (
                method == "GET" and r.status_code == 303 and "/login" not in r.headers["location"]
            ):
                r = client.get(r.headers["location"], headers=headers, follow_redirects=False)
            if who == "anyone":
                continue  # a wrong password's 401 is no refusal of the route
            if _refused(r) == (role in WHO[who]):
                wrong.append((method, path, role, r.status_code))
    client.cookies.clear()
    assert wrong == [], "docs/security.md disagrees with the server:\n" + "\n".join(map(str, wrong))
