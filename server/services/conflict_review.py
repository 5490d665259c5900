"""Sync conflicts as supervisors see and settle them, for the JSON API and the review pages.

One rule for both: only supervisors and admins, and only conflicts on inspections of service
points in their scope (anything else is "not found"). Settling goes through
`conflicts.resolve_conflict`, which decides "already resolved" under the writer lock and
writes the one audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from server.db import session_scope
from server.domain.record_fields import field_value, photos_of, template_of
from server.domain.templates import Template
from server.errors import BadRequest, Forbidden, NotFound
from server.models import (
    Blob,
    ChecklistTemplate,
    Inspection,
    ServicePoint,
    SyncConflict,
    TemplateVersion,
    User,
)
from server.services.conflicts import resolve_conflict
from server.services.scope import Scope

STATUSES = ("open", "resolved", "all")
SIDES = ("keep", "server", "client")


@dataclass(frozen=True)
class ConflictRow:
    """A conflict with its service point, the inspector whose edit met it, and the checklist
    version of the inspection (its labels name the fields)."""

    conflict: SyncConflict
    point: ServicePoint
    user: User
    version: TemplateVersion

    @cached_property
    def template(self) -> Template | None:
        return template_of(self.version.content)

    @property
    def paths(self) -> list[str]:
        return [f["field"] for f in self.conflict.fields]


@dataclass(frozen=True)
class FieldRow:
    """One conflicting field: both sides, the merged value now, and the photos each side
    attaches (`shown` when the server holds the photo complete)."""

    path: str
    server: Any
    client: Any
    current: Any
    winner: str
    server_photos: list[dict]
    client_photos: list[dict]
    chosen: str | None  # after resolution: keep | server | client | other


@dataclass(frozen=True)
class ConflictDetail:
    row: ConflictRow
    inspection: Inspection
    checklist: ChecklistTemplate | None
    fields: list[FieldRow]
    resolver: User | None

    @property
    def new_rev(self) -> int | None:
        return (self.row.conflict.resolution or {}).get("rev")


def _supervising(scope: Scope) -> None:
    if not scope.supervises:
        raise Forbidden("error.supervisors_only")


def _query(scope: Scope):
    return (
        select(SyncConflict, ServicePoint, User, TemplateVersion)
        .join(Inspection, Inspection.id == SyncConflict.inspection_id)  # type: ignore[arg-type]
        .join(ServicePoint, ServicePoint.id == Inspection.point_id)  # type: ignore[arg-type]
        .join(User, User.id == SyncConflict.user_id)  # type: ignore[arg-type]
        .join(
            TemplateVersion,
            TemplateVersion.id == Inspection.template_version_id,  # type: ignore[arg-type]
        )
        .where(scope.points_here())
    )


def listed(
    session: Session,
    scope: Scope,
    status: str = "open",
    *,
    offset: int = 0,
    limit: int = 100,
    newest_first: bool = False,
) -> list[ConflictRow]:
    """Conflicts in scope with this status (`all` for every one), oldest first unless asked."""
    _supervising(scope)
    q = _query(scope)
    if status != "all":
        q = q.where(SyncConflict.status == status)
    if newest_first:
        q = q.order_by(
            SyncConflict.created_at.desc(),  # type: ignore[attr-defined]
            SyncConflict.id.desc(),  # type: ignore[union-attr]
        )
    else:
        q = q.order_by(SyncConflict.id)
    return [ConflictRow(*r) for r in session.exec(q.offset(offset).limit(limit)).all()]


def one(session: Session, scope: Scope, conflict_id: int) -> ConflictRow:
    _supervising(scope)
    row = session.exec(_query(scope).where(SyncConflict.id == conflict_id)).first()
    if row is None:
        raise NotFound("error.conflict_not_found")
    return ConflictRow(*row)


def _chosen(resolution: dict | None, f: dict) -> str | None:
    if not resolution:
        return None
    choices = resolution.get("choices") or {}
    if f["field"] not in choices:
        return "keep"
    value = choices[f["field"]]
    if value == f["server"]:
        return "server"
    return "client" if value == f["client"] else "other"


def detail(session: Session, scope: Scope, conflict_id: int) -> ConflictDetail:
    """Everything the side-by-side page shows of one conflict."""
    row = one(session, scope, conflict_id)
    c = row.conflict
    insp = session.get(Inspection, c.inspection_id)
    assert insp is not None
    current = {"answers": insp.answers, "notes": insp.notes, "gps": insp.gps}
    current["started_at"] = insp.started_at
    named = {
        p["sha256"]
        for v in (c.server_version, c.client_version)
        for path in row.paths
        for p in photos_of(v, path)
    }
    complete = set(
        session.exec(
            select(Blob.sha256).where(
                Blob.sha256.in_(sorted(named)),  # type: ignore[attr-defined]
                Blob.complete.is_(True),  # type: ignore[attr-defined]
            )
        ).all()
        if named
        else []
    )

    def photos(record: dict, path: str) -> list[dict]:
        return [
            {"sha256": p["sha256"], "shown": p["sha256"] in complete}
            for p in photos_of(record, path)
        ]

    fields = [
        FieldRow(
            path=f["field"],
            server=f["server"],
            client=f["client"],
            current=field_value(current, f["field"]),
            winner=f["winner"],
            server_photos=photos(c.server_version, f["field"]),
            client_photos=photos(c.client_version, f["field"]),
            chosen=_chosen(c.resolution, f),
        )
        for f in c.fields
    ]
    checklist = session.get(ChecklistTemplate, row.version.template_id)
    resolver = session.get(User, c.resolved_by) if c.resolved_by else None
    return ConflictDetail(row, insp, checklist, fields, resolver)


def resolve(
    engine: Engine,
    scope: Scope,
    conflict_id: int,
    *,
    take: str | None = None,
    sides: dict[str, str] | None = None,
    choices: dict[str, Any] | None = None,
) -> SyncConflict:
    """Settle a conflict as this supervisor: `take` one side for every field, or give each
    field's side (`sides`: keep | server | client, every field), and/or chosen values
    (`choices`, null removes an answer). The audit entry records which was used."""
    with session_scope(engine) as session:
        conflict = one(session, scope, conflict_id).conflict
    picked: dict[str, Any] = {}
    if take is not None:
        picked = {f["field"]: f[take] for f in conflict.fields}
        audit_detail: dict[str, Any] = {"take": take, "choices": sorted(choices or {})}
    if sides is not None:
        for f in conflict.fields:
            side = sides.get(f["field"])
            if side not in SIDES:
                raise BadRequest("error.pick_every_field", code="bad_field", field=f["field"])
            if side != "keep":
                picked[f["field"]] = f[side]
        audit_detail = {"fields": {f["field"]: sides[f["field"]] for f in conflict.fields}}
    elif take is None:
        audit_detail = {"take": None, "choices": sorted(choices or {})}
    picked.update(choices or {})
    # "already resolved" (409) and the audit entry live in that service's transaction
    return resolve_conflict(engine, conflict_id, picked, scope.user_id, audit_detail)


def count(session: Session, scope: Scope, status: str = "open") -> int:
    _supervising(scope)
    q = (
        select(func.count())
        .select_from(SyncConflict)
        .join(Inspection, Inspection.id == SyncConflict.inspection_id)  # type: ignore[arg-type]
        .where(Inspection.point_id.in_(scope.point_ids()))  # type: ignore[attr-defined]
    )
    if status != "all":
        q = q.where(SyncConflict.status == status)
    return session.exec(q).one()
