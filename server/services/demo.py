"""The Qian County demo: areas, points, staff, templates, cycles and the 2020 inspections.

The villages and visit dates come from the county library's own 2020 report (section 7);
the answers are invented but shaped like real visits: most points pass, some fail an item or
two, and the November re-checks fix what October found.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlmodel import Session, select

from server.domain.templates import load_builtin_templates
from server.models import Area, Assignment, Blob, Cycle, Inspection, ServicePoint, User
from server.services.auth import hash_password, new_password
from server.services.blobstore import write_complete
from server.services.changes import stamp
from server.services.demo_answers import answers_for
from server.services.inspections import refresh_outcome
from server.services.summaries import refresh_points
from server.services.templates import load_template

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英卫东海燕志强丽娟红梅永刚春花小军淑芬德明玉兰"
STANDARD_HOURS = {
    d: [["09:00", "12:00"], ["14:30", "17:30"]] for d in ("tue", "wed", "thu", "fri", "sat")
}


@dataclass
class DemoResult:
    passwords: dict[str, str] = field(default_factory=dict)
    points: int = 0
    inspections: int = 0


def demo_data() -> dict:
    return json.loads(resources.files("server.demo").joinpath("qian_county.json").read_text())


def build_demo(session: Session, data_dir: Path, *, password: str | None = None) -> DemoResult:
    rng = random.Random(2020)
    data = demo_data()
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
    for cy in data["cycles"]:
        cycle = Cycle(
            name=cy["name"],
            year=cy["year"],
            start_date=date.fromisoformat(cy["start"]),
            end_date=date.fromisoformat(cy["end"]),
            county_id=county.id,
            current=cy["current"],
        )
        stamp(session, cycle)
        cycles[cy["year"]] = cycle
    session.flush()

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
    assignments = []
    township_ids = sorted({p.township_id for p in points.values()})
    for point in points.values():
        who = "inspector" if township_ids.index(point.township_id) % 2 == 0 else "inspector2"
        assignments.append(
            Assignment(
                cycle_id=cycles[2026].id,
                point_id=point.id,
                inspector_id=users[who].id,
                start_date=cycles[2026].start_date,
                due_date=date(2026, 12, 15),
            )
        )
    stamp(session, *assignments)

    photos, sizes = _demo_photos(session, data_dir)
    result.inspections = _inspections_2020(
        session, rng, data, points, versions, cycles[2020], users, photos, sizes
    )
    refresh_points(session, [p.id for p in points.values()])
    return result


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


def _inspections_2020(session, rng, data, points, versions, cycle, users, photos, sizes) -> int:
    inspector_ids = [users["inspector"].id, users["inspector2"].id]
    count = 0
    quality: dict[str, float] = {}
    for visit in sorted(data["visits_2020"], key=lambda v: v["date"]):
        day = date.fromisoformat(visit["date"])
        recheck = visit.get("kind") == "recheck"
        for n, name in enumerate(visit["points"]):
            point = points[name]
            if name not in quality:
                quality[name] = 0.55 + 0.45 * rng.random()
            # A re-check comes after the point fixed what the first visit found.
            q = 0.95 if recheck else quality[name]
            version = versions[point.kind]
            answers, item_photos = answers_for(version.content, q, rng, photos, sizes)
            at = datetime(day.year, day.month, day.day, 9 + n % 8, rng.randrange(60), tzinfo=UTC)
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
