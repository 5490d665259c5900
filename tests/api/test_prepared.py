"""The verdict a sync batch works out before taking the writer lock (sync_prepare) is stored
only while the record still has the op's own answers and photos; a merge with an edit made
elsewhere changes them, and then the rules must run again on what is stored."""

from __future__ import annotations

import pytest
from sqlmodel import select

import server.services.sync_batch as store
from server.db import session_scope
from server.domain.followups import PENDING
from server.domain.rules import evaluate
from server.models import FollowUp, Inspection
from server.services.inspections import template_for
from tests.api.helpers import login, op, record, submitted, sync, village

H1, H2, H3 = (f"000176414400000{n}:0000:d-1" for n in (1, 2, 3))


@pytest.mark.parametrize("batched", [True, False])
def test_a_merge_that_changes_the_answers_is_evaluated_again(
    client, demo, engine, monkeypatch, batched
):
    h = login(client)
    code, version = village(engine)
    rec = submitted(record(code, version, answers={"reading_room": True, "shelving": True}))
    first = op(rec, hlc=H1)
    # an edit from rev 1: the reading room now fails
    elsewhere = op({**rec, "answers": {"reading_room": False, "shelving": True}}, 1, H2)
    # a stale edit, also from rev 1, that only touched the shelving: merged, the reading room
    # keeps the failing answer, which this op's own answers (and its prepared verdict) pass
    stale = op({**rec, "answers": {"reading_room": True, "shelving": False}}, 1, H3)
    under_lock = []
    real = store.evaluate

    def counted(template, answers, photos):
        under_lock.append(dict(answers))
        return real(template, answers, photos)

    monkeypatch.setattr(store, "evaluate", counted)
    if batched:
        acks = sync(client, h, first, elsewhere, stale)["acks"]
    else:
        acks = [sync(client, h, o)["acks"][0] for o in (first, elsewhere, stale)]
    assert [(a["status"], a["rev"]) for a in acks] == [
        ("applied", 1),
        ("applied", 2),
        ("applied", 3),
    ]
    merged = {"reading_room": False, "shelving": False}
    # the first two stored their own answers (verdicts from before the lock); the merge not
    assert under_lock == [merged]
    with session_scope(engine) as s:
        insp = s.get(Inspection, rec["id"])
        assert insp.answers == merged
        template = template_for(s, insp.template_version_id)
        assert insp.result == evaluate(template, insp.answers, insp.photos)
        items = insp.result["items"]
        assert (items["reading_room"]["status"], items["shelving"]["status"]) == ("fail", "fail")
        assert insp.rating == insp.result["rating"]["code"]
        # the follow-up rule saw the merged verdict too (the demo may have opened some already)
        pending = s.exec(
            select(FollowUp.item_key).where(
                FollowUp.point_id == insp.point_id,
                FollowUp.status.in_(sorted(PENDING)),  # type: ignore[attr-defined]
            )
        ).all()
        assert {"reading_room", "shelving"} <= set(pending)
