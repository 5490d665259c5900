"""Accounts: add, reset a password, list, disable and enable, each written to the audit log.

The CLI calls these today and the administration pages will call the same functions. A
disabled account is refused at login on the phone and on the web, its web sessions end (the
session check reads `active`), and its devices are signed out, so a phone it left logged in
stops syncing at once; enabling it again does not bring those tokens back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from server.clock import as_utc
from server.errors import BadRequest, Conflict, NotFound
from server.i18n import normalize_lang
from server.models import ROLES, Area, Device, User
from server.services import audit
from server.services.auth import hash_password, new_password
from server.services.scope import subtree_of

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class UserRow:
    user: User
    area: Area
    devices: int  # devices whose token still works
    last_seen: datetime | None


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("error.unknown_user", username=username)
    return user


def _area(session: Session, code: str) -> Area:
    area = session.exec(select(Area).where(Area.code == code)).first()
    if area is None:
        raise NotFound("error.unknown_area", area_code=code)
    return area


def _password(password: str | None) -> str:
    if password is None:
        return new_password()
    if len(password) < MIN_PASSWORD:
        raise BadRequest("error.password_too_short", field="password", min=MIN_PASSWORD)
    return password


def add_user(
    session: Session,
    username: str,
    display_name: str,
    role: str,
    area_code: str,
    *,
    password: str | None = None,
    lang: str | None = None,
    by: int | None = None,
    via: str = "cli",
) -> tuple[User, str]:
    """A new account working in the area `area_code`; (the user, their password: the one
    given, else a generated one to hand over)."""
    if not USERNAME.match(username):
        raise BadRequest("error.bad_username", field="username", username=username)
    display_name = display_name.strip()
    if not 0 < len(display_name) <= 64:
        raise BadRequest("error.bad_display_name", field="name")
    if role not in ROLES:
        raise BadRequest("error.bad_role", field="role", role=role)
    area = _area(session, area_code)
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise Conflict("error.user_exists", code="user_exists", username=username)
    pw = _password(password)
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        area_id=area.id,  # type: ignore[arg-type]
        password_hash=hash_password(pw),
        lang=normalize_lang(lang),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user.add",
        user_id=by,
        target_type="user",
        target_id=user.id or "",
        area_id=area.id,
        detail={"via": via, "role": role, "area": area_code},
    )
    return user, pw


def set_password(
    session: Session,
    username: str,
    password: str | None = None,
    *,
    sign_out_devices: bool = False,
    by: int | None = None,
    via: str = "cli",
) -> str:
    """A new password (given, else generated and returned). The account's web sessions end
    with the old password; its phones stay logged in unless `sign_out_devices` (a password
    someone else may know)."""
    user = _user(session, username)
    pw = _password(password)
    user.password_hash = hash_password(pw)
    session.add(user)
    revoked = _sign_out(session, user) if sign_out_devices else 0
    audit.record(
        session,
        "user.passwd",
        user_id=by,
        target_type="user",
        target_id=user.id or "",
        area_id=user.area_id,
        detail={"via": via, "devices_signed_out": revoked},
    )
    return pw


def set_active(
    session: Session, username: str, active: bool, *, by: int | None = None, via: str = "cli"
) -> tuple[User, int]:
    """Disable (signing out every device) or enable an account; (the user, how many devices
    were signed out). Doing it twice changes nothing and writes nothing."""
    user = _user(session, username)
    if user.active == active:
        return user, 0
    user.active = active
    session.add(user)
    revoked = 0 if active else _sign_out(session, user)
    audit.record(
        session,
        "user.enable" if active else "user.disable",
        user_id=by,
        target_type="user",
        target_id=user.id or "",
        area_id=user.area_id,
        detail={"via": via, "devices_signed_out": revoked},
    )
    return user, revoked


def _sign_out(session: Session, user: User) -> int:
    now = datetime.now(UTC)
    live = session.exec(
        select(Device).where(
            Device.user_id == user.id,
            Device.revoked_at.is_(None),  # type: ignore[union-attr]
            Device.token_hash.is_not(None),  # type: ignore[union-attr]
        )
    ).all()
    for device in live:
        device.revoked_at = now
        session.add(device)
    return len(live)


def listed(session: Session, area_code: str | None = None) -> list[UserRow]:
    """Every account (under an area, when given), by area then username, with how many of
    its devices can sync and when one was last seen."""
    q = select(User, Area).join(Area, Area.id == User.area_id)  # type: ignore[arg-type]
    if area_code is not None:
        root = _area(session, area_code)
        assert root.id is not None
        areas = subtree_of(session, root.id)
        q = q.where(User.area_id.in_(sorted(areas)))  # type: ignore[attr-defined]
    rows = session.exec(q.order_by(Area.code, User.username)).all()
    now = datetime.now(UTC)
    stats = {
        user_id: (live, seen)
        for user_id, live, seen in session.exec(
            select(
                Device.user_id,
                func.count()
                .filter(
                    Device.revoked_at.is_(None),  # type: ignore[union-attr]
                    Device.token_hash.is_not(None),  # type: ignore[union-attr]
                    Device.token_expires_at > now,  # type: ignore[operator]
                )
                .label("live"),
                func.max(Device.last_seen_at),
            ).group_by(Device.user_id)
        ).all()
    }
    out = []
    for user, area in rows:
        live, seen = stats.get(user.id, (0, None))
        out.append(UserRow(user, area, live, as_utc(seen)))
    return out


def area_name(session: Session, user: User) -> str:
    """The name of the area a user works in ("" if it is gone)."""
    area = session.get(Area, user.area_id)
    return area.name if area else ""
