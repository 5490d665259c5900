"""The clock never runs backwards, jumps past what it sees, and sorts as text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import hlc


def fixed(values):
    it = iter(values)
    return lambda: next(it)


def test_now_is_monotone_when_wall_clock_goes_back():
    c = hlc.Clock("d-1", wall=fixed([1000, 900, 900, 1001]))
    a, b, d, e = c.now(), c.now(), c.now(), c.now()
    assert a < b < d < e
    assert (b.physical_ms, b.counter) == (1000, 1)
    assert (e.physical_ms, e.counter) == (1001, 0)


def test_observe_jumps_past_remote():
    c = hlc.Clock("d-1", wall=fixed([10, 10, 10]))
    remote = hlc.Timestamp(5000, 7, "d-2")
    seen = c.observe(remote)
    assert seen > remote
    assert c.now() > seen


def test_counter_overflow_borrows_a_millisecond():
    c = hlc.Clock("n", last=hlc.Timestamp(50, 9999, "n"), wall=fixed([10]))
    t = c.now()
    assert (t.physical_ms, t.counter) == (51, 0)


@given(
    st.tuples(
        st.integers(0, 10**15),
        st.integers(0, 9999),
        st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True),
    ),
    st.tuples(
        st.integers(0, 10**15),
        st.integers(0, 9999),
        st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True),
    ),
)
def test_text_order_equals_clock_order(a, b):
    ta, tb = hlc.Timestamp(*a), hlc.Timestamp(*b)
    if (ta.physical_ms, ta.counter) != (tb.physical_ms, tb.counter):
        assert (ta < tb) == (ta.encode() < tb.encode())
    assert hlc.parse(ta.encode()) == ta


@pytest.mark.parametrize("bad", ["", "1:2:3", "0001732600000000:000:d", "x" * 30, 5])
def test_parse_rejects(bad):
    with pytest.raises(hlc.HLCError):
        hlc.parse(bad)


def test_clamp_caps_future_clock_but_keeps_node():
    ceiling = hlc.Timestamp(1000, 0, "server")
    assert hlc.clamp(hlc.from_ms(5000, "d-9"), ceiling) == hlc.from_ms(1000, "d-9")
    assert hlc.clamp(hlc.from_ms(500, "d-9"), ceiling) == hlc.from_ms(500, "d-9")
