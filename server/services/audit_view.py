"""Reading the audit log: who changed what, filtered by person, action, area and date.

A person reads the entries about their subtree (an entry names the area it concerns) and
the entries about no area (logins, devices) made by people of their subtree; an admin of
the server's root reads every entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from sqlmodel import Session, or_, select

from server.models import Area, AuditLog, User
from server.services.admin_rights import Rights, area_here

BEIJING = timezone(timedelta(hours=8))
PAGE = 100


@dataclass(frozen=True)
class AuditFilter:
    user: str = ""  # username
    action: str = ""  # an action or its prefix ("user." for every user change)
    area: str = ""  # area code: that area and everything below it
    since: date | None = None  # Beijing dates, both included
    until: date | None = None
    page: int = 1


@dataclass(frozen=True)
class AuditRow:
    entry: AuditLog
    user: User | None
    area: Area | None


def _day_start(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time(), BEIJING).astimezone(UTC)


def entries(session: Session, rights: Rights, f: AuditFilter) -> tuple[list[AuditRow], bool]:
    """One page of entries, newest first, and whether there are more."""
    scope = rights.scope
    q = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    here = AuditLog.area_id.in_(scope.areas())
    # an entry about no area (a login, a device) belongs to whoever did it
    by_someone_here = AuditLog.area_id.is_(None) & AuditLog.user_id.in_(
        select(User.id).where(scope.users_here())
    )
    if rights.defaults:
        q = q.where(or_(here, AuditLog.area_id.is_(None)))
    else:
        q = q.where(or_(here, by_someone_here))
    if f.area:
        area = area_here(session, scope, f.area)
        sub = scope_of_area(session, area)
        q = q.where(AuditLog.area_id.in_(sub))
    if f.user:
        user = session.exec(select(User).where(User.username == f.user)).first()
        q = q.where(AuditLog.user_id == (user.id if user else -1))
    if f.action:
        q = q.where(
            AuditLog.action.startswith(f.action)
            if f.action.endswith(".")
            else AuditLog.action == f.action
        )
    if f.since:
        q = q.where(AuditLog.at >= _day_start(f.since))
    if f.until:
        q = q.where(AuditLog.at < _day_start(f.until + timedelta(days=1)))
    rows = session.exec(q.offset((f.page - 1) * PAGE).limit(PAGE + 1)).all()
    users = {
        u.id: u
        for u in session.exec(
            select(User).where(User.id.in_({r.user_id for r in rows if r.user_id}))
        )
    }
    areas = {
        a.id: a
        for a in session.exec(
            select(Area).where(Area.id.in_({r.area_id for r in rows if r.area_id}))
        )
    }
    out = [AuditRow(r, users.get(r.user_id), areas.get(r.area_id)) for r in rows[:PAGE]]
    return out, len(rows) > PAGE


def scope_of_area(session: Session, area: Area) -> list[int]:
    ids, frontier = {area.id}, [area.id]
    while frontier:
        frontier = [
            a
            for a in session.exec(select(Area.id).where(Area.parent_id.in_(frontier)))
            if a not in ids
        ]
        ids.update(frontier)
    return sorted(ids)


def actions(session: Session) -> list[str]:
    """Every action the log holds, for the filter's choices."""
    return sorted(session.exec(select(AuditLog.action).distinct()).all())
