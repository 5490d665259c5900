"""Who may change what in the administration: one table for every admin page and its API.

An admin manages everything in their area's subtree; a supervisor manages the people, the
townships, the service points and the plans of their subtree, and reads the rest. An admin
whose area has no parent (the server's root: a province, or the top of a city's tree) also
owns what applies to every county: the default checklist versions. Anything outside a
person's subtree is "not found", never "forbidden": its existence is not told.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from server.errors import Forbidden, NotFound
from server.models import Area
from server.services.scope import Scope

# what each role may change (reading follows the scope alone)
CHANGES = {
    "admin": {"users", "areas", "points", "plans", "checklists", "cycles"},
    "supervisor": {"users", "areas", "points", "plans"},
}
ROLES_GIVEN = {
    "admin": ("inspector", "supervisor", "admin"),
    "supervisor": ("inspector", "supervisor"),
}


@dataclass(frozen=True)
class Rights:
    scope: Scope
    root: bool  # the person's area has no parent: server-wide

    def may(self, what: str) -> bool:
        return what in CHANGES.get(self.scope.role, set())

    def require(self, what: str) -> None:
        if not self.may(what):
            raise Forbidden("error.admin_forbidden")

    @property
    def roles(self) -> tuple[str, ...]:
        return ROLES_GIVEN.get(self.scope.role, ())

    @property
    def defaults(self) -> bool:
        """May change what applies to every county (default checklist versions)."""
        return self.scope.role == "admin" and self.root


def rights_of(session: Session, scope: Scope) -> Rights:
    area = session.get(Area, scope.area_id)
    return Rights(scope, area is not None and area.parent_id is None)


def area_here(session: Session, scope: Scope, code: str, level: str | None = None) -> Area:
    """The area with this code inside the scope (of this level), else NotFound."""
    area = session.exec(select(Area).where(Area.code == code.strip())).first()
    if area is None or not scope.covers(area.id) or (level and area.level != level):
        raise NotFound("error.area_not_found", area_code=code)
    return area


def areas_here(session: Session, scope: Scope, level: str | None = None) -> list[Area]:
    q = select(Area).where(Area.id.in_(scope.areas())).order_by(Area.code)
    if level:
        q = q.where(Area.level == level)
    return list(session.exec(q))
