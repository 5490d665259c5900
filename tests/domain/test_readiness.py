"""The readiness figure, scores and book needs, on plain values (no database)."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from server.domain.book_needs import needs, threshold
from server.domain.readiness import FollowUpState, PointState, assess
from server.domain.scores import score_point
from server.domain.templates import TemplateError, load_builtin_templates, parse_template
from server.reports.xlsx import display_width

TODAY = date(2026, 12, 1)


def point(code, rating, township="t1", **kw) -> PointState:
    return PointState(
        id=hash(code) % 1000,
        code=code,
        name=code,
        kind="village",
        township_code=township,
        township_name=township,
        rating=rating,
        **kw,
    )


def test_ready_needs_a_rating_evidence_and_no_overdue_fix():
    points = [
        point("good", "good"),
        point("basic", "basic"),
        point("fail", "fail", failed=({"item": "book_volumes", "status": "fail", "code": ""},)),
        point("incomplete", "incomplete"),
        point("never", None),
        point(
            "short",
            "good",
            failed=({"item": "signboard", "status": "fail", "code": "photos_short"},),
        ),
        point("uploading", "good", evidence_complete=False),
        point("overdue", "good", township="t2"),
        point("open_in_time", "basic", township="t2"),
    ]
    follows = [
        FollowUpState("overdue", "seats", "open", date(2026, 11, 30)),
        FollowUpState("open_in_time", "seats", "open", date(2026, 12, 1)),
        FollowUpState("good", "seats", "closed", date(2026, 1, 1)),
        # marked fixed by the township: waits for re-inspection, not overdue
        FollowUpState("basic", "seats", "fixed", date(2026, 11, 1)),
    ]
    r = assess(points, follows, today=TODAY, assessment_date=date(2026, 12, 20))
    ready = {p.point.code for p in r.points if p.ready}
    assert ready == {"good", "basic", "open_in_time"}
    assert r.total.points == 9 and r.total.ready == 3
    assert r.total.readiness == round(3 / 9, 4)
    assert r.total.coverage == round(8 / 9, 4)
    assert r.total.ratings == {"good": 4, "basic": 2, "fail": 1, "incomplete": 1}
    assert r.total.evidence_gaps == 2
    assert (r.total.open_follow_ups, r.total.overdue_follow_ups) == (3, 1)
    assert [p.point.code for p in r.failing] == ["fail"]
    assert [p.point.code for p in r.not_inspected] == ["never"]
    assert r.days_left == 19
    assert [t.code for t in r.townships] == ["t1", "t2"]
    assert r.townships[1].ready == 1


def test_no_points_no_division_by_zero():
    r = assess([], [], today=TODAY, assessment_date=None)
    assert r.total.readiness == 0.0 and r.days_left is None


VILLAGE = load_builtin_templates()["village_point"]


def test_shipped_tables_total_100():
    for d in load_builtin_templates().values():
        t = parse_template(d)
        assert sum(i.score.points for i in t.items if i.score) == 100


def test_scores_pass_earn_fail_deducts_na_left_out():
    t = parse_template(VILLAGE)
    statuses = {i.key: "p" for i in t.items if i.score}
    full = score_point(t, statuses)
    assert (full.earned, full.possible) == (100, 100)
    statuses["book_titles"] = "f"  # 6 points, deduct 3
    statuses["book_volumes"] = "m"  # 10 points, deduct 10
    del statuses["seats"]  # not applicable: 4 points out of both
    s = score_point(t, statuses)
    assert s.possible == 96
    assert s.earned == 96 - 3 - 10
    assert s.items["book_titles"] == 3 and s.items["book_volumes"] == 0
    assert sum(sec.possible for sec in s.sections) == 96


@pytest.mark.parametrize(
    "score, message",
    [
        ({"points": 5, "deduct": 6}, "must not exceed"),
        ({"points": -1}, "score must be"),
        ({"deduct": 1}, "score must be"),
        ({"points": 5, "extra": 1}, "score must be"),
        ("5", "score must be"),
    ],
)
def test_bad_scores_are_refused_naming_the_item(score, message):
    d = copy.deepcopy(VILLAGE)
    d["sections"][0]["items"][0]["score"] = score
    with pytest.raises(TemplateError) as exc:
        parse_template(d)
    assert any("item 'signboard'" in e and message in e for e in exc.value.errors)


def test_deduct_defaults_to_the_points():
    d = copy.deepcopy(VILLAGE)
    d["sections"][0]["items"][0]["score"] = {"points": 7}
    item = parse_template(d).item("signboard")
    assert item.score is not None and item.score.deduct == 7


def test_book_needs_read_the_county_threshold():
    d = copy.deepcopy(VILLAGE)
    d["params"]["book_volumes_min"] = 2000
    t = parse_template(d)
    assert threshold(t, "book_volumes") == 2000
    assert threshold(t, "signboard") is None and threshold(t, "nope") is None
    n = needs(t, {"book_volumes": 1500, "book_titles": 800, "periodicals": True})
    assert n["book_volumes"].shortfall == 500
    assert n["book_titles"].shortfall == 0
    assert n["periodicals"].have is None and n["periodicals"].shortfall is None


def test_cjk_counts_double_in_column_widths():
    assert display_width("乡镇") == 4
    assert display_width("A1") == 2
    assert display_width(None) == 0
