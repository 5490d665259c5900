"""A service point's page and each of its inspections, as a supervisor reads them.

One rule with the rest of the office: a point outside the viewer's subtree, or an
inspection of one, is "not found" (its existence is not told). The point's conflicts and
quarantined ops are listed with links to the review pages, where they are resolved: this
page shows, it does not settle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, select

from server.db import CHUNK
from server.domain.geo import distance_km
from server.domain.templates import Item, Template
from server.errors import NotFound
from server.models import (
    Area,
    Blob,
    ChecklistTemplate,
    Cycle,
    FollowUp,
    Inspection,
    ServicePoint,
    SyncConflict,
    TemplateVersion,
    User,
)
from server.services import quarantine
from server.services.area_detail import parents_in_scope, parsed_version
from server.services.plans import today
from server.services.scope import Scope


@dataclass(frozen=True)
class Fix:
    """Where the phone was, against where the point is registered."""

    lat: float
    lon: float
    accuracy: float | None
    at: str | None
    point_lat: float | None
    point_lon: float | None

    @property
    def metres(self) -> int | None:
        if self.point_lat is None or self.point_lon is None:
            return None
        return round(distance_km(self.lat, self.lon, self.point_lat, self.point_lon) * 1000)


@dataclass(frozen=True)
class HistoryRow:
    inspection: Inspection
    cycle: Cycle | None
    inspector: User | None
    failed: int
    fix: Fix | None


@dataclass(frozen=True)
class PointView:
    point: ServicePoint
    township: Area
    crumbs: list[Area]  # the areas above the point, down to its township, in the scope
    history: list[HistoryRow]
    followups: list[tuple[FollowUp, Item | None]]
    conflicts: list[SyncConflict]
    quarantined: list[quarantine.QuarantineRow]
    today: Any


@dataclass(frozen=True)
class ItemRow:
    item: Item
    section: Any  # the template Section's name (Text)
    value: Any
    outcome: dict | None  # {"status", "code", "params"} from the stored evaluation
    photos: list[dict]  # {"sha256", "shown"}


@dataclass(frozen=True)
class InspectionView:
    inspection: Inspection
    point: ServicePoint
    township: Area
    crumbs: list[Area]
    cycle: Cycle | None
    inspector: User | None
    checklist: ChecklistTemplate | None
    version: TemplateVersion | None
    template: Template | None
    items: list[ItemRow]
    failed: list[ItemRow]
    extra_answers: dict[str, Any]  # answers to items the version does not have
    fix: Fix | None
    conflicts: list[SyncConflict]
    # left blank: not inspected, which is no failure (architecture.md, "Not inspected")
    not_inspected: list[ItemRow] = field(default_factory=list)


def point_in_scope(session: Session, scope: Scope, code: str) -> ServicePoint:
    point = session.exec(select(ServicePoint).where(ServicePoint.code == code.strip())).first()
    if point is None or not scope.covers(point.township_id):
        raise NotFound("error.point_not_found", point_code=code[:32])
    return point


def fix_of(gps: Any, point: ServicePoint) -> Fix | None:
    """The inspection's GPS fix, or None when it has none that reads as a position."""
    if not isinstance(gps, dict):
        return None
    try:
        lat, lon = float(gps["lat"]), float(gps["lon"])
        acc = gps.get("accuracy")
        accuracy = float(acc) if acc is not None else None
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        return None
    if accuracy is not None and not math.isfinite(accuracy):
        accuracy = None
    at = gps.get("at") if isinstance(gps.get("at"), str) else None
    return Fix(lat, lon, accuracy, at, point.lat, point.lon)


def point_view(session: Session, scope: Scope, code: str) -> PointView:
    point = point_in_scope(session, scope, code)
    township = session.get(Area, point.township_id)
    assert township is not None
    inspections = list(
        session.exec(
            select(Inspection)
            .where(Inspection.point_id == point.id)
            .order_by(
                Inspection.submitted_at.desc().nulls_first(),  # type: ignore[union-attr]
                Inspection.created_at.desc(),  # type: ignore[attr-defined]
            )
        )
    )
    cycles = _by_id(session, Cycle, {i.cycle_id for i in inspections if i.cycle_id})
    users = _by_id(session, User, {i.inspector_id for i in inspections})
    history = [
        HistoryRow(
            i,
            cycles.get(i.cycle_id),
            users.get(i.inspector_id),
            _failed_count(i.result),
            fix_of(i.gps, point),
        )
        for i in inspections
    ]
    followups = [
        (f, _item_of(parsed_version(session, _version_of(session, f.opened_by)), f.item_key))
        for f in session.exec(
            select(FollowUp)
            .where(FollowUp.point_id == point.id, FollowUp.status == "open")
            .order_by(FollowUp.due_date, FollowUp.item_key)
        )
    ]
    return PointView(
        point,
        township,
        [*parents_in_scope(session, scope, township), township],
        history,
        followups,
        conflicts_of(session, scope, [i.id for i in inspections]),
        quarantine.listed(
            session,
            _with_users_only(session, scope),
            point_code=point.code,
            newest_first=True,
            with_templates=True,
        ),
        today(),
    )


def _with_users_only(session: Session, scope: Scope) -> Scope:
    """The scope cut to the areas where someone works: the quarantine shows the ops of the
    users in the scope, and a province admin's 1,611 area ids bound one by one cost
    PostgreSQL 25 ms on every point page, for the hundred areas that have users."""
    if len(scope.subtree) <= CHUNK:
        return scope
    worked = set(session.exec(select(User.area_id).distinct()))
    return replace(scope, subtree=scope.subtree & frozenset(worked))


def conflicts_of(session: Session, scope: Scope, inspection_ids: list[str]) -> list[SyncConflict]:
    """The sync conflicts on these inspections, open ones first (only supervisors and admins
    settle conflicts; the office has no one else)."""
    if not inspection_ids or not scope.supervises:
        return []
    return list(
        session.exec(
            select(SyncConflict)
            .where(SyncConflict.inspection_id.in_(inspection_ids))  # type: ignore[attr-defined]
            .order_by(SyncConflict.status.desc(), SyncConflict.id.desc())  # type: ignore[attr-defined,union-attr]
        )
    )


def inspection_view(session: Session, scope: Scope, inspection_id: str) -> InspectionView:
    insp = session.get(Inspection, inspection_id[:36])
    point = session.get(ServicePoint, insp.point_id) if insp else None
    if insp is None or point is None or not scope.covers(point.township_id):
        raise NotFound("error.inspection_not_found")
    township = session.get(Area, point.township_id)
    assert township is not None
    version = session.get(TemplateVersion, insp.template_version_id)
    checklist = session.get(ChecklistTemplate, version.template_id) if version else None
    template = parsed_version(session, insp.template_version_id)
    outcomes = (insp.result or {}).get("items", {}) if isinstance(insp.result, dict) else {}
    complete = _complete(session, insp.photos)
    answers = insp.answers if isinstance(insp.answers, dict) else {}
    rows: list[ItemRow] = []
    if template is not None:
        for section in template.sections:
            for item in section.items:
                photos = [
                    {"sha256": p["sha256"], "shown": p["sha256"] in complete}
                    for p in insp.photos or []
                    if isinstance(p, dict) and p.get("item") == item.key and "sha256" in p
                ]
                value, outcome = answers.get(item.key), outcomes.get(item.key)
                rows.append(ItemRow(item, section.name, value, outcome, photos))
    known = {r.item.key for r in rows}
    return InspectionView(
        insp,
        point,
        township,
        [*parents_in_scope(session, scope, township), township],
        session.get(Cycle, insp.cycle_id) if insp.cycle_id else None,
        session.get(User, insp.inspector_id),
        checklist,
        version,
        template,
        rows,
        [r for r in rows if r.outcome and r.outcome.get("status") == "fail"],
        {k: v for k, v in answers.items() if k not in known},
        fix_of(insp.gps, point),
        conflicts_of(session, scope, [insp.id]),
        [r for r in rows if r.outcome and r.outcome.get("status") == "missing"],
    )


def _complete(session: Session, photos: Any) -> set[str]:
    shas = sorted({p["sha256"] for p in photos or [] if isinstance(p, dict) and "sha256" in p})
    if not shas:
        return set()
    q = select(Blob.sha256).where(Blob.sha256.in_(shas), Blob.complete.is_(True))  # type: ignore[attr-defined]
    return set(session.exec(q))


def _failed_count(result: Any) -> int:
    if not isinstance(result, dict):
        return 0
    items = result.get("items") or {}
    return sum(1 for r in items.values() if r.get("status") == "fail")


def _by_id(session: Session, model: Any, ids: set[Any]) -> dict[Any, Any]:
    if not ids:
        return {}
    return {r.id: r for r in session.exec(select(model).where(model.id.in_(sorted(ids))))}


def _version_of(session: Session, inspection_id: str) -> int:
    insp = session.get(Inspection, inspection_id)
    return insp.template_version_id if insp else -1


def _item_of(template: Template | None, key: str) -> Item | None:
    if template is None:
        return None
    try:
        return template.item(key)
    except KeyError:
        return None
