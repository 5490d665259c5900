import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.rating import rate
from server.domain.templates import parse_template

ORDER = {"fail": 0, "incomplete": 1, "basic": 1, "good": 2}


def template(n_other, *, ratio=0.8, critical=1):
    items = [
        {"key": f"c{i}", "type": "yesno", "label": {"zh": "关", "en": "c"}, "required": True,
         "critical": True, "rule": {"op": "==", "value": True}}
        for i in range(critical)
    ] + [
        {"key": f"o{i}", "type": "yesno", "label": {"zh": "他", "en": "o"}, "required": False,
         "rule": {"op": "==", "value": True}}
        for i in range(n_other)
    ]  # fmt: skip
    return parse_template(
        {"key": "t", "applies_to": "village", "name": {"zh": "测", "en": "t"},
         "rating": {"good_ratio": ratio},
         "sections": [{"key": "s", "name": {"zh": "节", "en": "s"}, "items": items}]}
    )  # fmt: skip


def results(statuses):
    return {k: {"status": s, "code": "x", "params": {}} for k, s in statuses.items()}


@pytest.mark.parametrize(
    ("others", "code"),
    [
        (["pass"] * 4 + ["fail"], "good"),  # exactly 80%
        (["pass"] * 3 + ["fail"] * 2, "basic"),
        (["pass"] * 4 + ["na"], "good"),  # na left out
        (["pass"] * 3 + ["fail", "na"], "basic"),  # 75%
        (["pass"] * 4 + ["missing"], "incomplete"),  # not inspected: no verdict on the share
        (["pass"] * 3 + ["missing"] * 2, "incomplete"),
        (["na"] * 5, "good"),  # nothing counted among the others
    ],
)
def test_ratio_boundaries(others, code):
    statuses = {"c0": "pass", **{f"o{i}": s for i, s in enumerate(others)}}
    assert rate(template(5), results(statuses))["code"] == code


@pytest.mark.parametrize("critical", ["fail", "na"])
def test_any_critical_not_passing_fails(critical):
    statuses = {"c0": critical, **{f"o{i}": "pass" for i in range(5)}}
    out = rate(template(5), results(statuses))
    assert out["code"] == "fail"
    assert out["critical_failed"] == ["c0"]


def test_a_critical_item_left_blank_is_incomplete_not_fail():
    statuses = {"c0": "missing", **{f"o{i}": "pass" for i in range(5)}}
    out = rate(template(5), results(statuses))
    assert (out["code"], out["critical_failed"], out["not_inspected"]) == ("incomplete", [], ["c0"])


def test_a_critical_failure_decides_fail_even_with_items_left_blank():
    statuses = {"c0": "fail", "o0": "missing", **{f"o{i}": "pass" for i in range(1, 5)}}
    out = rate(template(5), results(statuses))
    assert (out["code"], out["critical_failed"], out["not_inspected"]) == ("fail", ["c0"], ["o0"])


def test_counts():
    statuses = {"c0": "pass", "o0": "pass", "o1": "fail", "o2": "na", "o3": "missing", "o4": "pass"}
    out = rate(template(5), results(statuses))
    assert out == {
        "code": "incomplete", "critical_failed": [], "not_inspected": ["o3"],
        "passed": 3, "scored": 5, "other_passed": 2, "other_scored": 4,
    }  # fmt: skip


def test_division_not_multiplication():
    statuses = {"c0": "pass", **{f"o{i}": "pass" if i < 7 else "fail" for i in range(10)}}
    assert rate(template(10, ratio=0.7), results(statuses))["code"] == "good"


statuses_st = st.lists(st.sampled_from(["pass", "fail", "missing", "na"]), min_size=1, max_size=12)


@settings(deadline=None)  # no timing assertion: a busy machine must not fail it
@given(statuses_st, st.sampled_from(["pass", "fail", "missing"]), st.data())
def test_rating_is_monotone(others, critical, data):
    """Turning a failing non-critical item into a pass never lowers the rating."""
    t = template(len(others))
    statuses = {"c0": critical, **{f"o{i}": s for i, s in enumerate(others)}}
    failing = [f"o{i}" for i, s in enumerate(others) if s == "fail"]
    if not failing:
        return
    key = data.draw(st.sampled_from(failing))
    before = rate(t, results(statuses))["code"]
    after = rate(t, results({**statuses, key: "pass"}))["code"]
    assert ORDER[after] >= ORDER[before]
    assert (before == "incomplete") == (critical != "fail" and "missing" in statuses.values())
