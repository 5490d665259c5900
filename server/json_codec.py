"""JSON in and out at the speed of orjson, with the standard library's meaning.

A sync batch is mostly JSON work: the request parsed, each record, its answers, photos and
verdict encoded for their columns, the reply encoded. orjson does each 2-3x faster. Where it
refuses what the standard library accepts (an integer past 64 bits, NaN, a lone surrogate,
a non-string key, nesting past 1,024), the standard library does the job instead, so every
input means what it meant before; only the text written differs in spacing and in how a few
floats are spelled (`1e-5` for `1e-05`), which every reader parses alike, and NaN or an
infinity, which the rules refuse as answers, is written as null (the standard library's
`NaN` is not JSON at all).

The ops' body hashes stay on the standard library (sync/messages.canonical_json): a stored
ack must match the hash of the same op sent again after an upgrade.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(text: bytes | str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


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
