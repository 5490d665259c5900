"""The Qian County demo: areas, points, staff, templates, two cycles and their inspections.

The villages and the visits come from the county library's own 2020 report (section 7); the
answers are invented but shaped like real visits: most points pass, some fail an item or
two, and the re-checks fix what the main round found. The dates are not the report's: a
demo dated 2020 showed six-year-old follow-ups as overdue. The build dates both cycles from
the day it runs (`demo_calendar`), so the demo is always a county in the middle of its
assessment year: last year's cycle complete, this year's main round a few weeks old, most
follow-ups open and not yet due, a few overdue, some fixed or closed, the assessment ahead.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path

from sqlmodel import Session, select

from server.domain import followups as follow_rule
from server.domain.templates import load_builtin_templates
from server.models import (
    Area,
    Assignment,
    Blob,
    Cycle,
    FollowUp,
    Inspection,
    ServicePoint,
    User,
)
from server.services.auth import hash_password, new_password
from server.services.blobstore import write_complete
from server.services.changes import stamp
from server.services.demo_answers import answers_for
from server.services.inspections import refresh_outcome
from server.services.plans import BEIJING
from server.services.plans import today as beijing_today
from server.services.summaries import refresh_points
from server.services.templates import load_template

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英卫东海燕志强丽娟红梅永刚春花小军淑芬德明玉兰"
STANDARD_HOURS = {
    d: [["09:00", "12:00"], ["14:30", "17:30"]] for d in ("tue", "wed", "thu", "fri", "sat")
}
SEED = 2020  # of the invented answers, names and places (not a year): every build alike
# The calendar (demo_calendar): this cycle began this many months before today's month...
MONTHS_BEFORE = 6
# ...its last visit was at least this many days before today (a follow-up is due 30 days
# after its visit: the main round's are not yet due, the early guidance visit's are)...
LAST_VISIT_DAYS_AGO = 2
ASSESSMENT_DAYS_BEFORE_END = 14  # ...and the assessors come two weeks before a cycle ends
PLAN_DAYS_BEFORE_ASSESSMENT = 30  # the inspectors' plans are due a month before that
# Last year's cycle is complete: what its re-checks left open the supervisor closed on
# photos this many days after its last visit. This year, a share of the open follow-ups
# is reported fixed by the township, a few days after the visit.
CLOSED_DAYS_AFTER = 21
FIXED_SHARE = 0.25
BETTER = 0.08  # this year's points do a little better (the overview's change has a sign)


@dataclass(frozen=True)
class DemoCycle:
    """One of the demo's cycles, and how far its visits move from the report's dates."""

    role: str  # "previous" | "current"
    start: date
    end: date
    assessment: date
    shift: timedelta  # added to each visit's date in the report

    def name(self, template: str) -> str:
        years = str(self.start.year)
        if self.end.year != self.start.year:
            years += f"—{self.end.year}"
        return template.format(years=years)


@dataclass
class DemoResult:
    passwords: dict[str, str] = field(default_factory=dict)
    points: int = 0
    inspections: int = 0
    cycles: dict[str, int] = field(default_factory=dict)  # cycle id by role


def demo_data() -> dict:
    return json.loads(resources.files("server.demo").joinpath("qian_county.json").read_text())


def _months_later(first: date, months: int) -> date:
    n = first.year * 12 + first.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


def demo_calendar(data: dict, today: date) -> tuple[DemoCycle, DemoCycle]:
    """The previous and the current cycle, 12 months each, dated from `today`. The report's
    visits move by whole weeks, so they keep their order, spacing and weekdays: this cycle's
    last visit falls 2 to 8 days before today, last cycle's 52 weeks earlier."""
    days = [date.fromisoformat(v["date"]) for v in data["visits"]]
    weeks = (today - timedelta(days=LAST_VISIT_DAYS_AGO) - max(days)).days // 7
    shift = timedelta(weeks=weeks)
    start = _months_later(today.replace(day=1), -MONTHS_BEFORE)
    start = min(start, (min(days) + shift).replace(day=1))  # a longer round starts earlier

    def cycle(role: str, begin: date, moved: timedelta) -> DemoCycle:
        end = _months_later(begin, 12) - timedelta(days=1)
        assessment = end - timedelta(days=ASSESSMENT_DAYS_BEFORE_END)
        return DemoCycle(role, begin, end, assessment, moved)

    previous = cycle("previous", _months_later(start, -12), shift - timedelta(weeks=52))
    return previous, cycle("current", start, shift)


def build_demo(
    session: Session,
    data_dir: Path,
    *,
    password: str | None = None,
    today: date | None = None,
) -> DemoResult:
    """The demo as of `today` (a Beijing date; default: the real one)."""
    rng = random.Random(SEED)
    data = demo_data()
    today = today or beijing_today()
    calendar = demo_calendar(data, today)
    result = DemoResult()
    province = _area(session, data["province"], "province", None)
    city = _area(session, data["city"], "city", province)
    county = _area(session, data["county"], "county", city)

    points: dict[str, ServicePoint] = {}
    for t in data["townships"]:
        township = _area(session, t, "township", county)
        branch_name = f"{t['name']}分馆"
        points[branch_name] = _point(rng, t, township, f"{t['code']}000", branch_name, "branch")
        for n, village in enumerate(t["villages"]):
            kind = "branch" if village in t.get("branch_villages", []) else "village"
            name = f"{village}村分馆" if kind == "branch" else f"{village}村服务点"
            points[village] = _point(rng, t, township, f"{t['code']}{201 + n}", name, kind)
    stamp(session, *points.values())
    session.flush()
    result.points = len(points)

    versions = {}
    for _key, content in sorted(load_builtin_templates().items()):
        versions[content["applies_to"]], _ = load_template(session, content, note="built-in")

    cycles = {}
    for dc in calendar:
        cycle = Cycle(
            name=dc.name(data["cycle_name"]),
            year=dc.start.year,  # as `xunjian cycle add` sets it
            start_date=dc.start,
            end_date=dc.end,
            assessment_date=dc.assessment,
            county_id=county.id,
            current=dc.role == "current",
        )
        stamp(session, cycle)
        cycles[dc.role] = cycle
    session.flush()
    result.cycles = {role: c.id for role, c in cycles.items() if c.id is not None}

    users = {}
    areas = {a.code: a for a in session.exec(select(Area))}
    # argon2 is slow by design; one shared password (tests) needs hashing only once.
    shared_hash = hash_password(password) if password else None
    for s in data["staff"]:
        pw = password or new_password()
        user = User(
            username=s["username"],
            display_name=s["display_name"],
            role=s["role"],
            area_id=areas[s["area"]].id,
            password_hash=shared_hash or hash_password(pw),
        )
        session.add(user)
        users[s["username"]] = user
        result.passwords[s["username"]] = pw
    session.flush()

    # Current cycle: the two inspectors split the townships between them.
    current = cycles["current"]
    assert current.assessment_date is not None
    assignments = []
    township_ids = sorted({p.township_id for p in points.values()})
    for point in points.values():
        who = "inspector" if township_ids.index(point.township_id) % 2 == 0 else "inspector2"
        assignments.append(
            Assignment(
                cycle_id=current.id,
                point_id=point.id,
                inspector_id=users[who].id,
                start_date=current.start_date,
                due_date=current.assessment_date - timedelta(days=PLAN_DAYS_BEFORE_ASSESSMENT),
            )
        )
    stamp(session, *assignments)

    photos, sizes = _demo_photos(session, data_dir)
    quality: dict[str, float] = {}
    last_visit = max(date.fromisoformat(v["date"]) for v in data["visits"])
    for dc in calendar:
        cycle = cycles[dc.role]
        result.inspections += _visits(
            session, rng, data, points, versions, cycle, dc, users, (photos, sizes), quality
        )
        if dc.role == "previous":  # closed before this year's visits look for open ones
            when = _at(last_visit + dc.shift + timedelta(days=CLOSED_DAYS_AFTER), 10, 0)
            pool = [sha for shas in photos.values() for sha in shas]
            _close_the_rest(session, cycle, users["supervisor"], when, pool, rng)
    _some_fixed(session, rng, current, today)
    refresh_points(session, [p.id for p in points.values()])
    return result


def _at(day: date, hour: int, minute: int) -> datetime:
    """A Beijing time of day, stored in UTC."""
    return datetime.combine(day, time(hour, minute), BEIJING).astimezone(UTC)


def _pending(session: Session, cycle: Cycle) -> list[FollowUp]:
    return list(
        session.exec(
            select(FollowUp)
            .where(
                FollowUp.cycle_id == cycle.id,
                FollowUp.status.in_(sorted(follow_rule.PENDING)),  # type: ignore[attr-defined]
            )
            .order_by(FollowUp.id)  # type: ignore[arg-type]
        )
    )


def _close_the_rest(session, cycle, supervisor, when, pool, rng) -> None:
    """Last year's cycle is over: nothing of it may still be waiting, let alone overdue."""
    for f in _pending(session, cycle):
        f.status, f.closed_at, f.closed_user_id = follow_rule.CLOSED, when, supervisor.id
        f.evidence = [rng.choice(pool)]
        f.note = "年终核查：整改照片已核实"
        stamp(session, f)


def _some_fixed(session, rng, cycle, today) -> None:
    """A share of this year's open follow-ups, not yet due, the township reported fixed a
    few days after the visit; they wait for the re-inspection."""
    latest = _at(today - timedelta(days=1), 11, 0)
    for f in _pending(session, cycle):
        if f.due_date >= today and rng.random() < FIXED_SHARE:
            f.status, f.note = follow_rule.FIXED, "已整改，待复查"
            f.fixed_at = min(latest, f.opened_at + timedelta(days=rng.randrange(2, 7)))
            stamp(session, f)


def _area(session: Session, spec: dict, level: str, parent: Area | None) -> Area:
    area = Area(
        code=spec["code"],
        name=spec["name"],
        level=level,
        parent_id=parent.id if parent else None,
        lat=spec.get("lat"),
        lon=spec.get("lon"),
    )
    stamp(session, area)
    session.flush()
    return area


def _point(rng, t, township, code, name, kind) -> ServicePoint:
    lat = min(34.72, max(34.40, t["lat"] + rng.uniform(-0.03, 0.03)))
    lon = min(108.45, max(108.05, t["lon"] + rng.uniform(-0.03, 0.03)))
    manager = rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])
    return ServicePoint(
        code=code,
        name=name,
        kind=kind,
        township_id=township.id,
        lat=round(lat, 5),
        lon=round(lon, 5),
        coords_approx=True,
        manager_name=manager,
        manager_phone="1"
        + rng.choice("3589")
        + "".join(rng.choice("0123456789") for _ in range(9)),
        opening_hours=STANDARD_HOURS,
    )


def _demo_photos(session: Session, data_dir: Path) -> tuple[dict[str, list[str]], dict[str, int]]:
    """The demo's photos, stored as complete blobs, by kind, and their sizes by hash. Each
    kind gets a few variants whose bytes differ by a JPEG comment, so every photo has its
    own hash."""
    out: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    folder = resources.files("server.demo").joinpath("photos")
    for entry in folder.iterdir():
        if not entry.name.endswith(".jpg"):
            continue
        raw = entry.read_bytes()
        variants = []
        for i in range(6):
            comment = f"xunjian demo {entry.name} {i}".encode()
            seg = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
            data = raw[:2] + seg + raw[2:]
            sha = write_complete(data_dir, data)
            if session.get(Blob, sha) is None:
                now = datetime.now(UTC)
                session.add(
                    Blob(
                        sha256=sha,
                        size=len(data),
                        received=len(data),
                        complete=True,
                        completed_at=now,
                    )
                )
            variants.append(sha)
            sizes[sha] = len(data)
        out[entry.name.removesuffix(".jpg")] = variants
    return out, sizes


def _visits(session, rng, data, points, versions, cycle, dc, users, blobs, quality) -> int:
    """The report's visits, in its order, moved to this cycle's dates."""
    inspector_ids = [users["inspector"].id, users["inspector2"].id]
    photos, sizes = blobs
    count = 0
    better = BETTER if dc.role == "current" else 0.0
    for visit in sorted(data["visits"], key=lambda v: v["date"]):
        day = date.fromisoformat(visit["date"]) + dc.shift
        recheck = visit.get("kind") == "recheck"
        for n, name in enumerate(visit["points"]):
            point = points[name]
            if name not in quality:
                quality[name] = 0.55 + 0.45 * rng.random()
            # A re-check comes after the point fixed what the first visit found.
            q = 0.95 if recheck else min(1.0, quality[name] + better)
            version = versions[point.kind]
            answers, item_photos = answers_for(version.content, q, rng, photos, sizes)
            at = _at(day, 9 + n % 8, rng.randrange(60))
            insp = Inspection(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                point_id=point.id,
                template_version_id=version.id,
                cycle_id=cycle.id,
                inspector_id=inspector_ids[count % 2],
                device_id="demo-device",
                status="submitted",
                answers=answers,
                photos=item_photos,
                gps={
                    "lat": point.lat,
                    "lon": point.lon,
                    "accuracy": round(rng.uniform(5, 30), 1),
                    "at": at.isoformat(),
                },
                notes="复查：已整改" if recheck else "",
                started_at=at - timedelta(minutes=rng.randrange(20, 50)),
                submitted_at=at,
                created_at=at,
                updated_at=at,
            )
            session.add(insp)
            session.flush()
            refresh_outcome(session, insp)
            stamp(session, insp)
            session.flush()
            count += 1
    return count
