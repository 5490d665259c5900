"""A second county beside the demo's 乾县: 礼泉县 (610425), in the same city (咸阳市), so
the tests see a county that is not Qian and a city with two counties."""

from __future__ import annotations

from sqlmodel import select

from server.db import session_scope
from server.models import Area, Cycle, ServicePoint, User
from server.services.auth import hash_password
from server.services.changes import stamp
from tests.conftest import DEMO_PASSWORD
from tests.demo_cycles import demo_cycle

LIQUAN = "610425"
TOWNSHIPS = [
    ("610425100", "城关镇", 34.482, 108.425, ["东关", "西关"]),
    ("610425101", "史德镇", 34.540, 108.380, ["史德", "南坊"]),
]
# username -> (role, area code)
STAFF = {
    "lq_supervisor": ("supervisor", LIQUAN),
    "lq_inspector": ("inspector", LIQUAN),
    "city_supervisor": ("supervisor", "610400"),
    "city_inspector": ("inspector", "610400"),
}


def add_liquan(engine) -> dict:
    """礼泉县 with two townships of three points each (a branch and two villages), its own
    current cycle (the dates and year of the demo's current one: a city sees both counties'
    year), and staff of the county and of the city. Needs the demo loaded."""
    with session_scope(engine, write=True) as s:
        city = s.exec(select(Area).where(Area.code == "610400")).one()
        county = Area(code=LIQUAN, name="礼泉县", level="county", parent_id=city.id)
        stamp(s, county)
        s.flush()
        points = []
        for code, name, lat, lon, villages in TOWNSHIPS:
            township = Area(
                code=code, name=name, level="township", parent_id=county.id, lat=lat, lon=lon
            )
            stamp(s, township)
            s.flush()
            points.append(
                ServicePoint(
                    code=f"{code}000",
                    name=f"{name}分馆",
                    kind="branch",
                    township_id=township.id,
                    lat=lat,
                    lon=lon,
                )
            )
            for n, village in enumerate(villages):
                points.append(
                    ServicePoint(
                        code=f"{code}{201 + n}",
                        name=f"{village}村服务点",
                        kind="village",
                        township_id=township.id,
                        lat=lat + 0.01 * (n + 1),
                        lon=lon - 0.01 * (n + 1),
                    )
                )
        stamp(s, *points)
        qian = demo_cycle(s, "current")
        cycle = Cycle(
            name=f"{qian.name}（礼泉）",
            year=qian.year,
            start_date=qian.start_date,
            end_date=qian.end_date,
            county_id=county.id,
            current=True,
        )
        stamp(s, cycle)
        areas = {a.code: a.id for a in s.exec(select(Area))}
        password = hash_password(DEMO_PASSWORD)
        for username, (role, area) in STAFF.items():
            s.add(
                User(
                    username=username,
                    display_name=username,
                    role=role,
                    area_id=areas[area],
                    password_hash=password,
                )
            )
        s.flush()
        return {
            "county_id": county.id,
            "cycle_id": cycle.id,
            "points": [p.code for p in points],
        }
