"""Resolving a conflict is decided and audited inside one locked transaction
(conflicts.resolve_conflict): two supervisors at once give one new revision, one audit entry
and one 409 `already_resolved`, on SQLite and PostgreSQL, through either door (the JSON API
and the /review page)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select

import server.services.conflict_review as conflict_review
from server.db import session_scope
from server.errors import Conflict
from server.models import AuditLog, Inspection, InspectionRevision, SyncConflict
from server.services.conflicts import resolve_conflict
from tests.api.helpers import login, op, record, sync, village
from tests.logins import csrf_of, web_login


@pytest.fixture
def conflict(client, demo, engine) -> dict:
    """Two phones edit book_volumes from revision 1; the second sync makes conflict #id."""
    a, b = login(client, "inspector", "d-1"), login(client, "inspector", "d-2")
    code, version = village(engine)
    rec = record(code, version, answers={"book_volumes": 1000})
    sync(client, a, op(rec))
    edit_a = op({**rec, "answers": {"book_volumes": 1600}}, 1, "0001764144000005:0000:d-1")
    assert sync(client, a, edit_a)["acks"][0]["status"] == "applied"
    edit_b = op({**rec, "answers": {"book_volumes": 1200}}, 1, "0001764144000009:0000:d-2")
    ack = sync(client, b, edit_b, device="d-2")["acks"][0]
    assert ack["status"] == "conflict"
    return {"id": ack["conflict_id"], "record_id": rec["id"]}


def _state(engine, conflict: dict) -> tuple:
    with session_scope(engine) as s:
        insp = s.get(Inspection, conflict["record_id"])
        revisions = s.exec(
            select(func.count())
            .select_from(InspectionRevision)
            .where(InspectionRevision.inspection_id == conflict["record_id"])
        ).one()
        audits = s.exec(select(AuditLog).where(AuditLog.action == "review.resolve")).all()
        row = s.get(SyncConflict, conflict["id"])
        counter = s.connection().exec_driver_sql("SELECT value FROM change_counter").scalar()
        return insp.rev, insp.answers, revisions, audits, row.status, counter


def _meet_before_resolving(monkeypatch, *modules) -> threading.Barrier:
    """Both requests have read the (still open) conflict before either resolves it: the
    window a check outside the service's transaction would let through twice."""
    barrier = threading.Barrier(2, timeout=30)
    for module in modules:
        real = module.resolve_conflict

        def waiting(*args, _real=real, **kwargs):
            barrier.wait()
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "resolve_conflict", waiting)
    return barrier


def test_two_supervisors_resolving_at_once_make_one_revision(client, engine, conflict, monkeypatch):
    sup = login(client, "supervisor", "d-sup")
    admin = login(client, "admin", "d-admin")
    rev_before, _, revisions_before, _, _, _ = _state(engine, conflict)
    _meet_before_resolving(monkeypatch, conflict_review)
    url = f"/api/conflicts/{conflict['id']}/resolve"

    def post(args):
        headers, take = args
        return client.post(url, headers=headers, json={"take": take})

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(post, [(sup, "server"), (admin, "client")]))
    assert sorted(r.status_code for r in answers) == [200, 409]
    (lost,) = [r for r in answers if r.status_code == 409]
    assert lost.json()["error"]["code"] == "already_resolved"
    (won,) = [r for r in answers if r.status_code == 200]
    take = "server" if won.request.headers["authorization"] == sup["Authorization"] else "client"
    rev, answers_now, revisions, audits, status, _ = _state(engine, conflict)
    assert status == "resolved" and won.json()["status"] == "resolved"
    assert (rev, revisions) == (rev_before + 1, revisions_before + 1)
    assert answers_now["book_volumes"] == {"server": 1600, "client": 1200}[take]
    (entry,) = audits
    assert entry.target_type == "conflict" and entry.target_id == str(conflict["id"])
    assert entry.detail == {"take": take, "choices": [], "rev": rev}


def test_the_review_page_and_the_api_at_once(client, engine, conflict, monkeypatch):
    web_login(client)
    page = f"/review/conflicts/{conflict['id']}"
    token = csrf_of(client.get(page).text)
    api = login(client, "admin", "d-admin")
    rev_before, _, revisions_before, _, _, _ = _state(engine, conflict)
    _meet_before_resolving(monkeypatch, conflict_review)

    def web():
        form = {"csrf": token, "pick:answers.book_volumes": "server"}
        return client.post(page + "/resolve", data=form, follow_redirects=False)

    def json_api():
        url = f"/api/conflicts/{conflict['id']}/resolve"
        return client.post(url, headers=api, json={"take": "client"})

    with ThreadPoolExecutor(2) as pool:
        answers = [f.result() for f in [pool.submit(web), pool.submit(json_api)]]
    assert sorted(r.status_code for r in answers) in ([303, 409], [200, 409])
    rev, _, revisions, audits, _, _ = _state(engine, conflict)
    assert (rev, revisions, len(audits)) == (rev_before + 1, revisions_before + 1, 1)


def test_resolving_again_changes_nothing(client, engine, conflict):
    sup = login(client, "supervisor", "d-sup")
    first = client.post(
        f"/api/conflicts/{conflict['id']}/resolve", headers=sup, json={"take": "server"}
    )
    assert first.status_code == 200
    before = _state(engine, conflict)
    with session_scope(engine) as s:
        resolution = s.get(SyncConflict, conflict["id"]).resolution
    with pytest.raises(Conflict) as err:
        resolve_conflict(engine, conflict["id"], {"answers.book_volumes": 1}, 1, {"again": True})
    assert (err.value.status, err.value.code) == (409, "already_resolved")
    assert _state(engine, conflict) == before  # no revision, no audit, no seq taken
    with session_scope(engine) as s:
        assert s.get(SyncConflict, conflict["id"]).resolution == resolution
    r = client.post(
        f"/api/conflicts/{conflict['id']}/resolve", headers=sup, json={"take": "client"}
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_resolved"
    assert _state(engine, conflict) == before
