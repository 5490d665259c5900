"""The server reads JSON with orjson where it means what the standard library reads, and
says so (`plain`), so an op's body hash may then be written by orjson (sync.messages)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from server import json_codec
from sync.messages import body_hash
from tests.sync.test_body_hash import floats, slow, text


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | floats | text,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=20,
    )
)
def test_the_server_reads_every_body_as_the_standard_library_does(value):
    # integers of any size included: orjson would read one past 64 bits as a float
    for body in (json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode()):
        got, was_plain = json_codec.loads_plain(body)
        assert got == json.loads(body)
        assert repr(got) == repr(json.loads(body))  # 10**20 is not 1e+20
        if was_plain:
            assert body_hash({"v": got}, plain=True) == slow({"v": got})


def test_integers_past_64_bits_stay_exact():
    for literal in (b"18446744073709551616", b"-9223372036854775809", b"[1" + b"0" * 30 + b"]"):
        value, was_plain = json_codec.loads_plain(literal)
        assert value == json.loads(literal) and not was_plain
        assert "e" not in repr(value)
    assert json_codec.loads_plain(b"[123456789012345678]") == ([123456789012345678], True)
    assert json_codec.loads_plain(b'{"x": NaN}')[1] is False
