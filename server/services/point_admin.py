"""Townships and service points as the web administers them: the area list, adding and
renaming a township, the register import's preview and confirmation, editing one point,
closing and reopening one. Each change is checked against the viewer's scope, stamped for
sync and written to the audit log."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlmodel import Session, func, select

from server.domain.divisions import DivisionError, parse_code
from server.errors import BadRequest, NotFound
from server.models import Area, AreaBoundary, ServicePoint
from server.models._base import utcnow
from server.services import audit
from server.services import register_fields as rf
from server.services.admin_rights import Rights, area_here, areas_here
from server.services.areas import AreaError, add_area, rename_area
from server.services.changes import stamp
from server.services.point_import import ImportReport, import_points
from server.services.summaries import refresh_points
from server.services.sync_write import lock_writers

EDITABLE = ("name", "kind", "township", "lat", "lon", "manager_name", "manager_phone")
_TOKEN = re.compile(r"^[0-9a-f]{64}$")


def area_overview(session: Session, rights: Rights) -> dict:
    townships = areas_here(session, rights.scope, "township")
    counties = {a.id: a for a in areas_here(session, rights.scope) if a.level != "township"}
    points = dict(
        session.exec(
            select(ServicePoint.township_id, func.count())
            .where(rights.scope.points_here(), ServicePoint.active)
            .group_by(ServicePoint.township_id)
        ).all()
    )
    bounded = set(
        session.exec(
            select(AreaBoundary.area_id).where(AreaBoundary.area_id.in_(rights.scope.areas()))
        )
    )
    rows = [(t, counties.get(t.parent_id), points.get(t.id, 0), t.id in bounded) for t in townships]
    return {
        "rows": rows,
        "rights": rights,
        "parents": [a for a in counties.values() if a.level == "county"],
    }


def _area_error(exc: AreaError) -> BadRequest:
    p = exc.problem
    return BadRequest(
        p.key, field=p.field or "code", **{k: v for k, v in p.params.items() if k != "field"}
    )


def add_township(session: Session, rights: Rights, code: str, name: str) -> Area:
    rights.require("areas")
    try:
        division = parse_code(code)
    except DivisionError as exc:
        raise BadRequest(f"import.{exc.reason}", field="code", area_code=exc.code) from None
    if division.level != "township":
        raise BadRequest("error.not_township_code", field="code", area_code=code)
    area_here(session, rights.scope, division.parent or "", "county")
    try:
        area = add_area(session, division.code, name)
    except AreaError as exc:
        raise _area_error(exc) from None
    audit.record(
        session,
        "area.add",
        user_id=rights.scope.user_id,
        target_type="area",
        target_id=area.code,
        area_id=area.id,
        detail={"via": "web", "name": area.name},
    )
    return area


def rename_township(session: Session, rights: Rights, code: str, name: str) -> None:
    rights.require("areas")
    area = area_here(session, rights.scope, code, "township")
    try:
        _, old = rename_area(session, area.code, name)
    except AreaError as exc:
        raise _area_error(exc) from None
    if old != area.name:
        audit.record(
            session,
            "area.rename",
            user_id=rights.scope.user_id,
            target_type="area",
            target_id=area.code,
            area_id=area.id,
            detail={"via": "web", "old": old, "new": area.name},
        )


def point_overview(session: Session, rights: Rights, township: str, q: str) -> dict:
    query = (
        select(ServicePoint, Area)
        .join(Area, Area.id == ServicePoint.township_id)
        .where(rights.scope.points_here())
        .order_by(ServicePoint.active.desc(), Area.code, ServicePoint.code)
    )
    if township:
        query = query.where(Area.code == township)
    if q:
        query = query.where(ServicePoint.name.contains(q) | ServicePoint.code.contains(q))
    return {
        "rows": session.exec(query.limit(1000)).all(),
        "townships": areas_here(session, rights.scope, "township"),
        "rights": rights,
    }


def _uploads(data_dir: Path) -> Path:
    folder = data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_upload(data_dir: Path, data: bytes, filename: str) -> str:
    """Keep an uploaded register between preview and confirmation; its token is its hash, so
    what is confirmed is exactly what was previewed."""
    token = hashlib.sha256(data).hexdigest()
    folder = _uploads(data_dir)
    (folder / token).write_bytes(data)
    (folder / f"{token}.name").write_text(Path(filename).name[:120], encoding="utf-8")
    return token


def read_upload(data_dir: Path, token: str) -> tuple[bytes, str]:
    folder = _uploads(data_dir)
    if not _TOKEN.match(token) or not (folder / token).exists():
        raise NotFound("error.upload_gone")
    name = folder / f"{token}.name"
    return (folder / token).read_bytes(), name.read_text(encoding="utf-8") if name.exists() else ""


def import_register(
    session: Session,
    rights: Rights,
    data: bytes,
    filename: str,
    *,
    allow_similar: bool = False,
    skip_bad: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    rights.require("points")
    townships = {a.id for a in areas_here(session, rights.scope, "township")}
    report = import_points(
        session,
        data,
        filename=filename,
        skip_bad=skip_bad,
        allow_similar=allow_similar,
        townships=townships,
        dry_run=dry_run,
    )
    if report.written and (report.created or report.updated):
        audit.record(
            session,
            "points.import",
            user_id=rights.scope.user_id,
            target_type="file",
            target_id=filename[:64],
            area_id=rights.scope.area_id,
            detail={
                "via": "web",
                "created": report.created,
                "updated": report.updated,
                "renamed": [[r.code, r.changes["name"][0], r.name] for r in report.renamed],
                "skipped_rows": report.skipped_rows,
            },
        )
    return report


def _point(session: Session, rights: Rights, code: str) -> ServicePoint:
    point = session.exec(select(ServicePoint).where(ServicePoint.code == code)).first()
    if point is None or not rights.scope.covers(point.township_id):
        raise NotFound("error.point_not_found", point_code=code)
    return point


def point_form(session: Session, rights: Rights, code: str) -> dict:
    point = _point(session, rights, code)
    township = session.get(Area, point.township_id)
    values = {
        "name": point.name,
        "kind": point.kind,
        "township": township.code if township else "",
        "lat": "" if point.lat is None else str(point.lat),
        "lon": "" if point.lon is None else str(point.lon),
        "manager_name": point.manager_name or "",
        "manager_phone": point.manager_phone or "",
    }
    return {
        "point": point,
        "township": township,
        "values": values,
        "rights": rights,
        "townships": areas_here(session, rights.scope, "township"),
    }


def update_point(session: Session, rights: Rights, code: str, values: dict[str, str]) -> dict:
    """Edit one point with the register import's own checks; returns what changed."""
    rights.require("points")
    point = _point(session, rights, code)
    name = values.get("name", "").strip()
    if not name or len(name) > 64 or rf.has_control(name):
        raise BadRequest("error.bad_point_name", field="name")
    kind = values.get("kind", "")
    if kind not in ("village", "branch"):
        raise BadRequest("error.bad_kind", field="kind")
    township = area_here(session, rights.scope, values.get("township", ""), "township")
    pos, problems = rf.position(values.get("lat", ""), values.get("lon", ""))
    if problems:
        fld, key, params, _ = problems[0]
        raise BadRequest(key, field=fld, **params)
    phone = None
    if values.get("manager_phone", "").strip():
        phone, found = rf.phone(values["manager_phone"].strip())
        if phone is None:
            raise BadRequest(found[0], field="manager_phone", **found[1])
    manager = values.get("manager_name", "").strip()[:32] or None
    new = {
        "name": name,
        "kind": kind,
        "township_id": township.id,
        "lat": pos[0] if pos else None,
        "lon": pos[1] if pos else None,
        "manager_name": manager,
        "manager_phone": phone,
    }
    changes = {k: [getattr(point, k), v] for k, v in new.items() if getattr(point, k) != v}
    if changes:
        for k, (_, v) in changes.items():
            setattr(point, k, v)
        if "lat" in changes or "lon" in changes:
            point.coords_approx = False
        point.updated_at = utcnow()
        stamp(session, point)
        _refresh(session, point)
        audit.record(
            session,
            "point.update",
            user_id=rights.scope.user_id,
            target_type="point",
            target_id=point.code,
            area_id=township.id,
            detail={"via": "web", **{k: [str(a), str(b)] for k, (a, b) in changes.items()}},
        )
    return changes


def _refresh(session: Session, point: ServicePoint) -> None:
    """The point's summary row (services/summaries.py) follows it in the same transaction."""
    session.flush()
    lock_writers(session)
    refresh_points(session, [point.id])


def set_point_active(session: Session, rights: Rights, code: str, active: bool) -> bool:
    """Close a point (no new inspections; its history stays) or reopen it."""
    rights.require("points")
    point = _point(session, rights, code)
    if point.active == active:
        return False
    point.active = active
    point.updated_at = utcnow()
    stamp(session, point)
    _refresh(session, point)
    audit.record(
        session,
        "point.reopen" if active else "point.close",
        user_id=rights.scope.user_id,
        target_type="point",
        target_id=point.code,
        area_id=point.township_id,
        detail={"via": "web", "name": point.name},
    )
    return True
