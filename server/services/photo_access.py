"""Who may send and who may see a photo, by its hash.

Photos are content-addressed, so a hash alone used to be enough to store or fetch one: any
token could fill the disk with bytes no inspection names, and an inspector who learnt a
hash could read another county's photo. Now a photo is sent only by a user whose own
inspection names it (the field app uploads exactly what the sync answer lists as missing,
after the record), and seen only by someone whose area holds an inspection naming it, or a
follow-up closed on it (a supervisor's evidence photo). One rule for every page and API that
shows a photo (review, desk, follow-ups, the blob API).
"""

from __future__ import annotations

from sqlalchemy import String, cast
from sqlmodel import Session, select

from server.models import FollowUp, Inspection
from server.services.scope import Scope


def _naming(sha: str, column=Inspection.photos):
    # JSON containment differs per backend; the hash is 64 hex, so a text match is exact
    return cast(column, String).contains(sha)


def _own(user_id: int, sha: str):
    return select(Inspection.id).where(Inspection.inspector_id == user_id, _naming(sha))


def _found(session: Session, query) -> bool:
    return session.exec(query.limit(1)).first() is not None


def waiting_records(user_id: int, column):
    """`column` of this user's records still waiting for photos, oldest first: read from
    their own index (migration 0013), not every record the user ever made. (The index's
    order is also what makes SQLite, without statistics, take it over the user's index.)"""
    table = Inspection.__table__  # type: ignore[attr-defined]
    return (
        select(column)
        .where(table.c.inspector_id == user_id, table.c.evidence_complete.is_(False))
        .order_by(table.c.created_at, table.c.id)
    )


def named_by_user(session: Session, user_id: int, sha: str) -> bool:
    """Does one of this user's inspections name the photo? (May they upload it.)

    Their waiting records are asked first: a photo the server does not hold yet is named
    only by waiting records, so an upload reads those few, not every record the inspector
    ever made (30-50 ms per request on 20,000). Only a photo already held, or one no record
    names, costs the whole read."""
    waiting = waiting_records(user_id, Inspection.id).where(_naming(sha))
    return _found(session, waiting) or _found(session, _own(user_id, sha))


def visible_in(session: Session, scope: Scope, sha: str, own: bool = True) -> bool:
    """Does an inspection at a point in the scope's area (or the user's own), or a follow-up
    there closed on photo evidence, name it? (The photos pages show are held already, so the
    waiting records are no shortcut here: one read of the user's own.) `own=False`: the
    caller has asked `named_by_user` already."""
    if own and _found(session, _own(scope.user_id, sha)):
        return True
    points = scope.point_ids()
    at_points = Inspection.point_id.in_(points)  # type: ignore[attr-defined]
    closed_on = FollowUp.point_id.in_(points)  # type: ignore[attr-defined]
    return _found(session, select(Inspection.id).where(at_points, _naming(sha))) or _found(
        session, select(FollowUp.id).where(closed_on, _naming(sha, FollowUp.evidence))
    )
