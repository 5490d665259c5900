"""Follow-ups (限期整改) for the office: the lists per township and point, one follow-up's
page, and what a supervisor may do to one (call it fixed, close it on photo evidence).

Opening and closing by inspections happens where inspections are stored
(services/inspections.py), so a phone's sync and the demo follow the one rule. Everything
here is for the web, the CLI and the reports alike (`listed` is the 整改清单's source).

Each change is audited, stamped (phones pull it) and refreshes the point's summary in the
same transaction, under the sync writers' lock: the summaries' follow-up counts
(`counts`) subtract what a point counted for before, and two writers must not both do it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session, func, select

from server.domain import followups as rule
from server.domain.templates import Text
from server.errors import BadRequest, Forbidden, NotFound
from server.models import (
    Area,
    AreaFollowUpSummary,
    Blob,
    FollowUp,
    Inspection,
    ServicePoint,
    User,
)
from server.services import audit
from server.services.blobstore import write_complete
from server.services.changes import stamp
from server.services.inspections import template_for
from server.services.photo_type import HEAD_BYTES, sniff
from server.services.plans import today as beijing_today
from server.services.scope import Scope
from server.services.summaries import refresh_points

MAX_ROWS = 2000  # a county's list fits; a province's is narrowed by the area picker
NOTE_MAX = 500


@dataclass(frozen=True)
class Row:
    """One follow-up as lists and reports show it."""

    id: int
    point_code: str
    point_name: str
    township_code: str
    township_name: str
    cycle_id: int | None
    item_key: str
    item_label: Text
    reason_code: str
    opened_by: str
    opened_at: datetime
    due_date: date
    responsible: str
    responsible_phone: str
    status: str  # stored: open | fixed | closed
    state: str  # shown: overdue | open | fixed | closed (domain/followups.state_on)
    closed_at: datetime | None
    closed_by: str | None  # the inspection that passed the item
    closed_user: str | None  # the supervisor who closed it on evidence
    note: str
    evidence: tuple[str, ...] = field(default=())

    @property
    def days_left(self) -> int | None:
        return None if self.status == rule.CLOSED else (self.due_date - beijing_today()).days


def today() -> date:
    """Due dates are Beijing dates (a follow-up due on the 5th is overdue on the 6th there)."""
    return beijing_today()


def _sort_key(r: Row) -> tuple:
    return (rule.STATES.index(r.state), r.due_date, r.township_code, r.point_code, r.item_key)


def listed(
    session: Session,
    area_ids: Sequence[int],
    *,
    point_code: str | None = None,
    states: Sequence[str] = (),
    cycle_ids: Sequence[int] | None = None,
    on: date | None = None,
    limit: int = MAX_ROWS,
) -> list[Row]:
    """The follow-ups of the points in these areas (townships, or any area's subtree ids),
    overdue first, then open, fixed and closed, each by due date. `states` filters on the
    shown or stored state ("open" includes the overdue ones, as the overview counts them);
    `cycle_ids` on the cycle the follow-up was opened in. The reports' 整改清单 calls this
    with an area's subtree and a cycle."""
    on = on or today()
    q = (
        select(FollowUp, ServicePoint, Area, Inspection.template_version_id, User.display_name)
        .join(ServicePoint, ServicePoint.id == FollowUp.point_id)
        .join(Area, Area.id == ServicePoint.township_id)
        .join(Inspection, Inspection.id == FollowUp.opened_by)
        .outerjoin(User, User.id == FollowUp.closed_user_id)
        .where(ServicePoint.township_id.in_(sorted(area_ids)))
    )
    if point_code:
        q = q.where(ServicePoint.code == point_code)
    if cycle_ids is not None:
        q = q.where(FollowUp.cycle_id.in_(sorted(cycle_ids)))
    stored = {s for st in states for s in _stored_for(st)}
    if stored:
        q = q.where(FollowUp.status.in_(sorted(stored)))
    rows = []
    for f, point, town, version_id, closer in session.exec(q):
        row = _row(session, f, point, town, version_id, closer, on)
        if not states or row.state in states or row.status in states:
            rows.append(row)
    rows.sort(key=_sort_key)
    return rows[:limit]


def _stored_for(state: str) -> tuple[str, ...]:
    if state not in rule.STATES:
        raise BadRequest("error.followup_status", field="status", value=state[:20])
    return (rule.OPEN,) if state == rule.OVERDUE else (state,)


def _row(session, f, point, town, version_id, closer, on: date) -> Row:
    try:
        label = template_for(session, version_id).item(f.item_key).label
    except KeyError:
        label = Text(f.item_key, f.item_key)
    assert f.id is not None
    return Row(
        id=f.id,
        point_code=point.code,
        point_name=point.name,
        township_code=town.code,
        township_name=town.name,
        cycle_id=f.cycle_id,
        item_key=f.item_key,
        item_label=label,
        reason_code=f.reason_code,
        opened_by=f.opened_by,
        opened_at=f.opened_at,
        due_date=f.due_date,
        responsible=f.responsible,
        responsible_phone=f.responsible_phone,
        status=f.status,
        state=rule.state_on(f.status, f.due_date, on),
        closed_at=f.closed_at,
        closed_by=f.closed_by,
        closed_user=closer,
        note=f.note,
        evidence=tuple(f.evidence or ()),
    )


def in_scope(session: Session, scope: Scope, area: Area, **kw) -> list[Row]:
    """`listed` for a viewer: the chosen area's subtree, which lies in the viewer's scope
    (area_choice.chosen makes sure of that)."""
    from server.services.scope import subtree_of

    if not scope.covers(area.id):
        raise NotFound("error.area_not_found", area_code=area.code)
    assert area.id is not None
    return listed(session, sorted(subtree_of(session, area.id)), **kw)


def one(session: Session, scope: Scope, follow_id: int) -> tuple[Row, Inspection | None]:
    """One follow-up in the viewer's scope, and the inspection that opened it."""
    f = session.get(FollowUp, follow_id)
    point = session.get(ServicePoint, f.point_id) if f else None
    if f is None or point is None or not scope.covers(point.township_id):
        raise NotFound("error.followup_not_found", id=follow_id)
    opened = session.get(Inspection, f.opened_by)
    town = session.get(Area, point.township_id)
    closer = session.get(User, f.closed_user_id) if f.closed_user_id else None
    version = opened.template_version_id if opened else 0
    row = _row(session, f, point, town, version, closer.display_name if closer else None, today())
    return row, opened


def _editable(session: Session, scope: Scope, follow_id: int) -> tuple[FollowUp, ServicePoint]:
    if not scope.supervises:
        raise Forbidden("error.followup_forbidden")
    f = session.get(FollowUp, follow_id)
    point = session.get(ServicePoint, f.point_id) if f else None
    if f is None or point is None or not scope.covers(point.township_id):
        raise NotFound("error.followup_not_found", id=follow_id)
    if f.status == rule.CLOSED:
        raise BadRequest("error.followup_closed", field="status", id=follow_id)
    return f, point


def _changed(session: Session, f: FollowUp, point: ServicePoint, action: str, detail: dict):
    from server.services.sync_write import lock_writers

    lock_writers(session)
    stamp(session, f)
    audit.record(
        session,
        action,
        user_id=detail.pop("user_id"),
        target_type="follow_up",
        target_id=f.id or "",
        area_id=point.township_id,
        detail={"point": point.code, "item": f.item_key, **detail},
    )
    refresh_points(session, {point.id})


def mark_fixed(session: Session, scope: Scope, follow_id: int, note: str = "") -> FollowUp:
    """The township reports it fixed: it waits for a re-inspection, no longer overdue."""
    f, point = _editable(session, scope, follow_id)
    if f.status != rule.OPEN:
        raise BadRequest("error.followup_not_open", field="status", id=follow_id)
    f.status, f.fixed_at = rule.FIXED, datetime.now(UTC)
    f.note = note.strip()[:NOTE_MAX] or f.note
    _changed(session, f, point, "followup.fixed", {"user_id": scope.user_id, "note": f.note})
    return f


def close_on_evidence(
    session: Session, scope: Scope, follow_id: int, *, photos: Sequence[str], note: str
) -> FollowUp:
    """A supervisor closes it on photo evidence, without a re-inspection. The photos must be
    held complete (uploaded with the form, or already in the store) and a note must say
    what they show: the audit log keeps both."""
    f, point = _editable(session, scope, follow_id)
    shas = sorted(set(photos))
    if not shas:
        raise BadRequest("error.evidence_required", field="photo")
    held = set(session.exec(select(Blob.sha256).where(Blob.sha256.in_(shas), Blob.complete)))
    if held != set(shas):
        raise BadRequest("error.evidence_required", field="photo")
    text = note.strip()[:NOTE_MAX]
    if not text:
        raise BadRequest("error.evidence_note", field="note")
    f.status, f.closed_at = rule.CLOSED, datetime.now(UTC)
    f.closed_user_id, f.evidence, f.note = scope.user_id, shas, text
    _changed(
        session,
        f,
        point,
        "followup.close_evidence",
        {"user_id": scope.user_id, "photos": shas, "note": text},
    )
    return f


def close_with_photo(
    session: Session, scope: Scope, follow_id: int, *, data: bytes, note: str, data_dir: Path
) -> FollowUp:
    """`close_on_evidence` with a photo uploaded on the web: checked first (who, which
    follow-up, a note, the bytes really a JPEG, PNG or WebP), stored only then."""
    _editable(session, scope, follow_id)
    if not note.strip():
        raise BadRequest("error.evidence_note", field="note")
    mime = sniff(data[:HEAD_BYTES])
    if mime is None:
        raise BadRequest("error.evidence_not_photo", field="photo")
    sha = write_complete(data_dir, data)
    blob = session.get(Blob, sha) or Blob(sha256=sha)
    if not blob.complete:
        blob.mime, blob.size, blob.received = mime, len(data), len(data)
        blob.complete, blob.completed_at = True, datetime.now(UTC)
        session.add(blob)
        session.flush()
    return close_on_evidence(session, scope, follow_id, photos=[sha], note=note)


def counts(session: Session, area: Area, cycle_id: int, on: date | None = None) -> dict:
    """Follow-ups of a cycle not yet closed in an area, and how many are overdue on `on`,
    from the summaries (one indexed read; above a county, the sum of its counties)."""
    on = on or today()
    t = AreaFollowUpSummary
    ids = [area.id]
    if area.level not in ("county", "township"):
        from server.services.scope import subtree_of

        assert area.id is not None
        sub = subtree_of(session, area.id)
        ids = list(
            session.exec(select(Area.id).where(Area.id.in_(sorted(sub)), Area.level == "county"))
        )
    pending = session.exec(
        select(func.coalesce(func.sum(t.count), 0)).where(
            t.cycle_id == cycle_id,
            t.area_id.in_(ids),
        )
    ).one()
    overdue = session.exec(
        select(func.coalesce(func.sum(t.count), 0)).where(
            t.cycle_id == cycle_id,
            t.area_id.in_(ids),
            t.status == rule.OPEN,
            t.due_date < on,
        )
    ).one()
    return {"pending": int(pending), "overdue": int(overdue)}
