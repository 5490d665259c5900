"""Devices as a supervisor manages them: which phones they see, and signing one out.

One rule for the JSON API (`/api/devices`) and the devices page: a person sees, and may
revoke, their own devices; a supervisor or admin also those of every user in their scope.
A device outside that is "not found" (its existence is not told). Revoking writes one audit
entry (`auth.revoke`, by whom and whose phone), however it was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from server.clock import as_utc
from server.domain.user_agent import DeviceLabel, describe, looks_like_user_agent
from server.errors import NotFound
from server.models import Device, User
from server.services import devices
from server.services.scope import Scope


@dataclass(frozen=True)
class DeviceRow:
    """A device, its user, and its token's state: active, expired, revoked or none (never
    logged in); `state_at` is when it expires or expired, or when it was revoked."""

    device: Device
    user: User
    state: str
    state_at: datetime | None

    @property
    def label(self) -> DeviceLabel:
        """Model and browser, from what the phone said at login (older field apps sent
        their user agent as the name)."""
        d = self.device
        agent = d.user_agent or (d.name if looks_like_user_agent(d.name) else "")
        return describe(agent, d.model)

    @property
    def given_name(self) -> str:
        """The name the inspector gave the phone, if any."""
        return "" if looks_like_user_agent(self.device.name) else self.device.name


def token_state(d: Device, now: datetime | None = None) -> tuple[str, datetime | None]:
    if d.revoked_at is not None:
        return "revoked", d.revoked_at
    if not d.token_hash:
        return "none", None
    expires = as_utc(d.token_expires_at)
    if expires is not None and expires < (now or datetime.now(UTC)):
        return "expired", expires
    return "active", expires


def _row(d: Device, u: User) -> DeviceRow:
    return DeviceRow(d, u, *token_state(d))


def _visible(scope: Scope):
    q = select(Device, User).join(User, User.id == Device.user_id)  # type: ignore[arg-type]
    if scope.supervises:
        return q.where(scope.users_here())
    return q.where(User.id == scope.user_id)


def in_scope(session: Session, scope: Scope) -> list[DeviceRow]:
    """The devices this person may see, most recently seen first."""
    q = _visible(scope).order_by(
        Device.last_seen_at.desc().nulls_last(),  # type: ignore[union-attr]
        Device.id,
    )
    return [_row(d, u) for d, u in session.exec(q).all()]


def one(session: Session, scope: Scope, device_id: str) -> DeviceRow:
    row = session.exec(_visible(scope).where(Device.id == device_id)).first()
    if row is None:
        raise NotFound("error.device_not_found")
    return _row(*row)


def revoke(session: Session, scope: Scope, device_id: str, via: str) -> tuple[DeviceRow, bool]:
    """Sign a device out (a lost phone); (the device, whether this call revoked it). Revoking
    a revoked device changes nothing and writes nothing."""
    row = one(session, scope, device_id)
    if row.device.revoked_at is not None:
        return row, False
    devices.revoke(
        session, row.device, scope.user_id, detail={"owner": row.user.username, "via": via}
    )
    return _row(row.device, row.user), True
