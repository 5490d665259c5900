"""The byte-level look at a batch (sync/text.maybe_unstorable) must never miss text that the
walk over the decoded tree would refuse: the server skips that walk when it says no."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from sync.text import first_unstorable, maybe_unstorable

# every code point, lone surrogates and NUL included, weighted toward the awkward ones
chars = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()),
    st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\ude00", "\\", "中"]),
)
text = st.text(chars, max_size=8)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def encodings(value):
    """The body as a Python client (ASCII escapes) and as a browser (raw UTF-8) sends it."""
    yield json.dumps(value).encode()
    yield json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@given(values)
def test_a_body_said_clean_holds_no_unstorable_text(value):
    bad = first_unstorable(value) is not None
    for body in encodings(value):
        assert json.loads(body) == value
        if bad:
            assert maybe_unstorable(body), body


def test_clean_bodies_are_recognised():
    # the everyday batch, Chinese text included, takes the fast path in both encodings
    value = {"notes": "书屋开放正常", "answers": {"manager": "王芳", "hours": "09:00"}}
    assert not any(maybe_unstorable(b) for b in encodings(value))
    # a paired surrogate escape is harmless but looks alike: the walk decides
    assert maybe_unstorable(json.dumps({"x": "😀"}).encode())
    assert first_unstorable({"x": "😀"}) is None
