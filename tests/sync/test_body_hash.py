"""An op's body hash is the SHA-256 of the standard library's canonical JSON: acks stored by
any earlier server must match the same op sent again. orjson writes that text for ops orjson
read (`plain`) unless a float could be spelt otherwise; these prove it writes the same bytes
(tests/server/test_json_codec.py, that the server reads every body as the standard library
would)."""

from __future__ import annotations

import hashlib
import math

import orjson
from hypothesis import given
from hypothesis import strategies as st

from sync.messages import _respelt, body_hash, canonical_json

# what orjson reads back: valid text (no lone surrogates), integers within 64 bits, finite
# floats, with the awkward characters and float magnitudes weighted in
chars = st.one_of(
    st.characters(blacklist_categories=("Cs",)),
    st.sampled_from(["\x00", "\x1f", "\x7f", '"', "\\", "/", "\u2028", "中", "😀", "e", ":"]),
)
text = st.text(chars, max_size=8)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda m, e: float(f"{m}e{e}"),
        st.integers(-99999, 99999),
        st.integers(-330, 310),
    ).filter(math.isfinite),
)
plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | floats
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def slow(obj) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8", "surrogatepass")).hexdigest()


@given(st.dictionaries(text, plain, max_size=6))
def test_the_fast_hash_of_what_orjson_reads_is_the_canonical_one(obj):
    assert body_hash(obj, plain=True) == slow(obj)


def test_every_magnitude_of_float_hashes_as_the_standard_library_writes_it():
    # orjson spells 1e-05 `0.00001` and 1e-07 `1e-7`; each power and its neighbours
    for e in range(-324, 309):
        for m in ("1", "1.5", "9.999999999999999", "2.2250738585072014", "-3"):
            f = float(f"{m}e{e}")
            if math.isfinite(f):
                obj = {"x": f, "y": [f, {"z": f}]}
                assert body_hash(obj, plain=True) == slow(obj), f


def test_an_everyday_op_takes_the_fast_path():
    # else the tests above would pass with the fast path never used
    op = {
        "op_id": "0b6c5f9e-1",
        "type": "inspection.put",
        "record_id": "r-1",
        "base_rev": 0,
        "hlc": "0001764600000000:0000:d-phone",
        "data": {
            "answers": {"seats": 15, "area_m2": 28.5, "manager": "李秀英", "open": None},
            "gps": {"lat": 26.58371, "lon": 107.98213, "accuracy": 12.0},
            "photos": [{"sha256": "8b858f45b25cbe136c83a2c474bacaafdc4efe86253c25fc12edacb6"}],
        },
    }
    assert not _respelt(orjson.dumps(op, option=orjson.OPT_SORT_KEYS))
    assert body_hash(op, plain=True) == slow(op)


def test_what_orjson_cannot_write_falls_back():
    big = {"n": 2**64, "m": -(2**63) - 1}
    assert body_hash(big, plain=True) == slow(big)
