"""The demo is dated from the day it is built (issue 7: its 2020 follow-ups read 已逾期 six
years later). Whatever the day, it is a county in the middle of its assessment year: last
year's cycle complete, this year's main round a few weeks old, most follow-ups open and not
yet due, a few overdue, some fixed or closed, the assessment ahead; the report's visits keep
their villages, order and spacing."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlmodel import select

from server.db import session_scope
from server.domain.followups import state_on
from server.models import FollowUp, Inspection, ServicePoint
from server.services import followups
from server.services.demo import build_demo, demo_calendar, demo_data
from server.services.plans import BEIJING
from tests.demo_cycles import demo_cycle
from tests.logins import DEMO_PASSWORD, web_login

# a leap day, a new year's day (the cycles cross it), midsummer and a day in late autumn
DAYS = [date(2028, 2, 29), date(2027, 1, 1), date(2026, 7, 15), date(2031, 11, 4)]


def _report_days() -> list[date]:
    """The report's visit days, one per visited point, in the report's order."""
    visits = sorted(demo_data()["visits"], key=lambda v: v["date"])
    return [date.fromisoformat(v["date"]) for v in visits for _ in v["points"]]


@pytest.mark.parametrize("today", DAYS, ids=str)
def test_calendar_puts_today_mid_year_and_keeps_the_reports_spacing(today):
    previous, current = demo_calendar(demo_data(), today)
    assert previous.end + timedelta(days=1) == current.start
    assert current.start + timedelta(days=150) <= today <= current.end - timedelta(days=150)
    assert today < current.assessment <= current.end
    assert previous.assessment < today
    report = _report_days()
    for dc in (previous, current):
        moved = [d + dc.shift for d in report]
        assert dc.start <= min(moved) and max(moved) <= dc.end
        assert {d.weekday() for d in moved} == {d.weekday() for d in report}
    last = max(report) + current.shift
    assert 2 <= (today - last).days <= 8
    assert current.shift - previous.shift == timedelta(weeks=52)


@pytest.mark.parametrize("today", DAYS[:2], ids=str)
def test_demo_as_of_a_day(engine, settings, today):
    with session_scope(engine, write=True) as s:
        result = build_demo(s, settings.data_path, password=DEMO_PASSWORD, today=today)
    with session_scope(engine) as s:
        previous, current = demo_cycle(s, "previous"), demo_cycle(s, "current")
        assert result.cycles == {"previous": previous.id, "current": current.id}
        assert str(current.start_date.year) in current.name and "年度" in current.name
        states = {}
        for cycle in (previous, current):
            follows = s.exec(select(FollowUp).where(FollowUp.cycle_id == cycle.id)).all()
            states[cycle.id] = Counter(state_on(f.status, f.due_date, today) for f in follows)
            visits = s.exec(
                select(Inspection, ServicePoint)
                .join(ServicePoint)
                .where(Inspection.cycle_id == cycle.id)
                .order_by(Inspection.submitted_at)
            ).all()
            days = [i.submitted_at.astimezone(BEIJING).date() for i, _ in visits]
            assert cycle.start_date <= days[0] and days[-1] < today
            # the report's spacing: the same gaps between visit days
            report = _report_days()
            assert [(d - days[0]).days for d in days] == [(d - report[0]).days for d in report]
            hours = {i.submitted_at.astimezone(BEIJING).hour for i, _ in visits}
            assert hours <= set(range(9, 17)), "visits in Beijing office hours"
    # last year's cycle is complete: nothing of it waits, nothing of it is overdue
    assert set(states[previous.id]) == {"closed"}
    now = states[current.id]
    assert now["open"] > now["overdue"] > 0, now
    assert now["open"] > now["fixed"] + now["closed"], now
    assert now["fixed"] > 0 and now["closed"] > 0, now


def test_followups_page_shows_nothing_overdue_of_last_year(office, engine):
    """The office's list of overdue follow-ups holds this year's few, none of last year's."""
    page = office.get("/followups?status=overdue").text
    shown = {int(i) for i in re.findall(r'href="/followups/(\d+)"', page)}
    with session_scope(engine) as s:
        current = demo_cycle(s, "current")
        today = followups.today()
        overdue = {
            f.id
            for f in s.exec(select(FollowUp))
            if state_on(f.status, f.due_date, today) == "overdue"
        }
        cycles = {s.get(FollowUp, i).cycle_id for i in shown}
    assert shown and shown == overdue and cycles == {current.id}


def test_overview_shows_the_change_since_last_years_cycle(client, engine, demo):
    assert web_login(client).status_code == 303
    page = client.get("/?area=610424").text
    with session_scope(engine) as s:
        current = demo_cycle(s, "current")
    assert current.name in page
    assert f"天后考核（{current.assessment_date.isoformat()}）" in page


def test_followups_page_names_every_reason_of_the_demo(office, engine):
    """Each reason the demo's follow-ups carry reads as words (a template's own code, such
    as the phone rule's bad_phone, showed raw)."""
    with session_scope(engine) as s:
        codes = {f.reason_code for f in s.exec(select(FollowUp))}
    assert "bad_phone" in codes
    for lang in ("zh-CN", "en"):
        page = office.get("/followups", params={"lang": lang}).text
        for code in codes:
            assert f"<td>{code}</td>" not in page, (lang, code)
