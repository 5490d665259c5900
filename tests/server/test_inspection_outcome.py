"""Stored inspections: evaluation, evidence state, follow-ups and template versions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from server.db import session_scope
from server.models import Blob, FollowUp, Inspection, ServicePoint, User
from server.services.changes import stamp
from server.services.inspections import refresh_outcome
from server.services.rollups import cycle_rollup
from server.services.templates import active_version, version_by_number
from tests.demo_cycles import after_the_demo, demo_cycle


def _new(session, point, version, answers, photos=(), when=None):
    inspector = session.exec(select(User).where(User.username == "inspector")).one()
    cycle = demo_cycle(session, "current")
    when = when or after_the_demo(12)
    insp = Inspection(
        id=str(uuid.uuid4()),
        point_id=point.id,
        template_version_id=version.id,
        cycle_id=cycle.id,
        inspector_id=inspector.id,
        status="submitted",
        answers=answers,
        photos=list(photos),
        submitted_at=when,
    )
    session.add(insp)
    session.flush()
    refresh_outcome(session, insp)
    stamp(session, insp)
    return insp


def _good_answers(session):
    """The demo's first inspection (last year's cycle) of a village point where every scored
    item passed."""
    candidates = session.exec(
        select(Inspection)
        .join(ServicePoint)
        .where(ServicePoint.kind == "village", Inspection.rating == "good")
        .order_by(Inspection.submitted_at)
    ).all()
    return next(
        i for i in candidates if i.result["rating"]["passed"] == i.result["rating"]["scored"]
    )


def test_failed_item_opens_a_follow_up_and_a_later_pass_closes_it(engine, demo):
    with session_scope(engine, write=True) as s:
        model = _good_answers(s)
        point = s.get(ServicePoint, model.point_id)
        version = active_version(s, "village_point", None)
        answers = dict(model.answers, book_volumes=900)
        first = _new(s, point, version, answers, model.photos, after_the_demo())
        assert first.rating == "fail"
        follow = s.exec(select(FollowUp).where(FollowUp.opened_by == first.id)).all()
        assert [f.item_key for f in follow] == ["book_volumes"]
        assert follow[0].due_date == (first.submitted_at + timedelta(days=30)).date()
        second = _new(s, point, version, dict(model.answers), model.photos, after_the_demo(6))
        s.flush()
        s.refresh(follow[0])
        assert follow[0].status == "closed" and follow[0].closed_by == second.id


def test_items_left_blank_open_no_follow_up_and_rate_incomplete(engine, demo):
    """仍然提交 with most of the checklist blank: the blanks were not inspected, so they open
    no 限期整改 and do not close an open one; the one failing answer opens its own; the point
    is 未完成 with the blanks listed, and the roll-up counts it apart from the ratings."""
    with session_scope(engine, write=True) as s:
        before = cycle_rollup(s, demo_cycle(s, "current"))["county"]
        model = _good_answers(s)
        point = s.get(ServicePoint, model.point_id)
        version = active_version(s, "village_point", None)
        first = _new(
            s, point, version, dict(model.answers, seats=2), model.photos,
            after_the_demo(),
        )  # fmt: skip
        assert first.rating in ("good", "basic")
        kept = {"reading_room", "book_volumes", "area_m2"}
        answers = {k: v for k, v in model.answers.items() if k in kept}
        answers["area_m2"] = 5  # the one thing found wrong
        photos = [p for p in model.photos if p["item"] in kept]
        second = _new(s, point, version, answers, photos, after_the_demo(6))
        assert second.rating == "incomplete"
        blank = second.result["rating"]["not_inspected"]
        assert "seats" in blank and "free_service" in blank and len(blank) >= 15
        opened = s.exec(select(FollowUp).where(FollowUp.opened_by == second.id)).all()
        assert [f.item_key for f in opened] == ["area_m2"]
        seats = s.exec(select(FollowUp).where(FollowUp.opened_by == first.id)).one()
        assert (seats.item_key, seats.status) == ("seats", "open")  # not closed by a blank
        county = cycle_rollup(s, demo_cycle(s, "current"))["county"]
    # the point's latest inspection this cycle was the demo's (every village had one)
    assert county["ratings"].get("incomplete", 0) == before["ratings"].get("incomplete", 0) + 1
    assert county["inspected_points"] == before["inspected_points"]
    # not inspected: out of the pass rate
    assert county["items"]["seats"]["counted"] == before["items"]["seats"]["counted"] - 1


def test_evidence_pending_until_every_photo_arrives(engine, demo):
    with session_scope(engine, write=True) as s:
        model = _good_answers(s)
        point = s.get(ServicePoint, model.point_id)
        version = active_version(s, "village_point", None)
        photos = [*model.photos, {"sha256": "f" * 64, "item": "signboard", "mime": "image/jpeg"}]
        insp = _new(s, point, version, dict(model.answers), photos)
        assert insp.evidence_complete is False and insp.rating == "good"
        s.add(Blob(sha256="f" * 64, size=1, received=1, complete=True))
        s.flush()
        refresh_outcome(s, insp)
        assert insp.evidence_complete is True


def test_a_new_template_version_mid_cycle_keeps_old_inspections_on_theirs(engine, demo):
    from server.services.templates import set_params

    with session_scope(engine, write=True) as s:
        inspected = cycle_rollup(s, demo_cycle(s, "current"))["county"]["inspected_points"]
        model = _good_answers(s)
        point = s.get(ServicePoint, model.point_id)
        v1 = active_version(s, "village_point", None)
        old = _new(
            s,
            point,
            v1,
            dict(model.answers, book_volumes=1600),
            model.photos,
            after_the_demo(),
        )
        v2, created = set_params(s, "village_point", None, {"book_volumes_min": 2000})
        assert created and v2.version == v1.version + 1
        assert version_by_number(s, "village_point", v1.version).content == v1.content
        refresh_outcome(s, old)
        assert old.result["items"]["book_volumes"]["status"] == "pass"
        new = _new(s, point, v2, dict(model.answers, book_volumes=1600), model.photos)
        assert new.result["items"]["book_volumes"]["status"] == "fail"
        summary = cycle_rollup(s, demo_cycle(s, "current"))
    assert summary["county"]["inspected_points"] == inspected  # one point, counted once


@pytest.mark.parametrize("role", ["previous", "current"])
def test_rollup_of_the_demo_cycles(engine, demo, role):
    with Session(engine) as s:
        cycle = demo_cycle(s, role)
        summary = cycle_rollup(s, cycle)
    county = summary["county"]
    assert county["active_points"] == 53
    assert 35 <= county["inspected_points"] < 53
    assert sum(county["ratings"].values()) == county["inspected_points"]
    assert len(summary["townships"]) == 16
    assert county["never_inspected"], "注泔镇's villages were never named, some points stay open"


def test_home_page_shows_the_rollup(client, engine, demo):
    from tests.logins import web_login

    with Session(engine) as s:
        name = demo_cycle(s, "current").name
    assert "年度" not in client.get("/").text  # nothing without a login
    assert web_login(client).status_code == 303
    r = client.get("/")
    assert r.status_code == 200
    assert name in r.text and "城关街道" in r.text


def test_an_older_inspection_arriving_late_does_not_reopen_follow_ups(engine, demo):
    with session_scope(engine, write=True) as s:
        model = _good_answers(s)
        point = s.get(ServicePoint, model.point_id)
        version = active_version(s, "village_point", None)
        newer = _new(s, point, version, dict(model.answers), model.photos, after_the_demo(6))
        assert newer.rating == "good"
        older = _new(
            s,
            point,
            version,
            dict(model.answers, book_volumes=10),
            model.photos,
            after_the_demo(),
        )
        assert older.rating == "fail"
        opened = s.exec(select(FollowUp).where(FollowUp.opened_by == older.id)).all()
        assert opened == []


def test_a_template_version_cannot_be_edited_in_place(engine, demo):
    with pytest.raises(ValueError, match="immutable"), session_scope(engine, write=True) as s:
        version = active_version(s, "village_point", None)
        version.content = {**version.content, "params": {}}
        s.flush()
