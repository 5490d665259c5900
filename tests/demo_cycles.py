"""The demo's two cycles by role. Their dates follow the day the demo was built
(services/demo.py, `demo_calendar`): last year's cycle is complete, this year's is in its
middle. Tests find them by role, never by year, so they hold on any day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from server.models import Area, Cycle

QIAN = "610424"
# for tests that read the demo's SQLite file directly (tests/e2e: the demo is Qian alone)
CYCLE_SQL = {
    "current": "SELECT id FROM cycle WHERE current = 1",
    "previous": "SELECT id FROM cycle WHERE current = 0 ORDER BY start_date DESC LIMIT 1",
}


def demo_cycle(session: Session, role: str) -> Cycle:
    """The demo county's "current" cycle, or the "previous" one (the latest before it)."""
    county = session.exec(select(Area).where(Area.code == QIAN)).one()
    cycles = session.exec(select(Cycle).where(Cycle.county_id == county.id)).all()
    current = next(c for c in cycles if c.current)
    if role == "current":
        return current
    assert role == "previous", role
    return max((c for c in cycles if c.start_date < current.start_date), key=lambda c: c.start_date)


def after_the_demo(hours: float = 0) -> datetime:
    """A time after every inspection of the demo (its last visit is at least two days old)
    and before now: a test's own inspection is then its point's latest."""
    return datetime.now(UTC) - timedelta(days=1) + timedelta(hours=hours)
