"""What one person may see and change: their area and everything below it.

One definition for the sync API, the JSON endpoints, the office pages and the reports, so a
township supervisor never sees a neighbour's rows on one page and not on another. A scope is
built from the user alone (who they are, where they work); how they reached the server (a
phone's token or a browser's cookie) plays no part in it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import Session, select

from server.models import Area, ServicePoint, User

SUPERVISING_ROLES = ("supervisor", "admin")


@dataclass(frozen=True)
class Scope:
    """A user's area subtree (the areas they work in) and its ancestors (for names only)."""

    user_id: int
    role: str
    area_id: int
    subtree: frozenset[int]
    ancestors: frozenset[int]

    @property
    def supervises(self) -> bool:
        """Supervisors and admins see everyone's work in their subtree; inspectors their own."""
        return self.role in SUPERVISING_ROLES

    @property
    def fingerprint(self) -> str:
        """Changes when the subtree or role does (sync cursors from another scope restart)."""
        raw = f"{self.user_id}:{self.role}:{sorted(self.subtree)}"
        return hashlib.sha256(raw.encode()).hexdigest()[:10]

    def covers(self, area_id: int | None) -> bool:
        return area_id in self.subtree

    def areas(self) -> list[int]:
        """The subtree's area ids, sorted: for `Column.in_(...)`."""
        return sorted(self.subtree)

    def users_here(self) -> ColumnElement[bool]:
        """WHERE clause: users whose own area lies in the subtree."""
        return User.area_id.in_(self.areas())  # type: ignore[attr-defined]

    def points_here(self) -> ColumnElement[bool]:
        """WHERE clause: service points whose township lies in the subtree."""
        return ServicePoint.township_id.in_(self.areas())  # type: ignore[attr-defined]

    def point_ids(self):
        """A subquery of the ids of the service points in the subtree."""
        return select(ServicePoint.id).where(self.points_here())


def subtree_of(session: Session, area_id: int) -> frozenset[int]:
    """An area and every area below it. The area table stops at townships (a province
    holds a few thousand rows), so one read of every (id, parent) pair beats a query per
    level with an IN list of every area found so far: 2 ms against 40-60 ms for a
    province on PostgreSQL (docs/benchmarks.md), on every page a province admin opens."""
    children: dict[int, list[int]] = {}
    for child, parent in session.exec(select(Area.id, Area.parent_id)):
        if child is not None and parent is not None:
            children.setdefault(parent, []).append(child)
    subtree, frontier = {area_id}, [area_id]
    while frontier:
        found = [c for p in frontier for c in children.get(p, ()) if c not in subtree]
        subtree.update(found)
        frontier = found
    return frozenset(subtree)


def scope_of(session: Session, user: User) -> Scope:
    """The scope of a user, read from the area tree."""
    assert user.id is not None
    subtree = subtree_of(session, user.area_id)
    ancestors: set[int] = set()
    area = session.get(Area, user.area_id)
    parent = area.parent_id if area else None
    while parent is not None and parent not in ancestors:
        ancestors.add(parent)
        area = session.get(Area, parent)
        parent = area.parent_id if area else None
    return Scope(user.id, user.role, user.area_id, subtree, frozenset(ancestors))
