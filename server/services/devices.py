"""Device login: per-device bearer tokens, stored as SHA-256 digests, revocable and rotatable.

Why per device and long-lived: an inspector may be out of signal for weeks, and must not be
locked out of saving work because a token expired in a village. Revocation (a lost phone) is
per device, and every refusal carries a code so the app knows to ask for a new login while
keeping its outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from server.clock import as_utc
from server.domain.user_agent import looks_like_user_agent
from server.errors import Conflict, Unauthorized
from server.models import Area, Device, RetiredToken, User
from server.services import audit
from server.services.auth import new_token, still_holds, token_digest

SEEN_EVERY = timedelta(minutes=10)  # last_seen_at is advisory; do not write on every request


def _now() -> datetime:
    return datetime.now(UTC)


def unauthorized(code: str) -> Unauthorized:
    return Unauthorized.protocol(code)


@dataclass(frozen=True)
class Caller:
    user: User
    device: Device
    area: Area


@dataclass(frozen=True)
class Issued:
    """A fresh token for a device, and whose it is."""

    token: str
    device: Device
    user: User
    area: Area


@dataclass(frozen=True)
class Agent:
    """What the device says about itself at login: its user agent and model (client hint)."""

    user_agent: str = ""
    model: str = ""


def login(
    session: Session,
    username: str,
    verified: str | None,
    device_id: str,
    device_name: str,
    days: int,
    agent: Agent = Agent(),
    proof: str = "",
    began: datetime | None = None,
) -> Issued:
    """Issue this device a fresh token (any older one is retired), for a password that
    `auth.verified_hash` checked before this write transaction (None: it did not match).
    A disabled account, or one whose password changed meanwhile, is refused like a wrong
    password.

    A device signed in to another user moves to this one only when the request shows a
    token that device held (`proof`: the phone keeps its last token through a logout, so a
    shared phone passes between colleagues even offline). A device id alone is no proof:
    ids are shown to supervisors, and anyone knowing one could otherwise sign its owner out.

    A login that `began` before this device's live token was issued to the same user yields
    (409 `login_superseded`): under load a phone gives up on a slow login and sends it
    again; if the first one then finished, it would retire the token the phone was given
    for the second, and the phone would be signed out holding its unsent work."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not still_holds(user, verified):
        raise unauthorized("bad_credentials")
    user_agent = agent.user_agent
    if looks_like_user_agent(device_name):  # older field apps sent their user agent here
        user_agent = user_agent if looks_like_user_agent(user_agent) else device_name
        device_name = ""
    device_name = device_name[:128]
    device = session.get(Device, device_id)
    taken = device is not None and device.user_id != user.id and _live(device)
    if taken and not _held_by_this_phone(session, device, proof):
        raise Conflict.protocol("device_in_use", "device_id")
    if began is not None and device is not None and _issued_since(device, user, began, days):
        raise Conflict.protocol("login_superseded", "device_id")
    if device is None:
        device = Device(id=device_id, user_id=user.id, name=device_name)
    else:
        _retire(session, device, "relogin")
        device.user_id, device.name = user.id, device_name or device.name
    device.user_agent = user_agent[:512] or device.user_agent
    device.model = agent.model[:64] or device.model
    token = new_token()
    device.token_hash = token_digest(token)
    device.token_expires_at = _now() + timedelta(days=days)
    device.revoked_at = None
    device.last_seen_at = _now()
    session.add(device)
    audit.record(
        session,
        "auth.login",
        user_id=user.id,
        device_id=device_id,
        target_type="device",
        target_id=device_id,
    )
    area = session.get(Area, user.area_id)
    assert area is not None
    return Issued(token, device, user, area)


def _issued_since(device: Device, user: User, began: datetime, days: int) -> bool:
    """Whether the device's live token of this user (a login's or a rotation's: both set
    its expiry `days` ahead) was issued after `began`."""
    expires = as_utc(device.token_expires_at)
    if device.user_id != user.id or not _live(device) or expires is None:
        return False
    return expires - timedelta(days=days) > as_utc(began)


def _live(device: Device) -> bool:
    expires = as_utc(device.token_expires_at)
    return device.revoked_at is None and (expires is None or expires > _now())


def _held_by_this_phone(session: Session, device: Device, proof: str) -> bool:
    if not proof:
        return False
    digest = token_digest(proof)
    if digest == device.token_hash:
        return True
    old = session.get(RetiredToken, digest)
    return old is not None and old.device_id == device.id


def _retire(session: Session, device: Device, reason: str) -> None:
    if device.token_hash and session.get(RetiredToken, device.token_hash) is None:
        session.add(RetiredToken(token_hash=device.token_hash, device_id=device.id, reason=reason))


def rotate(session: Session, device_id: str, days: int) -> tuple[str, Device]:
    """A new token for a device whose current one still works; the old one answers
    `token_revoked` from now on."""
    device = session.get(Device, device_id)
    assert device is not None
    _retire(session, device, "rotated")
    token = new_token()
    device.token_hash = token_digest(token)
    device.token_expires_at = _now() + timedelta(days=days)
    session.add(device)
    audit.record(
        session,
        "auth.rotate",
        user_id=device.user_id,
        device_id=device.id,
        target_type="device",
        target_id=device.id,
    )
    return token, device


def log_out(session: Session, caller: Caller) -> None:
    """The phone's own logout: its token stops working at once."""
    device = session.get(Device, caller.device.id)
    assert device is not None
    revoke(session, device, caller.user.id)


def revoke(
    session: Session, device: Device, by_user_id: int | None = None, detail: dict | None = None
) -> None:
    """Logout or a supervisor's "this phone is lost": the token answers token_revoked.
    Who may revoke whose device is `device_admin.revoke`'s business."""
    device.revoked_at = _now()
    session.add(device)
    audit.record(
        session,
        "auth.revoke",
        user_id=by_user_id or device.user_id,
        device_id=device.id,
        target_type="device",
        target_id=device.id,
        detail=detail,
    )


def authenticate(session: Session, header: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer`` header, or Unauthorized with a code."""
    if not header or not header.lower().startswith("bearer "):
        raise unauthorized("token_invalid")
    digest = token_digest(header[7:].strip())
    device = session.exec(select(Device).where(Device.token_hash == digest)).first()
    if device is None:
        if session.get(RetiredToken, digest) is not None:
            raise unauthorized("token_revoked")
        raise unauthorized("token_invalid")
    if device.revoked_at is not None:
        raise unauthorized("token_revoked")
    expires = as_utc(device.token_expires_at)
    if expires is not None and expires < _now():
        raise unauthorized("token_expired")
    user = session.get(User, device.user_id)
    if user is None or not user.active:
        raise unauthorized("token_revoked")
    area = session.get(Area, user.area_id)
    assert area is not None
    return Caller(user, device, area)


def seen_is_stale(caller: Caller) -> bool:
    seen = as_utc(caller.device.last_seen_at)
    return seen is None or _now() - seen > SEEN_EVERY


def stamp_seen(session: Session, device_id: str) -> None:
    """Record that the device was seen. Call it in a write session of its own, never in the
    read session `authenticate` used: on SQLite (WAL) a read transaction that turns into a
    write fails at once with "database is locked" when another writer committed since it
    began, whatever the busy timeout (found by bench/soak.py: 21 such 503s in 30 min)."""
    device = session.get(Device, device_id)
    if device is not None:
        device.last_seen_at = _now()
        session.add(device)


def user_json(user: User, area: Area) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "area_code": area.code,
    }
