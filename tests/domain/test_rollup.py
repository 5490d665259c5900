from datetime import UTC, datetime

from server.domain.rollup import InspectionRow, PointRow, rollup_cycle
from server.domain.rules import evaluate
from server.domain.templates import load_builtin_templates, parse_template

TOWN_A = ("610424112", "梁山镇")
TOWN_B = ("610424113", "周城镇")


def point(code, name, town=TOWN_A, *, kind="village", active=True):
    return PointRow(code, name, kind, town[0], town[1], active)


def result(rating, items=None, critical_failed=()):
    items = items or {"book_volumes": "pass", "seats": "pass"}
    return {
        "items": {
            k: {"status": s, "code": "ok" if s == "pass" else "below_min", "params": {}}
            for k, s in items.items()
        },
        "rating": {"code": rating, "critical_failed": list(critical_failed)},
    }


def insp(id_, code, when, res, *, status="submitted", version=1):
    return InspectionRow(id_, code, status, when, res, version)


POINTS = [
    point("610424112201", "梁山村"),
    point("610424112202", "官地村"),
    point("610424112203", "五星村"),
    point("610424113201", "董城村", TOWN_B),
    point("610424113202", "红旗村", TOWN_B, active=False),
]


def test_coverage_ratings_and_never_inspected():
    out = rollup_cycle(
        POINTS,
        [
            insp("a", "610424112201", "2024-10-15T09:00:00+08:00", result("good")),
            insp("b", "610424112202", "2024-10-15T11:00:00+08:00", result("basic")),
            insp("c", "610424113201", "2024-10-16T09:00:00+08:00", result("good")),
        ],
    )
    county = out["county"]
    assert county["active_points"] == 4
    assert county["inspected_points"] == 3
    assert county["coverage"] == 0.75
    assert county["ratings"] == {"good": 2, "basic": 1, "fail": 0, "incomplete": 0}
    assert county["never_inspected"] == [
        {"code": "610424112203", "name": "五星村", "township_code": "610424112"}
    ]
    a, b = out["townships"]
    assert (a["code"], a["name"], a["active_points"], a["coverage"]) == (*TOWN_A, 3, 0.6667)
    assert (b["code"], b["active_points"], b["inspected_points"], b["coverage"]) == (
        TOWN_B[0], 1, 1, 1.0,
    )  # fmt: skip
    assert [p["code"] for p in out["points"]] == [p.code for p in POINTS if p.active]


def test_latest_submitted_inspection_counts():
    code = "610424112201"
    out = rollup_cycle(
        POINTS[:1],
        [
            insp("1", code, "2024-10-15T09:00:00+08:00", result("fail", critical_failed=["x"])),
            insp("2", code, "2024-11-14T09:00:00+08:00", result("good")),  # re-inspection
            insp("3", code, "2024-12-01T09:00:00+08:00", None, status="draft"),  # ignored
        ],
    )
    assert out["county"]["ratings"] == {"good": 1, "basic": 0, "fail": 0, "incomplete": 0}
    assert out["county"]["critical_failures"] == []
    assert out["points"][0]["inspection_id"] == "2"


def test_time_ties_are_broken_by_id_and_zones_compared_as_instants():
    code = "610424112201"
    same = datetime(2024, 10, 15, 1, 0, tzinfo=UTC)
    out = rollup_cycle(
        POINTS[:1],
        [
            insp("b", code, same, result("basic")),
            insp("a", code, "2024-10-15T09:00:00+08:00", result("fail")),  # the same instant
            insp("0", code, "2024-10-15T00:59:59Z", result("good")),
        ],
    )
    assert out["points"][0]["inspection_id"] == "b"
    assert out["points"][0]["submitted_at"] == same.isoformat()


def test_draft_only_point_counts_as_never_inspected():
    out = rollup_cycle(
        POINTS[:1], [insp("d", "610424112201", None, result("good"), status="draft")]
    )
    assert out["county"]["inspected_points"] == 0
    assert out["county"]["coverage"] == 0.0
    assert len(out["county"]["never_inspected"]) == 1


def test_inactive_points_are_left_out_even_if_inspected():
    out = rollup_cycle(
        POINTS, [insp("x", "610424113202", "2024-10-15T09:00:00+08:00", result("fail"))]
    )
    assert out["county"]["active_points"] == 4
    assert out["county"]["ratings"]["fail"] == 0
    assert "610424113202" not in {p["code"] for p in out["county"]["never_inspected"]}
    assert "610424113202" not in {p["code"] for p in out["points"]}


def test_inspections_of_unknown_points_are_reported():
    out = rollup_cycle(POINTS, [insp("z", "999", "2024-10-15T09:00:00+08:00", result("good"))])
    assert out["unknown_point_inspections"] == ["z"]
    assert out["county"]["inspected_points"] == 0


def test_no_points():
    out = rollup_cycle([], [])
    assert out["county"]["coverage"] == 0.0
    assert out["townships"] == []


def test_item_pass_rates_skip_na_and_not_inspected():
    """An item left blank was not inspected: it neither passes nor fails in the pass rate."""
    pts = POINTS[:3]
    out = rollup_cycle(
        pts,
        [
            insp("1", pts[0].code, "2024-10-15T09:00:00", result("good", {"a": "pass", "b": "na"})),
            insp("2", pts[1].code, "2024-10-15T09:00:00", result("incomplete", {"a": "missing"})),
            insp(
                "3", pts[2].code, "2024-10-15T09:00:00", result("good", {"a": "fail", "b": "pass"})
            ),
        ],
    )
    items = out["county"]["items"]
    assert items["a"] == {"passed": 1, "counted": 2, "rate": 0.5}
    assert items["b"] == {"passed": 1, "counted": 1, "rate": 1.0}
    assert out["county"]["ratings"] == {"good": 2, "basic": 0, "fail": 0, "incomplete": 1}


def test_real_evaluations_with_missing_answers_and_a_version_change():
    """Two template versions in one cycle roll up by item key; critical failures name items."""
    v1 = load_builtin_templates()["village_point"]
    v2 = {**v1, "sections": [*v1["sections"]]}
    v2["sections"][0] = {
        **v1["sections"][0],
        "items": [i for i in v1["sections"][0]["items"] if i["key"] != "seats"],
    }
    t1, t2 = parse_template(v1), parse_template(v2)
    pts = POINTS[:3]
    good = {
        "reading_room": True, "book_volumes": 1800, "seats": 9, "free_service": True,
    }  # fmt: skip
    r1 = evaluate(t1, good, [{"sha256": "s", "item": "reading_room"}])
    r2 = evaluate(t2, {**good, "book_volumes": 1200}, [{"sha256": "s", "item": "reading_room"}])
    r3 = evaluate(t2, {}, [])  # nothing answered
    out = rollup_cycle(
        pts,
        [
            insp("1", pts[0].code, "2024-10-15T09:00:00", r1, version=1),
            insp("2", pts[1].code, "2024-10-20T09:00:00", r2, version=2),
            insp("3", pts[2].code, "2024-10-21T09:00:00", r3, version=2),
        ],
    )
    county = out["county"]
    assert county["template_versions"] == {"1": 1, "2": 2}
    assert county["items"]["seats"] == {"passed": 1, "counted": 1, "rate": 1.0}
    assert county["items"]["book_volumes"] == {"passed": 1, "counted": 2, "rate": 0.5}
    assert "loans_12m" not in county["items"]  # optional and never answered: na throughout
    failures = {(f["point_code"], f["item"], f["code"]) for f in county["critical_failures"]}
    assert (pts[1].code, "book_volumes", "below_min") in failures
    assert pts[2].code not in {f[0] for f in failures}  # nothing answered: nothing failed
    bv = next(f for f in county["critical_failures"] if f["point_code"] == pts[1].code
              and f["item"] == "book_volumes")  # fmt: skip
    assert bv["params"] == {"value": 1200, "min": 1500}
    # the first two leave a critical item blank (not inspected), the third answers nothing;
    # only the second one's 1200 books is a known critical failure
    assert county["ratings"] == {"good": 0, "basic": 0, "fail": 1, "incomplete": 2}
