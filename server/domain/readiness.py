"""How ready an area is for the year-end assessment (公共文化服务目标责任考核): one figure
and the parts it is made of (docs/readiness.md).

The figure is the share of active points that would stand up to the assessors today: the
latest inspection rated 达标 or 基本达标, its evidence complete (every required photo taken
and uploaded) and no follow-up (限期整改) past its due date. Each part is also shown on its
own, so a director sees *why* a township is at 60%, not only that it is.

Pure: the service (services/readiness.py) reads the rows; this module only counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server.domain.followups import CLOSED, OVERDUE, state_on

RATINGS = ("good", "basic", "fail", "incomplete")
READY_RATINGS = frozenset({"good", "basic"})
DONE_FOLLOW_UPS = frozenset({CLOSED})
# An item whose required photos were not taken fails with this code (rules.py).
PHOTOS_SHORT = "photos_short"


@dataclass(frozen=True)
class PointState:
    """A point of the register and its latest submitted inspection in the cycle (if any)."""

    id: int
    code: str
    name: str
    kind: str
    township_code: str
    township_name: str
    county_code: str = ""
    rating: str | None = None  # None: not inspected in the cycle
    inspection_id: str | None = None
    submitted_at: Any = None
    evidence_complete: bool = True
    # [{"item", "status" (fail|missing), "code", "params"}] as PointSummary keeps them
    failed: tuple[dict[str, Any], ...] = ()
    critical_failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUpState:
    point_code: str
    item_key: str
    status: str
    due_date: date
    opened_at: Any = None


@dataclass
class AreaReadiness:
    """The readiness figure of a township or a whole area, and its parts."""

    code: str
    name: str
    points: int = 0
    inspected: int = 0
    ready: int = 0
    ratings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    evidence_gaps: int = 0  # points with a required photo missing or not yet uploaded
    open_follow_ups: int = 0
    overdue_follow_ups: int = 0

    @property
    def not_inspected(self) -> int:
        return self.points - self.inspected

    @property
    def coverage(self) -> float:
        return round(self.inspected / self.points, 4) if self.points else 0.0

    @property
    def readiness(self) -> float:
        return round(self.ready / self.points, 4) if self.points else 0.0

    def add(self, other: AreaReadiness) -> None:
        for name in ("points", "inspected", "ready", "evidence_gaps"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.open_follow_ups += other.open_follow_ups
        self.overdue_follow_ups += other.overdue_follow_ups
        for k, v in other.ratings.items():
            self.ratings[k] += v


@dataclass
class PointReadiness:
    point: PointState
    ready: bool
    photos_short: tuple[str, ...]  # items whose required photos were not taken
    awaiting_upload: bool  # photos taken but not all on the server yet
    open_follow_ups: int
    overdue_follow_ups: int

    @property
    def evidence_gap(self) -> bool:
        return bool(self.photos_short) or self.awaiting_upload


@dataclass
class Readiness:
    today: date
    assessment_date: date | None
    total: AreaReadiness
    townships: list[AreaReadiness]
    points: list[PointReadiness]

    @property
    def days_left(self) -> int | None:
        """Days from today to the assessment (negative once it has passed)."""
        return None if self.assessment_date is None else (self.assessment_date - self.today).days

    @property
    def failing(self) -> list[PointReadiness]:
        """不达标 points, with their failed items."""
        return [p for p in self.points if p.point.rating == "fail"]

    @property
    def not_inspected(self) -> list[PointReadiness]:
        return [p for p in self.points if p.point.rating is None]

    @property
    def evidence_gaps(self) -> list[PointReadiness]:
        return [p for p in self.points if p.point.rating is not None and p.evidence_gap]


def is_overdue(f: FollowUpState, today: date) -> bool:
    """The follow-up lists' own rule (domain/followups.state_on): open past its due date; a
    follow-up marked fixed waits for the county's re-inspection and is not overdue."""
    return state_on(f.status, f.due_date, today) == OVERDUE


def assess(
    points: Iterable[PointState],
    follow_ups: Iterable[FollowUpState],
    *,
    today: date,
    assessment_date: date | None,
    total_code: str = "",
    total_name: str = "",
) -> Readiness:
    """Readiness of the given (active) points, per township (by code) and in total."""
    open_by: dict[str, int] = {}
    overdue_by: dict[str, int] = {}
    for f in follow_ups:
        if f.status in DONE_FOLLOW_UPS:
            continue
        open_by[f.point_code] = open_by.get(f.point_code, 0) + 1
        if is_overdue(f, today):
            overdue_by[f.point_code] = overdue_by.get(f.point_code, 0) + 1
    townships: dict[str, AreaReadiness] = {}
    rows = []
    for p in sorted(points, key=lambda p: (p.township_code, p.code)):
        short = tuple(f["item"] for f in p.failed if f.get("code") == PHOTOS_SHORT)
        inspected = p.rating is not None
        awaiting = inspected and not p.evidence_complete
        overdue = overdue_by.get(p.code, 0)
        ready = p.rating in READY_RATINGS and not short and not awaiting and not overdue
        row = PointReadiness(p, ready, short, awaiting, open_by.get(p.code, 0), overdue)
        rows.append(row)
        t = townships.setdefault(p.township_code, AreaReadiness(p.township_code, p.township_name))
        t.points += 1
        t.inspected += inspected
        t.ready += ready
        if p.rating is not None:
            t.ratings[p.rating] += 1
        t.evidence_gaps += row.evidence_gap
        t.open_follow_ups += row.open_follow_ups
        t.overdue_follow_ups += overdue
    total = AreaReadiness(total_code, total_name)
    for t in townships.values():
        total.add(t)
    return Readiness(
        today=today,
        assessment_date=assessment_date,
        total=total,
        townships=[townships[k] for k in sorted(townships)],
        points=rows,
    )
