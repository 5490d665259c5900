"""The pull half of /api/sync: every in-scope change after the device's cursor, paginated.

Why the cursor is safe: rows carry `seq` from the one-row change counter, whose row lock
makes numbers visible in commit order (services/changes.py). We read the committed counter
value V *first* and only return rows with seq <= V, so a row that commits after our read
has seq > V and is picked up next time; none is ever skipped.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import text, tuple_
from sqlmodel import Session, or_, select

from server.db import chunked
from server.models import (
    Area,
    Assignment,
    ChecklistTemplate,
    Cycle,
    FollowUp,
    Inspection,
    InspectionRevision,
    ServicePoint,
    TemplateVersion,
    User,
)
from server.services.latest import latest_submitted
from server.services.scope import Scope
from sync.messages import CHANGE_KINDS

INSP = Inspection.__table__  # type: ignore[attr-defined]


def parse_cursor(cursor: str | None, scope: Scope) -> int:
    """A cursor from another scope (the user moved area) or garbage restarts from zero:
    a full resend is always safe, a skipped row is not."""
    if not cursor:
        return 0
    parts = cursor.split(".")
    if len(parts) != 3 or parts[0] != "v1" or parts[2] != scope.fingerprint:
        return 0
    try:
        return max(0, int(parts[1]))
    except ValueError:
        return 0


def make_cursor(seq: int, scope: Scope) -> str:
    return f"v1.{seq}.{scope.fingerprint}"


def committed_seq(session: Session) -> int:
    return int(session.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar_one())


def scope_queries(scope: Scope):
    near = list(scope.subtree | scope.ancestors)
    points_in = select(ServicePoint.id).where(ServicePoint.township_id.in_(list(scope.subtree)))
    if scope.role == "inspector":
        assignments = Assignment.inspector_id == scope.user_id
    else:
        assignments = Assignment.point_id.in_(points_in)
    return {
        "areas": (Area, Area.id.in_(near)),
        "points": (ServicePoint, ServicePoint.township_id.in_(list(scope.subtree))),
        "templates": (
            TemplateVersion,
            or_(TemplateVersion.county_id.is_(None), TemplateVersion.county_id.in_(near)),
        ),
        "cycles": (Cycle, Cycle.county_id.in_(near)),
        "assignments": (Assignment, assignments),
        "followups": (FollowUp, FollowUp.point_id.in_(points_in)),
        "inspections": (Inspection, Inspection.inspector_id == scope.user_id),
    }


# columns a change row does not carry, so not read (a follow-up's evidence is JSON to decode)
# (an inspection's record columns are read only if it has no revision snapshot: Serializer)
_UNSENT = {
    "followups": ("evidence", "closed_user_id"),
    "inspections": ("answers", "photos", "gps", "notes", "field_hlc", "echo_device", "echo_seq"),
}


def seq_queries(queries: dict, cursor: int, ceiling: int, page: int) -> dict[str, Any]:
    """Per kind, the change numbers in (cursor, ceiling], at most page + 1 (and an
    inspection's id, and which device holds it as stored at which number). Each reads an
    index of (scope column, seq) (migration 0013): the rows past the cursor alone, however
    many the scope has had."""
    out = {}
    for kind, (model, where) in queries.items():
        keys = (model.id, model.echo_device, model.echo_seq) if kind == "inspections" else ()
        out[kind] = (
            select(model.seq, *keys)
            .where(model.seq > cursor, model.seq <= ceiling, where)
            .order_by(model.seq)
            .limit(page + 1)
        )
    return out


def pull(
    session: Session,
    scope: Scope,
    cursor: int,
    page: int,
    device_id: str | None = None,
) -> tuple[dict[str, list[dict]], int, bool]:
    """Changes after ``cursor``: (rows by kind, next cursor, more). Inspections that
    ``device_id`` sent and the server holds as sent, unchanged since, are not echoed
    (models.Inspection.echo_device): neither in the answer to the request that wrote them
    nor in the pages after a large batch. Left out, they still count towards the page, so
    the page ends where it would without them.

    Why even from cursor 0: a device keeps every record it made (the field app never
    deletes one; a new install or cleared storage makes a new device id), and the pull
    starts over with the records still there (another scope, another user on the phone)."""
    ceiling = committed_seq(session)
    queries = scope_queries(scope)
    # First only the sequence numbers (cheap) to find where the page ends, then the rows of
    # the page: rows past the page, and inspections not echoed, are never loaded and decoded.
    found: list[tuple[int, str, tuple | None]] = []
    for kind, stmt in seq_queries(queries, cursor, ceiling, page).items():
        rows = session.execute(stmt).all()
        found.extend((r[0], kind, tuple(r[1:]) or None) for r in rows)  # type: ignore[misc]
    found.sort(key=lambda f: f[0])
    more = len(found) > page
    taken = found[:page]
    next_cursor = taken[-1][0] if more else max(ceiling, cursor)
    wanted: dict[str, int] = {}
    echoed: list[str] = []  # the inspections to send
    for seq, kind, key in taken:
        if kind == "inspections":
            rid, echo_device, echo_seq = key  # type: ignore[misc]
            if (echo_device, echo_seq) == (device_id, seq):
                continue  # the device holds it as stored (echo_seq is None without a device)
            echoed.append(rid)
        wanted[kind] = wanted.get(kind, 0) + 1
    by_kind: dict[str, list] = {k: [] for k in CHANGE_KINDS}
    for kind, count in wanted.items():
        model, where = queries[kind]
        table = model.__table__  # type: ignore[attr-defined]
        # Core rows (attribute access like the model's, without building ORM objects)
        in_range = (table.c.seq > cursor, table.c.seq <= next_cursor, where)
        cols = [c for c in table.c if c.key not in _UNSENT.get(kind, ())]
        if kind == "inspections":
            for part in chunked(echoed):
                by_kind[kind].extend(
                    session.execute(select(*cols).where(table.c.id.in_(part), *in_range)).all()
                )
            by_kind[kind].sort(key=lambda r: r.seq)
        else:
            by_kind[kind] = list(
                session.execute(
                    select(*cols).where(*in_range).order_by(table.c.seq).limit(count)
                ).all()
            )
    return Serializer(session).all(by_kind), next_cursor, more


class Serializer:
    """Rows to their wire shape (docs/sync-protocol.md, "Change rows")."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._areas: dict[int, str] = {}
        self._points: dict[int, str] = {}
        self._versions: dict[int, tuple[str, int]] = {}

    def area_code(self, area_id: int | None) -> str | None:
        if area_id is None:
            return None
        if area_id not in self._areas:
            area = self.session.get(Area, area_id)
            self._areas[area_id] = area.code if area else ""
        return self._areas[area_id]

    def point_code(self, point_id: int) -> str:
        if point_id not in self._points:
            point = self.session.get(ServicePoint, point_id)
            self._points[point_id] = point.code if point else ""
        return self._points[point_id]

    def version(self, version_id: int) -> tuple[str, int]:
        if version_id not in self._versions:
            row = self.session.exec(
                select(ChecklistTemplate.key, TemplateVersion.version)
                .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
                .where(TemplateVersion.id == version_id)
            ).one()
            self._versions[version_id] = (row[0], row[1])
        return self._versions[version_id]

    def codes(self, point_ids: set[int], area_ids: set[int | None]) -> None:
        """Learn the codes of these points and areas in a query per table, not one per
        row (a page of follow-ups names hundreds of points)."""
        points = {p for p in point_ids if p not in self._points}
        areas = {a for a in area_ids if a is not None and a not in self._areas}
        for model, todo, known in (
            (ServicePoint, points, self._points),
            (Area, areas, self._areas),
        ):
            t = model.__table__  # type: ignore[attr-defined]
            for part in chunked(todo):
                known.update(dict.fromkeys(part, ""))
                known.update(
                    self.session.execute(select(t.c.id, t.c.code).where(t.c.id.in_(part))).all()
                )

    def all(self, by_kind: dict[str, list]) -> dict[str, list[dict]]:
        self.codes(
            {
                r.point_id
                for k in ("assignments", "followups", "inspections")
                for r in by_kind.get(k, [])
            },
            {r.parent_id for r in by_kind.get("areas", [])}
            | {r.township_id for r in by_kind.get("points", [])}
            | {r.county_id for k in ("templates", "cycles") for r in by_kind.get(k, [])},
        )
        out = {
            k: [getattr(self, k)(r) for r in rows]
            for k, rows in by_kind.items()
            if k != "inspections"
        }
        # all inspections' revision snapshots in one query, not one query per row
        out["inspections"] = self.inspections_many(by_kind.get("inspections", []))
        # and the points' latest inspections in one query
        points = by_kind.get("points", [])
        if points:
            latest = self.last_inspections([p.id for p in points])
            for row, p in zip(out["points"], points, strict=True):
                row["last_inspection"] = latest.get(p.id)
        return out

    def last_inspections(self, point_ids: list[int]) -> dict[int, dict]:
        """Each point's latest submitted inspection (by submitted_at, then id; any
        inspector), as phones see it: {"id", "submitted_at", "rating", "cycle_id",
        "inspector_id", "inspector", "evidence_complete"}. Points never inspected are
        absent."""
        rows = list(
            latest_submitted(
                self.session.connection(),
                point_ids,
                INSP.c.rating,
                INSP.c.cycle_id,
                INSP.c.inspector_id,
                INSP.c.evidence_complete,
            )
        )
        names: dict[int, str] = {}
        for part in chunked({r.inspector_id for r in rows}):
            names.update(
                self.session.execute(
                    select(User.id, User.display_name).where(User.id.in_(part))  # type: ignore[attr-defined]
                ).all()
            )
        out: dict[int, dict] = {}
        for r in rows:
            out[r.point_id] = {
                "id": r.id,
                "submitted_at": r.submitted_at.astimezone(UTC).isoformat(),
                "rating": r.rating,
                "cycle_id": r.cycle_id,
                "inspector_id": r.inspector_id,
                "inspector": names.get(r.inspector_id),
                "evidence_complete": r.evidence_complete,
            }
        return out

    def areas(self, a: Area) -> dict:
        return {
            "id": a.code,
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "parent_code": self.area_code(a.parent_id),
            "lat": a.lat,
            "lon": a.lon,
        }

    def points(self, p: ServicePoint) -> dict:
        return {
            "id": p.code,
            "code": p.code,
            "name": p.name,
            "kind": p.kind,
            "township_code": self.area_code(p.township_id),
            "lat": p.lat,
            "lon": p.lon,
            "coords_approx": p.coords_approx,
            "manager_name": p.manager_name,
            "manager_phone": p.manager_phone,
            "opening_hours": p.opening_hours,
            "active": p.active,
            "last_inspection": None,  # filled in by `all` (one query for the page)
        }

    def templates(self, v: TemplateVersion) -> dict:
        assert v.id is not None
        key, number = self.version(v.id)
        return {
            "id": f"{key}@{number}",
            "key": key,
            "version": number,
            "county_code": self.area_code(v.county_id),
            "content": v.content,
        }

    def cycles(self, c: Cycle) -> dict:
        return {
            "id": c.id,
            "name": c.name,
            "year": c.year,
            "start_date": c.start_date.isoformat(),
            "end_date": c.end_date.isoformat(),
            "assessment_date": c.assessment_date.isoformat() if c.assessment_date else None,
            "county_code": self.area_code(c.county_id),
            "current": c.current,
        }

    def assignments(self, a: Assignment) -> dict:
        return {
            "id": a.id,
            "cycle_id": a.cycle_id,
            "point_code": self.point_code(a.point_id),
            "inspector_id": a.inspector_id,
            "start_date": a.start_date.isoformat(),
            "due_date": a.due_date.isoformat(),
            "note": a.note,
            "cancelled": a.cancelled_at is not None,
        }

    def followups(self, f: FollowUp) -> dict:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "id": f.id,
            "point_code": self.point_code(f.point_id),
            "cycle_id": f.cycle_id,
            "item_key": f.item_key,
            "reason_code": f.reason_code,
            "opened_by": f.opened_by,
            "opened_at": iso(f.opened_at),
            "due_date": iso(f.due_date),
            "status": f.status,
            "responsible": f.responsible,
            "responsible_phone": f.responsible_phone,
            "fixed_at": iso(f.fixed_at),
            "closed_by": f.closed_by,
            "closed_at": iso(f.closed_at),
            "note": f.note,
        }

    def inspections(self, i: Inspection) -> dict:
        return self.inspections_many([i])[0]

    def inspections_many(self, rows: list[Inspection]) -> list[dict]:
        if not rows:
            return []
        keys = [(i.id, i.rev) for i in rows]
        t = InspectionRevision.__table__  # type: ignore[attr-defined]
        snaps: dict[tuple[str, int], dict] = {}
        for part in chunked(keys):
            found = self.session.execute(
                select(t.c.inspection_id, t.c.rev, t.c.data).where(
                    tuple_(t.c.inspection_id, t.c.rev).in_(part)
                )
            )
            snaps.update(((rid, rev), data) for rid, rev, data in found)
        # a row read without its record columns (the pull's) and without a snapshot (one the
        # demo wrote): read it whole
        whole = [i.id for i in rows if (i.id, i.rev) not in snaps and not hasattr(i, "answers")]
        full: dict[str, Any] = {}
        for part in chunked(whole):
            full.update(
                (r.id, r) for r in self.session.execute(select(INSP).where(INSP.c.id.in_(part)))
            )
        return [self.record(full.get(i.id, i), snaps.get((i.id, i.rev))) for i in rows]

    def record(self, i: Inspection, snap: dict | None) -> dict:
        """The protocol record (from its revision snapshot, else rebuilt from columns, as for
        rows the demo wrote) plus what only the server knows."""
        if snap is None:
            key, number = self.version(i.template_version_id)
            iso = lambda d: d.isoformat() if d else None  # noqa: E731
            snap = {
                "id": i.id,
                "point_code": self.point_code(i.point_id),
                "template_key": key,
                "template_version": number,
                "cycle_id": i.cycle_id,
                "status": i.status,
                "answers": i.answers,
                "photos": i.photos,
                "gps": i.gps,
                "notes": i.notes,
                "started_at": iso(i.started_at),
                "submitted_at": iso(i.submitted_at),
                "device_id": i.device_id,
            }
        return {
            **snap,
            "rev": i.rev,
            "rating": i.rating,
            "result": i.result,
            "evidence_complete": i.evidence_complete,
            "evidence_pending": i.status == "submitted" and not i.evidence_complete,
        }
