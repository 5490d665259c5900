"""People as an admin or supervisor manages them on the web, on top of services/users.py
(the CLI's functions: one audit entry per change, the same password and sign-out rules).

What this adds is who may do it (admin_rights.py): a person manages the users whose area
lies in their subtree, gives only the roles their own role may give (a supervisor never
makes an admin) and only areas inside their subtree, and never changes their own role, area
or state (no lock-out, no self-promotion). Users outside the subtree are "not found".
"""

from __future__ import annotations

from sqlmodel import Session

from server.errors import BadRequest, Forbidden, NotFound
from server.models import Area, User
from server.services import audit, users
from server.services.admin_rights import Rights, area_here


def list_users(session: Session, rights: Rights, role: str = "", q: str = "") -> list:
    area = session.get(Area, rights.scope.area_id)
    assert area is not None
    rows = users.listed(session, area.code)
    if role:
        rows = [r for r in rows if r.user.role == role]
    if q:
        rows = [r for r in rows if q in r.user.username or q in r.user.display_name]
    return sorted(rows, key=lambda r: (not r.user.active, r.area.code, r.user.username))


def one(session: Session, rights: Rights, user_id: int) -> users.UserRow:
    user = session.get(User, user_id)
    if user is None or not rights.scope.covers(user.area_id):
        raise NotFound("error.user_not_found")
    area = session.get(Area, user.area_id)
    assert area is not None
    return users.UserRow(user, area, 0, None)


def _check_role(rights: Rights, role: str) -> None:
    if role not in rights.roles:
        raise BadRequest("error.role_not_allowed", field="role", role=role)


def _editable(rights: Rights, user: User) -> None:
    rights.require("users")
    if user.id == rights.scope.user_id:
        raise Forbidden("error.self_change")
    if user.role not in rights.roles:
        raise Forbidden("error.user_above")


def create_user(
    session: Session,
    rights: Rights,
    *,
    username: str,
    display_name: str,
    role: str,
    area_code: str,
    password: str = "",
) -> tuple[User, str]:
    """A new account; (user, its password: the one given or a generated one, shown once)."""
    rights.require("users")
    _check_role(rights, role)
    area = area_here(session, rights.scope, area_code)
    return users.add_user(
        session,
        username.strip(),
        display_name,
        role,
        area.code,
        password=password or None,
        by=rights.scope.user_id,
        via="web",
    )


def update_user(
    session: Session, rights: Rights, user_id: int, *, display_name: str, role: str, area_code: str
) -> dict:
    """Change name, role and area; returns what changed ({} when nothing did)."""
    row = one(session, rights, user_id)
    user = row.user
    _editable(rights, user)
    _check_role(rights, role)
    area = area_here(session, rights.scope, area_code)
    display_name = display_name.strip()
    if not 0 < len(display_name) <= 64:
        raise BadRequest("error.bad_display_name", field="display_name")
    changes = {}
    for field, old, new in (
        ("display_name", user.display_name, display_name),
        ("role", user.role, role),
        ("area", row.area.code, area.code),
    ):
        if old != new:
            changes[field] = [old, new]
    if changes:
        user.display_name, user.role, user.area_id = display_name, role, area.id  # type: ignore[assignment]
        session.add(user)
        audit.record(
            session,
            "user.update",
            user_id=rights.scope.user_id,
            target_type="user",
            target_id=user.id or "",
            area_id=area.id,
            detail={"via": "web", "username": user.username, **changes},
        )
    return changes


def set_active(session: Session, rights: Rights, user_id: int, active: bool) -> bool:
    """Disable (no login, no sync: its phones are signed out) or enable again."""
    user = one(session, rights, user_id).user
    _editable(rights, user)
    was = user.active
    users.set_active(session, user.username, active, by=rights.scope.user_id, via="web")
    return was != active


def reset_password(session: Session, rights: Rights, user_id: int) -> str:
    """A generated password, shown once; web sessions end with the old one, phones stay."""
    user = one(session, rights, user_id).user
    _editable(rights, user)
    return users.set_password(session, user.username, by=rights.scope.user_id, via="web")
