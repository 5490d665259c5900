"""The review overview's tiles: what waits for a supervisor in their scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from server.services import conflict_review, device_admin, quarantine
from server.services.scope import Scope


@dataclass(frozen=True)
class ReviewCounts:
    open_conflicts: int
    quarantined: int
    devices: int
    active_devices: int


def review_counts(session: Session, scope: Scope) -> ReviewCounts:
    rows = device_admin.in_scope(session, scope)
    return ReviewCounts(
        open_conflicts=conflict_review.count(session, scope, "open"),
        quarantined=quarantine.count(session, scope),
        devices=len(rows),
        active_devices=sum(1 for r in rows if r.state == "active"),
    )
