"""The server reads JSON with orjson where it means what the standard library reads, and
says so (`plain`), so an op's body hash may then be written by orjson (sync.messages)."""

from __future__ import annotations

import gzip
import hashlib
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


def test_digits_inside_strings_leave_the_body_to_orjson():
    # a photo's SHA-256 often holds 19 digits in a row; hundreds per batch must not each send
    # the whole batch to the slow parser
    sha = "a" + "1234567890" * 3 + "b" * 33
    body = json.dumps({"photos": [{"sha256": sha}] * 3, "n": "No.12345678901234567890"}).encode()
    assert json_codec.loads_plain(body) == (json.loads(body), True)
    for spaced in (b'{"n": 12345678901234567890}', b'{"n":[1,\n-12345678901234567890]}'):
        value, was_plain = json_codec.loads_plain(spaced)
        assert value == json.loads(spaced) and not was_plain


def test_a_phones_batch_is_read_by_orjson_and_its_hashes_are_the_canonical_ones():
    # the whole path: request bytes -> ops marked plain -> the same hashes as before orjson
    from server.routes.api_sync import _parse
    from sync.messages import canonical_json
    from tests.sync import factories as f

    # every SHA-256 here is all digits, as ~1 in 160 real ones hold 19 in a row
    photos = [
        {**f.photo(b"x", item=f"item{i}"), "sha256": f"{i:04d}" + "1234567890" * 6}
        for i in range(400)
    ]
    ops = [
        f.op(
            f.inspection(photos=photos[i : i + 8], gps={"lat": 34.5, "lon": 108.2, "accuracy": 9.5})
        )
        for i in range(0, 400, 8)
    ]
    body = json.dumps({"protocol": 1, "device_id": "d-test", "cursor": None, "ops": ops})
    req = _parse(gzip.compress(body.encode()), "gzip", 500)
    assert len(req.ops) == 50 and all(op.plain for op in req.ops)
    for op in req.ops:
        text = canonical_json(op.to_json()).encode()
        assert op.body_hash() == hashlib.sha256(text).hexdigest()
