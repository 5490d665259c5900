"""The merge rule, case by case, plus the properties that make it safe."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync.merge import merge, merge_photos, new_record, resolve
from sync.records import normalize
from tests.sync.factories import inspection, photo

T1 = "0001732600000001:0000:d-a"
T2 = "0001732600000002:0000:d-b"
T3 = "0001732600000003:0000:d-a"


def base_and_server(**server_answers):
    base = new_record(inspection("r", answers={"a": 1, "b": "x"}), T1)
    server = {**base.record, "answers": {**base.record["answers"], **server_answers}}
    clocks = dict(base.clocks)
    for k in server_answers:
        clocks[f"answers.{k}"] = T2
    return base.record, server, clocks


def test_disjoint_edits_merge_without_conflict():
    base, server, clocks = base_and_server(a=2)
    client = inspection("r", answers={"a": 1, "b": "y"})
    res = merge(base, server, clocks, client, T3)
    assert res.outcome == "applied"
    assert res.record["answers"] == {"a": 2, "b": "y"}
    assert res.clocks["answers.b"] == T3 and res.clocks["answers.a"] == T2


def test_untouched_field_does_not_revert_server_edit():
    base, server, clocks = base_and_server(a=2)
    client = inspection("r", answers={"a": 1, "b": "x"}, notes="hi")
    res = merge(base, server, clocks, client, T3)
    assert res.record["answers"]["a"] == 2 and res.record["notes"] == "hi"
    assert not res.conflicts


def test_both_changed_later_clock_wins_and_both_are_kept():
    base, server, clocks = base_and_server(a=2)
    client = inspection("r", answers={"a": 3, "b": "x"})
    later = merge(base, server, clocks, client, T3)
    assert later.outcome == "conflict" and later.record["answers"]["a"] == 3
    (c,) = later.conflicts
    assert (c.field, c.server_value, c.client_value, c.winner) == ("answers.a", 2, 3, "client")
    earlier = merge(base, server, clocks, client, T1)
    assert earlier.record["answers"]["a"] == 2
    assert earlier.conflicts[0].winner == "server"
    assert not earlier.changed


def test_removing_an_answer_is_an_edit():
    base, server, clocks = base_and_server()
    res = merge(base, server, clocks, inspection("r", answers={"a": 1}), T3)
    assert res.record["answers"] == {"a": 1}


def test_unknown_base_makes_every_difference_a_conflict():
    _, server, clocks = base_and_server()
    res = merge(None, server, clocks, inspection("r", answers={"a": 1, "b": "z"}), T3)
    assert [c.field for c in res.conflicts] == ["answers.b"]


def test_status_only_moves_forward_and_keeps_first_submission():
    base, server, clocks = base_and_server()
    sub = dict(status="submitted", submitted_at="2024-11-26T09:00:00+08:00")
    server = {**server, **sub}
    client = inspection("r", answers={"a": 1, "b": "x"})
    assert merge(base, server, clocks, client, T3).record["status"] == "submitted"
    later = inspection(
        "r",
        answers={"a": 1, "b": "x"},
        status="submitted",
        submitted_at="2024-11-26T10:00:00+08:00",
    )
    assert merge(base, server, clocks, later, T3).record["submitted_at"] == sub["submitted_at"]


def test_identity_change_is_rejected():
    base, server, clocks = base_and_server()
    res = merge(base, server, clocks, inspection("r", point_code="other"), T3)
    assert res.outcome == "rejected" and res.rejection.field == "point_code"


def test_photos_union_and_one_sided_removal():
    p1, p2, p3 = photo(b"1"), photo(b"2"), photo(b"3")
    assert merge_photos([p1], [p1, p2], [p1, p3]) == sorted(
        [p1, p2, p3], key=lambda p: (p["item"], p["sha256"])
    )
    assert merge_photos([p1, p2], [p2], [p1, p2]) == [p2]
    assert merge_photos(None, [p1], [p2]) == sorted([p1, p2], key=lambda p: p["sha256"])


def test_resolve_stamps_fields():
    _, server, clocks = base_and_server()
    merged, new_clocks = resolve(server, clocks, {"answers.a": 9, "answers.b": None}, T3)
    assert merged["answers"] == {"a": 9} and new_clocks["answers.a"] == T3


answers = st.dictionaries(st.sampled_from("abcd"), st.integers(0, 3), max_size=4)


@given(answers, answers, answers)
def test_merge_never_loses_an_edit(b, s, c):
    """Every field ends as the server's or the client's value; a field both sides changed
    differently is always reported; a field only one side changed always takes that value."""
    base = normalize(inspection("r", answers=b))
    server = normalize(inspection("r", answers=s))
    clocks = {f"answers.{k}": T2 for k in "abcd"}
    res = merge(base, server, clocks, inspection("r", answers=c), T3)
    reported = {x.field for x in res.conflicts}
    for k in "abcd":
        bv, sv, cv, mv = (d.get(k) for d in (b, s, c, res.record["answers"]))
        assert mv in (sv, cv)
        if sv != bv and cv != bv and sv != cv:
            assert f"answers.{k}" in reported
        elif cv != bv:
            assert mv == cv
        else:
            assert mv == sv
