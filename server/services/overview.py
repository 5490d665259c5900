"""The director's overview of an area in a cycle, read from the summaries.

Why summaries: the page must answer in well under 100 ms for a province (20,000 points,
200,000 inspections). Every figure here comes from `area_summary` / `area_item_summary`
rows (kept in the writing transaction by services/summaries.py), from grouped counts over
indexed columns (active points per township, open follow-ups, plans), or from
`point_summary` grouped by inspector; no inspection row is read. Cities and provinces sum
their counties' rows here, as the summaries' design says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, distinct, func
from sqlmodel import Session, select

from server.db import chunked
from server.domain.followups import OPEN
from server.domain.summary import RATING_CODES
from server.models import (
    Area,
    AreaFollowUpSummary,
    AreaSummary,
    Assignment,
    Cycle,
    FollowUp,
    PointSummary,
    ServicePoint,
    User,
)
from server.services import cycle_choice
from server.services.area_tree import AreaTree, area_tree
from server.services.checklist_labels import Checklist
from server.services.cycle_choice import CycleChoice
from server.services.desk_cache import kept
from server.services.item_rates import ItemRate, item_rates, item_sums, templates_for

COUNTED = ("inspected", *RATING_CODES, "critical", "evidence_pending")
DEPTH = {"province": 0, "city": 1, "county": 2, "township": 3}


@dataclass
class Figures:
    """What one area counts for in one cycle."""

    points: int = 0  # active service points now
    inspected: int = 0
    good: int = 0
    basic: int = 0
    fail: int = 0
    incomplete: int = 0
    critical: int = 0  # points with a critical item not passed
    evidence_pending: int = 0
    followups_open: int = 0
    followups_overdue: int = 0
    has_data: bool = False

    @property
    def none(self) -> int:
        """Active points without an inspection in the cycle (未检查)."""
        return max(0, self.points - self.inspected)

    @property
    def coverage(self) -> float | None:
        return self.inspected / self.points if self.points else None

    @property
    def compliance(self) -> float | None:
        """达标率: inspected points rated 达标 or 基本达标 (every critical item passed)."""
        return (self.good + self.basic) / self.inspected if self.inspected else None

    def add(self, other: Figures) -> None:
        for name in (*COUNTED, "points", "followups_open", "followups_overdue"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.has_data = self.has_data or other.has_data


@dataclass
class Row:
    area: Area
    now: Figures
    before: Figures | None  # the previous cycle, when there is one
    cycle: Cycle | None = None  # a county row's own cycle (its assessment date)

    @property
    def change(self) -> float | None:
        """Change of the 达标率 since the previous cycle, in percentage points."""
        if self.before is None or self.now.compliance is None or self.before.compliance is None:
            return None
        return (self.now.compliance - self.before.compliance) * 100


@dataclass
class InspectorProgress:
    user: User
    planned: int = 0  # points planned for them in the cycle
    planned_done: int = 0  # of those, inspected by anyone
    inspected: int = 0  # points whose latest inspection is theirs


@dataclass
class Deadline:
    county: Area
    cycle: Cycle
    days_left: int | None  # None: no assessment date set


@dataclass
class Overview:
    area: Area
    choice: CycleChoice
    rows: list[Row]
    total: Row
    items: list[ItemRate]
    inspectors: list[InspectorProgress]
    deadlines: list[Deadline]
    templates: dict[str, Checklist] = field(default_factory=dict)

    @property
    def critical_items(self) -> list[ItemRate]:
        """Critical items not passed, most often first; one line per item key (a township
        branch and a village point share keys, and the list behind it covers both)."""
        merged: dict[str, ItemRate] = {}
        for i in self.items:
            if i.critical and i.failing:
                if i.item_key in merged:
                    m = merged[i.item_key]
                    m.passed, m.counted = m.passed + i.passed, m.counted + i.counted
                else:
                    merged[i.item_key] = ItemRate(**vars(i))
        return sorted(merged.values(), key=lambda i: (-i.failing, i.item_key))


@dataclass
class Table:
    """The figures of an area's rows (its children, or a township itself) and its total."""

    tree: AreaTree
    choice: CycleChoice
    figures: dict[int, Figures]  # every area of the tree, this cycle
    rows: list[Row]
    total: Row


def table(
    session: Session,
    area: Area,
    requested_cycle: str | None,
    today: date,
    *,
    with_previous: bool = True,
) -> Table:
    """The per-area figures of `area` (already checked to be in the viewer's scope), shared
    by the overview and the map's table."""
    tree = area_tree(session, area)
    choice = cycle_choice.choose(session, tree.counties(), requested_cycle)
    now = area_figures(session, tree, choice.ids, today)
    before = {}
    if with_previous and choice.previous:
        before = area_figures(session, tree, choice.previous_ids, None)
    rows = [_row(tree, choice, a, now, before) for a in tree.rows()]
    return Table(tree, choice, now, rows, _row(tree, choice, area, now, before))


def overview(session: Session, area: Area, requested_cycle: str | None, today: date) -> Overview:
    """Every figure of the overview of `area` (already checked to be in the viewer's scope).
    A city's or a province's is kept while the data stands still (services/desk_cache.py);
    a county's costs a few milliseconds and is built each time."""
    if area.level in ("county", "township"):
        return build_overview(session, area, requested_cycle, today)
    key = ("overview", area.id, requested_cycle or "", today)
    return kept(session, key, lambda: build_overview(session, area, requested_cycle, today))


def build_overview(
    session: Session, area: Area, requested_cycle: str | None, today: date
) -> Overview:
    """The overview's figures, read from the summaries."""
    t = table(session, area, requested_cycle, today)
    tree, choice = t.tree, t.choice
    sums = item_sums(session, tree, choice)
    templates = templates_for(session, tree, choice, {k[0] for k in sums})
    return Overview(
        area=area,
        choice=choice,
        rows=t.rows,
        total=t.total,
        items=item_rates(sums, templates),
        inspectors=_inspectors(session, tree, choice),
        deadlines=[
            Deadline(
                county,
                choice.by_county[county.id],
                (choice.by_county[county.id].assessment_date - today).days  # type: ignore[operator]
                if choice.by_county[county.id].assessment_date
                else None,
            )
            for county in tree.counties()
            if county.id in choice.by_county
        ],
        templates=templates,
    )


def _row(tree: AreaTree, choice: CycleChoice, area: Area, now: dict, before: dict) -> Row:
    county_id = tree.county_id_of(area) if area.level in ("county", "township") else None
    cycle = choice.by_county.get(county_id) if area.level == "county" and county_id else None
    prev = before.get(area.id) if before else None
    return Row(area, now.get(area.id, Figures()), prev if prev and prev.has_data else None, cycle)


def area_figures(
    session: Session, tree: AreaTree, cycle_ids: list[int], today: date | None
) -> dict[int, Figures]:
    """Figures of the areas of the tree for these cycles (one per county), summed upwards
    in one pass. With `today`, also the active points and the open and overdue follow-ups
    (current facts, not a past cycle's). Above a county the sums start at the counties
    (the page shows no township): townships have figures only on a county's or a
    township's page."""
    above = tree.root.level not in ("county", "township")
    leaves = tree.counties() if above else tree.townships()
    leaf_ids = [a.id for a in leaves if a.id is not None]
    counties = [c.id for c in tree.counties() if c.id is not None]
    own: dict[int, Figures] = {}  # the summary rows: the leaves' and counties' own
    if cycle_ids:
        cols = [getattr(AreaSummary, name) for name in COUNTED]
        for area_id, *values in session.exec(
            select(AreaSummary.area_id, *cols).where(  # type: ignore[call-overload]
                AreaSummary.cycle_id.in_(cycle_ids),  # type: ignore[attr-defined]
                AreaSummary.area_id.in_(sorted(set(counties + leaf_ids))),  # type: ignore[attr-defined]
            )
        ):
            own[area_id] = Figures(**dict(zip(COUNTED, values, strict=True)), has_data=True)
    facts: dict[int, Figures] = {}
    if today is not None and leaf_ids:
        facts = _points(session, leaf_ids, above)
        for area_id, (n, late) in _open_followups(session, tree, leaf_ids, above, today).items():
            f = facts.setdefault(area_id, Figures())
            f.followups_open, f.followups_overdue = n, late
    out: dict[int, Figures] = {}
    for leaf in leaf_ids:
        f = own.get(leaf) or Figures()
        fact = facts.get(leaf)
        if fact is not None:
            f.points, f.followups_open, f.followups_overdue = (
                fact.points,
                fact.followups_open,
                fact.followups_overdue,
            )
        out[leaf] = f  # type: ignore[index]
    # children before parents: a county (below a city), a city, the province; a county
    # page's county: ratings from its own row (its townships' rows sum to it), points and
    # follow-ups from its townships
    for area in sorted(tree.areas.values(), key=lambda a: DEPTH.get(a.level, 0), reverse=True):
        if area.id in out or DEPTH.get(area.level, 0) >= DEPTH["township"]:
            continue
        kids = [out[k.id] for k in tree.kids(area.id) if k.id in out]  # type: ignore[arg-type, index]
        if area.level == "county":
            f = Figures()
            f.add(own.get(area.id, Figures()))  # type: ignore[arg-type]
            for k in kids:
                f.points += k.points
                f.followups_open += k.followups_open
                f.followups_overdue += k.followups_overdue
        else:
            f = Figures()
            for k in kids:
                f.add(k)
        out[area.id] = f  # type: ignore[index]
    return out


def _points(session: Session, leaf_ids: list[int], above: bool) -> dict[int, Figures]:
    """Active points per township, or per county (`above`)."""
    out: dict[int, Figures] = {}
    if above:
        q = (
            select(Area.parent_id, func.count())
            .select_from(ServicePoint)
            .join(Area, Area.id == ServicePoint.township_id)  # type: ignore[arg-type]
            .where(ServicePoint.active, Area.parent_id.in_(leaf_ids))  # type: ignore[union-attr]
            .group_by(Area.parent_id)
        )
    else:
        q = (
            select(ServicePoint.township_id, func.count())
            .where(ServicePoint.active, ServicePoint.township_id.in_(leaf_ids))  # type: ignore[attr-defined]
            .group_by(ServicePoint.township_id)
        )
    for area_id, n in session.exec(q):  # type: ignore[call-overload]
        out.setdefault(area_id, Figures()).points = n
    return out


def _open_followups(
    session: Session, tree: AreaTree, leaf_ids: list[int], above: bool, today: date
) -> dict[int, tuple[int, int]]:
    """{area id: (open, overdue)} of the open follow-ups of the points in each township (or
    each county, `above`), whatever cycle opened them: the list behind the number
    (`/followups?status=open`) shows the same.

    Why from `area_follow_up_summary`: counting the follow-up rows of a province reads
    160,000 of them (60 ms). The summary holds the active points' follow-ups by cycle and
    due date (overdue = due before today, never stored); the few a summary does not count
    (of a closed point, or opened outside a cycle) are counted from the rows."""
    out: dict[int, tuple[int, int]] = {}
    t = AreaFollowUpSummary
    late = func.sum(case((t.due_date < today, t.count), else_=0))
    for area_id, n, overdue in session.exec(
        select(t.area_id, func.sum(t.count), late)  # type: ignore[call-overload]
        .where(t.area_id.in_(leaf_ids), t.status == OPEN)  # type: ignore[attr-defined]
        .group_by(t.area_id)
    ):
        out[area_id] = (int(n or 0), int(overdue or 0))
    wanted = set(leaf_ids)
    for town, county, due in _uncounted_followups(session):
        area = county if above else town
        if area in wanted:
            n, overdue = out.get(area, (0, 0))
            out[area] = (n + 1, overdue + (due < today))
    return out


def _uncounted_followups(session: Session) -> list[tuple[int, int, date]]:
    """(township, county, due date) of the open follow-ups the summaries leave out: those
    of closed points, and those opened outside a cycle. Both are few: the closed points are
    found by one pass over the points (no index tells them apart), their follow-ups by
    point."""
    closed = list(session.exec(select(ServicePoint.id).where(ServicePoint.active.is_(False))))  # type: ignore[attr-defined]
    f = FollowUp
    cols = (
        select(ServicePoint.township_id, Area.parent_id, f.due_date, f.status)  # type: ignore[call-overload]
        .select_from(f)
        .join(ServicePoint, ServicePoint.id == f.point_id)  # type: ignore[arg-type]
        .join(Area, Area.id == ServicePoint.township_id)  # type: ignore[arg-type]
    )
    # by the cycle index: a status filter here sends SQLite through every open row
    rows = list(session.exec(cols.where(f.cycle_id.is_(None))))  # type: ignore[union-attr]
    for part in chunked(closed):
        rows.extend(
            session.exec(
                cols.where(f.point_id.in_(part), f.cycle_id.is_not(None))  # type: ignore[attr-defined,union-attr]
            )
        )
    return [(town, county, due) for town, county, due, status in rows if status == OPEN]


def _inspectors(session: Session, tree: AreaTree, choice: CycleChoice) -> list[InspectorProgress]:
    if not choice.ids:
        return []
    township = tree.root.id if tree.root.level == "township" else None
    progress: dict[int, InspectorProgress] = {}
    nobody = User()  # stands in until the names are read (one User, not one per row)

    def slot(user_id: int) -> InspectorProgress:
        if user_id not in progress:
            progress[user_id] = InspectorProgress(nobody)
        return progress[user_id]

    q = select(PointSummary.inspector_id, func.count()).where(
        PointSummary.cycle_id.in_(choice.ids),  # type: ignore[attr-defined]
        PointSummary.counted,
    )
    if township is not None:
        q = q.where(PointSummary.township_id == township)
    for user_id, n in session.exec(q.group_by(PointSummary.inspector_id)):
        slot(user_id).inspected = n
    done = func.count(distinct(PointSummary.point_id))
    plans = (
        select(Assignment.inspector_id, func.count(distinct(Assignment.point_id)), done)
        .join(ServicePoint, ServicePoint.id == Assignment.point_id)  # type: ignore[arg-type]
        .outerjoin(
            PointSummary,
            (PointSummary.point_id == Assignment.point_id)  # type: ignore[arg-type]
            & (PointSummary.cycle_id == Assignment.cycle_id),
        )
        .where(
            Assignment.cycle_id.in_(choice.ids),  # type: ignore[attr-defined]
            Assignment.cancelled_at.is_(None),  # type: ignore[union-attr]
        )
    )
    if township is not None:
        plans = plans.where(ServicePoint.township_id == township)
    for user_id, planned, planned_done in session.exec(plans.group_by(Assignment.inspector_id)):
        slot(user_id).planned = planned
        slot(user_id).planned_done = planned_done
    if not progress:
        return []
    for user in session.exec(select(User).where(User.id.in_(list(progress)))):  # type: ignore[union-attr]
        progress[user.id].user = user  # type: ignore[index]
    return sorted(progress.values(), key=lambda p: (p.user.display_name, p.user.id or 0))
