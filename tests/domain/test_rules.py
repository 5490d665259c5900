import json
import random
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.hours import DAYS, Schedules, weekly_totals
from server.domain.numbers import round2
from server.domain.rules import count_photos, evaluate, evaluate_item
from server.domain.templates import apply_params, load_builtin_templates, parse_template
from server.services.sync_checks import fit_problem

CASES = json.loads(
    (Path(__file__).resolve().parent.parent / "cases" / "rule_cases.json").read_text("utf-8")
)["cases"]
BUILTIN = load_builtin_templates()


def template_for(case):
    d = BUILTIN[case["template"]] if isinstance(case["template"], str) else case["template"]
    return parse_template(apply_params(d, case["params"]) if case.get("params") else d)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rule_case(case):
    result = evaluate(template_for(case), case["answers"], case["photos"])
    for key, want in case["expect"].get("items", {}).items():
        got = result["items"][key]
        assert {f: got[f] for f in want} == want, key
    for field, want in case["expect"].get("rating", {}).items():
        assert result["rating"][field] == want, field
    if "warnings" in case["expect"]:
        assert result["warnings"] == case["expect"]["warnings"]


def test_cases_cover_every_type_op_and_combinator():
    types, ops, heads = set(), set(), set()

    def walk(rule):
        for head in ("all", "any"):
            if head in rule:
                heads.add(head)
                for child in rule[head]:
                    walk(child)
        if "not" in rule:
            heads.add("not")
            walk(rule["not"])
        if "op" in rule:
            ops.add(rule["op"])

    for case in CASES:
        for item in template_for(case).items:
            types.add(item.type)
            if item.rule:
                walk(item.rule)
    assert types == {"number", "yesno", "choice", "multicheck", "weekly_hours", "text", "photo"}
    assert ops == {
        ">=", ">", "<=", "<", "==", "!=", "nonempty", "matches", "includes_all",
        "includes_any", "weekly_hours", "photos",
    }  # fmt: skip
    assert heads == {"all", "any", "not"}
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_evaluate_item_matches_evaluate(case):
    t = template_for(case)
    whole = evaluate(t, case["answers"], case["photos"])
    for item in t.items:
        assert (
            evaluate_item(t, item.key, case["answers"], case["photos"]) == whole["items"][item.key]
        )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_shared_schedules_give_the_same_verdict(case):
    """sync_prepare reads a schedule once for the checklist fit and the verdict alike."""
    t = template_for(case)
    answers = case["answers"] if isinstance(case["answers"], dict) else {}
    items = {i.key: i for i in t.items}
    schedules = Schedules()
    alone = fit_problem(items, {"answers": answers})
    assert fit_problem(items, {"answers": answers}, schedules) == alone
    shared = evaluate(t, case["answers"], case["photos"], schedules)
    assert json.dumps(shared) == json.dumps(evaluate(t, case["answers"], case["photos"]))


def test_schedules_work_a_schedule_out_once_by_identity():
    week = {"mon": [["09:00", "12:00"]]}
    schedules = Schedules()
    first = schedules.totals(week)
    assert schedules.totals(week) is first and first == weekly_totals(week)
    same_text = {"mon": [["09:00", "12:00"]]}
    assert schedules.totals(same_text) is not first and schedules.totals(same_text) == first


def test_weekly_totals_merge_like_a_sweep():
    """The two-range shortcut and the time table agree with merging sorted ranges."""
    rng = random.Random(12)

    def at(m):
        return f"{m // 60:02d}:{m % 60:02d}" if m < 1440 else "24:00"

    for _ in range(2000):
        spans = sorted(sorted(rng.sample(range(1441), 2)) for _ in range(rng.randint(0, 4)))
        minutes, reach = 0, -1
        for start, end in spans:
            if end > reach:
                minutes += end - max(start, reach)
                reach = end
        got = weekly_totals({"tue": [[at(a), at(b)] for a, b in reversed(spans)]})
        assert got["minutes"] == minutes and got["days"] == (minutes > 0)


def test_result_is_json_ready_and_in_template_order():
    t = template_for(CASES[0])
    result = evaluate(t, CASES[0]["answers"], CASES[0]["photos"])
    assert list(result["items"]) == [i.key for i in t.items]
    assert json.loads(json.dumps(result)) == result


def test_round2_rounds_half_up_like_javascript():
    assert round2(0.125) == 0.13  # Python's round() would give 0.12
    assert round2(19.5) == 19.5
    assert round2(20.0) == 20 and isinstance(round2(20.0), int)
    assert round2(2 / 3) == 0.67


def test_count_photos_ignores_junk():
    photos = [{"item": "a", "sha256": "x"}, {"item": "a", "sha256": "x"}, {"sha256": "y"}, "z"]
    assert count_photos(photos) == {"a": 1}
    assert count_photos(None) == {}


times = st.integers(0, 24 * 60).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
ranges = st.tuples(times, times).filter(lambda r: r[0] < r[1]).map(list)
weeks = st.dictionaries(st.sampled_from(DAYS), st.lists(ranges, max_size=5))


@given(weeks, st.randoms(use_true_random=False))
def test_weekly_total_is_order_independent_and_bounded(week, rnd):
    shuffled = {}
    for day in rnd.sample(list(week), len(week)):
        spans = list(week[day])
        rnd.shuffle(spans)
        shuffled[day] = spans
    a, b = weekly_totals(week), weekly_totals(shuffled)
    assert a == b
    assert a["invalid"] is None
    assert 0 <= a["hours"] <= 168 and a["days"] <= 7
    assert a["minutes"] <= sum(int(e[:2]) * 60 + int(e[3:]) for r in week.values() for _, e in r)


@given(weeks)
def test_repeating_ranges_adds_nothing(week):
    doubled = {d: r + r for d, r in week.items()}
    assert weekly_totals(doubled) == weekly_totals(week)


@given(st.text(alphabet=string.digits + ":", max_size=6))
def test_weekly_totals_never_raises(value):
    out = weekly_totals({"mon": [[value, "12:00"]]})
    assert out["invalid"] is None or out["invalid"]["code"] == "invalid_hours"
