"""Writing the audit log: who did what to which record, in the same transaction as the deed."""

from __future__ import annotations

from sqlmodel import Session

from server.models import AuditLog


def record(
    session: Session,
    action: str,
    *,
    user_id: int | None = None,
    device_id: str | None = None,
    target_type: str = "",
    target_id: str | int = "",
    detail: dict | None = None,
    area_id: int | None = None,
) -> None:
    """Add one entry. Actions are dotted verbs such as `auth.login`, `points.import`;
    `area_id` is the area the change concerns (for the audit page's scope and filter)."""
    session.add(
        AuditLog(
            action=action,
            user_id=user_id,
            device_id=device_id,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail,
            area_id=area_id,
        )
    )
