"""Inspection plans (SafetyCulture's schedules: an assignee, a window, and "missed").

A plan is an `Assignment`: this inspector visits this point between `start_date` and
`due_date`, Beijing dates, both included. Its state is computed, never stored, so it can
never be stale: `done` when any submitted inspection of the point is dated inside the window
(whoever made it: the point was seen), `missed` when the window has ended without one,
`open` while it runs, `upcoming` before it, `cancelled` when withdrawn (kept, stamped, so
phones drop it: pulls carry no deletions).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from sqlmodel import Session, select

from server.clock import as_utc
from server.db import chunked
from server.errors import BadRequest, NotFound
from server.models import Area, Assignment, Cycle, Inspection, ServicePoint, User
from server.services import audit
from server.services.admin_rights import Rights
from server.services.changes import stamp

BEIJING = timezone(timedelta(hours=8))
STATES = ("open", "upcoming", "missed", "done", "cancelled")


def today() -> date:
    return datetime.now(BEIJING).date()


@dataclass
class PlanRow:
    plan: Assignment
    point: ServicePoint
    township: Area
    inspector: User
    state: str
    done_on: date | None = None  # the first inspection inside the window


@dataclass
class Tally:
    """Counts per state, for one inspector or for everyone."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))

    def add(self, state: str) -> None:
        self.counts[state] += 1


def state_of(plan: Assignment, visits: list[date], on: date) -> tuple[str, date | None]:
    if plan.cancelled_at is not None:
        return "cancelled", None
    inside = [d for d in visits if plan.start_date <= d <= plan.due_date]
    if inside:
        return "done", min(inside)
    if plan.due_date < on:
        return "missed", None
    if plan.start_date > on:
        return "upcoming", None
    return "open", None


def _visits(session: Session, point_ids: list[int], start: date, end: date) -> dict[int, list]:
    """Beijing dates of the submitted inspections of these points in [start, end]."""
    out: dict[int, list[date]] = defaultdict(list)
    if not point_ids:
        return out
    lo = datetime.combine(start, datetime.min.time(), BEIJING).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), BEIJING).astimezone(UTC)
    for part in chunked(point_ids):
        rows = session.exec(
            select(Inspection.point_id, Inspection.submitted_at).where(
                Inspection.point_id.in_(part),
                Inspection.status == "submitted",
                Inspection.submitted_at >= lo,
                Inspection.submitted_at < hi,
            )
        ).all()
        for point_id, at in rows:
            out[point_id].append(as_utc(at).astimezone(BEIJING).date())
    return out


def list_plans(
    session: Session,
    rights: Rights,
    *,
    cycle_id: int | None = None,
    inspector_id: int | None = None,
    state: str = "",
    on: date | None = None,
) -> list[PlanRow]:
    """The plans of points in the viewer's scope (an inspector: their own), with states."""
    on = on or today()
    scope = rights.scope
    q = (
        select(Assignment, ServicePoint, Area, User)
        .join(ServicePoint, ServicePoint.id == Assignment.point_id)
        .join(Area, Area.id == ServicePoint.township_id)
        .join(User, User.id == Assignment.inspector_id)
        .where(scope.points_here())
        .order_by(Assignment.start_date, Area.code, ServicePoint.code)
    )
    if not scope.supervises:
        q = q.where(Assignment.inspector_id == scope.user_id)
    if cycle_id is not None:
        q = q.where(Assignment.cycle_id == cycle_id)
    if inspector_id is not None:
        q = q.where(Assignment.inspector_id == inspector_id)
    rows = session.exec(q).all()
    if not rows:
        return []
    start = min(a.start_date for a, *_ in rows)
    end = max(a.due_date for a, *_ in rows)
    visits = _visits(session, sorted({a.point_id for a, *_ in rows}), start, end)
    out = []
    for plan, point, township, inspector in rows:
        st, done_on = state_of(plan, visits.get(point.id, []), on)
        if not state or st == state:
            out.append(PlanRow(plan, point, township, inspector, st, done_on))
    return out


def tally(rows: list[PlanRow]) -> tuple[Tally, dict[int, tuple[User, Tally]]]:
    """Counts per state overall and per inspector."""
    total = Tally()
    per: dict[int, tuple[User, Tally]] = {}
    for r in rows:
        total.add(r.state)
        per.setdefault(r.inspector.id, (r.inspector, Tally()))[1].add(r.state)
    return total, per


def _inspector(session: Session, rights: Rights, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not rights.scope.covers(user.area_id) or not user.active:
        raise BadRequest("error.plan_inspector", field="inspector")
    return user


def add_plans(
    session: Session,
    rights: Rights,
    *,
    cycle_id: int,
    inspector_id: int,
    point_codes: list[str],
    start: date,
    due: date,
    note: str = "",
    via: str = "web",
) -> tuple[list[Assignment], list[str]]:
    """Plan these points for one inspector in one window; (plans made, codes already
    planned so for that inspector and start date, left as they are)."""
    rights.require("plans")
    if due < start:
        raise BadRequest("error.end_before_start", field="due_date")
    if due < today():
        raise BadRequest("error.plan_in_past", field="due_date")
    cycle = session.get(Cycle, cycle_id)
    if cycle is None or not rights.scope.covers(cycle.county_id):
        raise NotFound("error.cycle_not_found")
    inspector = _inspector(session, rights, inspector_id)
    codes = sorted({c.strip() for c in point_codes if c.strip()})
    if not codes:
        raise BadRequest("error.plan_no_points", field="points")
    points = {
        p.code: p
        for p in session.exec(
            select(ServicePoint).where(ServicePoint.code.in_(codes), rights.scope.points_here())
        )
    }
    unknown = [c for c in codes if c not in points]
    if unknown:
        raise BadRequest("error.plan_unknown_points", field="points", codes=unknown[:20])
    county_of = _county_of(session, [p.township_id for p in points.values()])
    elsewhere = [c for c, p in points.items() if county_of.get(p.township_id) != cycle.county_id]
    if elsewhere:
        raise BadRequest("error.plan_other_county", field="points", codes=elsewhere[:20])
    closed = [c for c, p in points.items() if not p.active]
    if closed:
        raise BadRequest("error.plan_closed_points", field="points", codes=closed[:20])
    existing = set(
        session.exec(
            select(Assignment.point_id).where(
                Assignment.cycle_id == cycle.id,
                Assignment.inspector_id == inspector.id,
                Assignment.start_date == start,
                Assignment.point_id.in_([p.id for p in points.values()]),
            )
        ).all()
    )
    made, kept = [], []
    for code, point in sorted(points.items()):
        if point.id in existing:
            kept.append(code)
            continue
        made.append(
            Assignment(
                cycle_id=cycle.id,
                point_id=point.id,
                inspector_id=inspector.id,
                start_date=start,
                due_date=due,
                note=note.strip()[:255],
                created_by=rights.scope.user_id,
            )
        )
    if made:
        stamp(session, *made)
        session.flush()
        audit.record(
            session,
            "plan.add",
            user_id=rights.scope.user_id,
            target_type="user",
            target_id=inspector.id,
            area_id=cycle.county_id,
            detail={
                "via": via,
                "inspector": inspector.username,
                "points": [c for c in codes if c not in kept],
                "start": start.isoformat(),
                "due": due.isoformat(),
            },
        )
    return made, kept


def _county_of(session: Session, township_ids: list[int]) -> dict[int, int | None]:
    rows = session.exec(select(Area.id, Area.parent_id).where(Area.id.in_(township_ids))).all()
    return dict(rows)


def cancel_plan(session: Session, rights: Rights, plan_id: int) -> bool:
    """Withdraw a plan (kept, stamped, so phones drop it); whether it changed."""
    rights.require("plans")
    plan = session.get(Assignment, plan_id)
    point = session.get(ServicePoint, plan.point_id) if plan else None
    if plan is None or point is None or not rights.scope.covers(point.township_id):
        raise NotFound("error.plan_not_found")
    if plan.cancelled_at is not None:
        return False
    plan.cancelled_at = datetime.now(UTC)
    stamp(session, plan)
    audit.record(
        session,
        "plan.cancel",
        user_id=rights.scope.user_id,
        target_type="plan",
        target_id=plan.id,
        area_id=point.township_id,
        detail={"point": point.code, "start": plan.start_date.isoformat()},
    )
    return True


def inspectors_here(session: Session, rights: Rights) -> list[User]:
    """Active people in scope who inspect (inspectors first, then supervisors)."""
    return list(
        session.exec(
            select(User)
            .where(
                rights.scope.users_here(), User.active, User.role.in_(("inspector", "supervisor"))
            )
            .order_by(User.role, User.display_name)
        )
    )


PLAN_COLUMNS = {
    "point": ("point", "编码", "服务点编码", "服务点代码", "code"),
    "inspector": ("inspector", "检查员", "检查员账号", "用户名", "账号", "username"),
    "start": ("start", "开始日期", "开始", "start_date"),
    "due": ("due", "截止日期", "结束日期", "截止", "due_date"),
    "note": ("note", "备注", "说明"),
}
_DATE = __import__("re").compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def parse_day(raw: str) -> date | None:
    """2027-03-01, 2027/3/1, 2027.3.1, 2027年3月1日, or an Excel date cell: year first only,
    so 03/04/2027 (month or day first?) is refused rather than guessed."""
    m = _DATE.match(raw.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


@dataclass
class PlanImport:
    problems: list = field(default_factory=list)
    made: int = 0
    kept: int = 0
    written: bool = False


def import_plans(
    session: Session, rights: Rights, data: bytes, filename: str, *, cycle_id: int
) -> PlanImport:
    """Plans from a sheet (point code, inspector's username, start, due, note); every row
    checked, then all written or none."""
    from server.services.problems import Problem
    from server.services.sheets import read_sheet, table

    rights.require("plans")
    tbl = table(read_sheet(data, filename), PLAN_COLUMNS, ("point", "inspector", "start", "due"))
    report = PlanImport(problems=list(tbl.problems))
    users = {u.username: u for u in inspectors_here(session, rights)}
    groups: dict[tuple, list[str]] = defaultdict(list)
    for n, row in tbl.rows:
        bad = []
        user = users.get(row.get("inspector", ""))
        if user is None:
            bad.append(
                ("inspector", "error.plan_inspector_row", {"value": row.get("inspector", "")})
            )
        start, due = parse_day(row.get("start", "")), parse_day(row.get("due", ""))
        for fld, value in (("start", start), ("due", due)):
            if value is None:
                bad.append((fld, "error.bad_date", {"value": row.get(fld, "")}))
        if start and due and due < start:
            bad.append(("due", "error.end_before_start", {}))
        if not row.get("point"):
            bad.append(("point", "import.required", {}))
        for fld, key, params in bad:
            report.problems.append(Problem(n, fld, key, params))
        if not bad and user is not None and start and due:
            groups[(user.id, start, due, row.get("note", ""))].append(row["point"])
    if any(p.severity == "error" for p in report.problems):
        return report
    try:
        with session.begin_nested():
            for (user_id, start, due, note), codes in groups.items():
                made, kept = add_plans(
                    session,
                    rights,
                    cycle_id=cycle_id,
                    inspector_id=user_id,
                    point_codes=codes,
                    start=start,
                    due=due,
                    note=note,
                    via="import",
                )
                report.made += len(made)
                report.kept += len(kept)
    except BadRequest as exc:
        report.problems.append(Problem(0, exc.field or "", exc.key, exc.params))
        report.made = report.kept = 0
        return report
    report.written = True
    return report
