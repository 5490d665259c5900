"""JSON in and out at the speed of orjson, with the standard library's meaning.

A sync batch is mostly JSON work: the request parsed, each record, its answers, photos and
verdict encoded for their columns, the reply encoded. orjson does each 2-3x faster. Where it
refuses what the standard library accepts (NaN, a lone surrogate, a non-string key, nesting
past 1,024) or would read it differently (an integer past 64 bits, which it reads as a
float), the standard library does the job instead, so every input means what it meant
before; only the text written differs in spacing and in how a few floats are spelled (`1e-5`
for `1e-05`), which every reader parses alike, and NaN or an infinity, which the rules refuse
as answers, is written as null (the standard library's `NaN` is not JSON at all).

The ops' body hashes are the standard library's canonical JSON (sync/messages.canonical_json):
a stored ack must match the hash of the same op sent again after an upgrade; orjson writes
that text only where it is proven to write the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# orjson reads an integer past 64 bits as a float (`18446744073709551616` -> 1.8e19), where
# the standard library keeps it exact; such an integer is a run of 19 or more digits
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19
_BEFORE_NUMBER = frozenset(b":,[-\x20\t\r\n")  # what a JSON number can follow


def _long_integer(raw: bytes) -> bool:
    """Whether `raw` may hold an integer of 19 digits or more. A run of 19 digits that does
    not follow what a number follows is inside a string: a photo's SHA-256 in hex holds
    one about once in 160, and each batch names hundreds."""
    zeros = raw.translate(_DIGITS)
    i = zeros.find(_LONG_RUN)
    while i >= 0:  # i starts a run of digits: find returns the leftmost
        if i == 0 or raw[i - 1] in _BEFORE_NUMBER:
            return True
        end = i + len(_LONG_RUN)
        while end < len(zeros) and zeros[end] == 0x30:
            end += 1
        i = zeros.find(_LONG_RUN, end)
    return False


def loads(text: bytes | str) -> Any:
    return loads_plain(text)[0]


def loads_plain(text: bytes | str) -> tuple[Any, bool]:
    """(value, plain): plain when orjson read it, so every number in it is finite and
    within 64 bits and every string valid Unicode (what orjson writes back as the standard
    library would, floats aside: sync.messages.body_hash)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if not _long_integer(raw):
        try:
            return orjson.loads(raw), True
        except orjson.JSONDecodeError:
            pass
    return json.loads(text), False


def dumps_bytes(value: Any) -> bytes:
    """UTF-8 JSON, compact; a lone surrogate goes escaped (it cannot be UTF-8)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        except UnicodeEncodeError:
            return json.dumps(value, separators=(",", ":")).encode()


def dumps(value: Any) -> str:
    """The text a JSON column stores."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)
