"""What the report tests share: a report built as the CLI and the download route build it,
the demo's cycles, and an inspection in a second county."""

from __future__ import annotations

from sqlmodel import select

from server.db import session_scope
from server.models import Area, Cycle, Inspection, ServicePoint, TemplateVersion, User
from server.reports import render
from server.services import reports
from server.services.changes import stamp
from server.services.inspections import refresh_outcome
from server.services.plans import today as beijing_today
from server.services.summaries import refresh_points
from tests.demo_cycles import after_the_demo, demo_cycle
from tests.server.counties import LIQUAN

TODAY = beijing_today()  # the demo is dated from the day it is built


def build(engine, settings, kind, fmt, *, cycle=None, area=None, lang="zh-CN"):
    with session_scope(engine) as s:
        a = reports.area_by_code(s, area) if area else None
        req = reports.Request(kind, fmt, cycle, a, lang, TODAY, settings.data_path)
        report = reports.build(s, req)
        return report, render(report, fmt)  # a CSV's rows are read as they are written


def qian_cycle(engine, role: str = "previous") -> int:
    """The demo's cycle: last year's (complete) unless asked for the current one."""
    with session_scope(engine) as s:
        return demo_cycle(s, role).id


def inspect_liquan(engine, point_code: str, volumes: int) -> None:
    """One submitted inspection of a 礼泉县 point (tests.server.counties.add_liquan)."""
    with session_scope(engine, write=True) as s:
        point = s.exec(select(ServicePoint).where(ServicePoint.code == point_code)).one()
        county = s.exec(select(Area).where(Area.code == LIQUAN)).one()
        cycle = s.exec(select(Cycle).where(Cycle.county_id == county.id)).one()
        key = "township_branch" if point.kind == "branch" else "village_point"
        version = next(
            v
            for v in s.exec(select(TemplateVersion).order_by(TemplateVersion.version.desc()))
            if v.content["key"] == key
        )
        user = s.exec(select(User).where(User.username == "lq_inspector")).one()
        insp = Inspection(
            id=f"lq-{point_code}",
            point_id=point.id,
            template_version_id=version.id,
            cycle_id=cycle.id,
            inspector_id=user.id,
            status="submitted",
            answers={"book_volumes": volumes, "reading_room": True},
            submitted_at=after_the_demo(),
        )
        stamp(s, insp)
        s.flush()
        refresh_outcome(s, insp)
        stamp(s, insp)
        refresh_points(s, {point.id})
