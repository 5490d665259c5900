"""/openapi.json describes every /api route the app serves, and real answers of the app fit
its schemas (validated with jsonschema, so a field the server adds or a limit it changes
fails here instead of surprising a client)."""

from __future__ import annotations

import jsonschema
import pytest
from sqlmodel import select
from starlette.routing import Route

from server.db import session_scope
from server.models import Blob
from sync import records
from sync.messages import CHANGE_KINDS, PROTOCOL
from tests.api.helpers import login, op, record, submitted, sync, village
from tests.logins import DEMO_PASSWORD


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json()


def _check(spec: dict, name: str, value) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    jsonschema.Draft202012Validator(schema).validate(value)


def test_every_api_route_is_described(spec, app):
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


def test_the_schemas_are_valid_and_carry_the_limits_the_code_checks(spec, settings):
    for schema in spec["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    s = spec["components"]["schemas"]
    insp = s["Inspection"]["properties"]
    assert "rev" in insp
    assert insp["notes"]["maxLength"] == records.MAX_NOTES
    assert insp["id"]["maxLength"] == records.MAX_RECORD_ID
    assert s["SyncRequest"]["properties"]["protocol"] == {"const": PROTOCOL}
    assert s["SyncRequest"]["properties"]["ops"]["maxItems"] == settings.sync_page_size
    assert set(s["SyncResponse"]["properties"]["changes"]["properties"]) == set(CHANGE_KINDS)


def test_a_record_the_server_refuses_is_refused_by_the_schema(spec, engine, demo):
    code, version = village(engine)
    good = op(record(code, version))
    _check(spec, "Op", good)
    for bad in (
        {**good["data"], "notes": "x" * (records.MAX_NOTES + 1)},
        {**good["data"], "point_code": "x" * (records.MAX_CODE + 1)},
        {**good["data"], "gps": {"lat": 91, "lon": 0}},
        {**good["data"], "colour": "red"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            _check(spec, "Op", {**good, "data": bad})


def test_real_answers_fit_the_schemas(client, spec, engine, demo):
    r = client.post(
        "/api/auth/login",
        json={"username": "inspector", "password": "x", "device_id": "d-1"},
    )
    assert r.status_code == 401
    _check(spec, "Error", r.json())
    h = login(client)
    token = client.post(
        "/api/auth/login",
        json={
            "username": "inspector",
            "password": DEMO_PASSWORD,
            "device_id": "d-9",
        },
    ).json()
    _check(spec, "Token", token)

    code, version = village(engine)
    rec = submitted(record(code, version, answers={"book_volumes": 1600}))
    bad = record("NOPE", version)
    h2 = login(client, "inspector", "d-2")
    base = record(code, version, answers={"book_volumes": 1000})
    sync(client, h, op(base))
    ops = [
        op(rec),
        op(bad),
        op(
            {**base, "answers": {"book_volumes": 1600}}, base_rev=1, hlc="0001764144000005:0000:d-1"
        ),
    ]
    for o in ops:
        _check(spec, "Op", o)
    first = sync(client, h, *ops)
    clash = op(
        {**base, "answers": {"book_volumes": 1200}}, base_rev=1, hlc="0001764144000009:0000:d-2"
    )
    second = sync(client, h2, clash, device="d-2")
    statuses = {a["status"] for a in first["acks"] + second["acks"]}
    assert statuses == {"applied", "rejected", "conflict"}

    seen: set[str] = set()
    page, cursor = first, None
    while True:
        _check(spec, "SyncResponse", page)
        seen.update(k for k, rows in page["changes"].items() if rows)
        if not page["more"]:
            break
        cursor = page["cursor"]
        page = sync(client, h, cursor=cursor)
    assert {"areas", "points", "templates", "cycles", "followups", "inspections"} <= seen, seen

    sup = login(client, "supervisor", "d-sup")
    listing = client.get("/api/conflicts", headers=sup).json()
    assert listing["conflicts"]
    for c in listing["conflicts"]:
        _check(spec, "Conflict", c)
    with session_scope(engine) as s:  # a demo photo, named by an inspection in the scope
        sha = s.exec(select(Blob.sha256)).first()
    status = client.get(f"/api/blobs/{sha}/status", headers=sup)
    assert status.status_code == 200
    _check(spec, "BlobStatus", status.json())
    refused = client.post("/api/sync", headers=h, json={"protocol": 99, "device_id": "d-1"})
    assert refused.status_code == 400
    _check(spec, "Error", refused.json())
