"""Text every database can store: no NUL character, no lone UTF-16 surrogate.

JSON may carry both (`"\\u0000"`, `"\\ud800"`), Python decodes them happily, and then the
database or the UTF-8 encoder refuses them deep inside a transaction. A phone whose op
answered 500 for that would retry it forever, so they are caught at parse time: in an op
they refuse that op alone (`invalid_op` naming the field), elsewhere the request.
"""

from __future__ import annotations

import re
from typing import Any

DETAIL = "contains a character that cannot be stored (NUL or an unpaired surrogate)"
REPLACEMENT = "\ufffd"


# What JSON text must hold to decode to such a string: the escapes \u0000 and \ud800-\udfff,
# a raw NUL, or a surrogate encoded as UTF-8 bytes (json.loads decodes bytes with
# surrogatepass). A match may be harmless (an escaped backslash, a paired surrogate).
_MAYBE_BAD = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]")


def maybe_unstorable(body: bytes) -> bool:
    """False when no string JSON text `body` decodes to can be unstorable, so the walk over
    the decoded tree can be skipped (the usual batch). True only says: walk to find out."""
    if b"\\u" not in body and b"\x00" not in body and b"\xed" not in body:
        return False  # memchr-fast: the regex below runs only on text that could match
    return _MAYBE_BAD.search(body) is not None


def unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad(c: str) -> bool:
    return c == "\x00" or "\ud800" <= c <= "\udfff"


def first_unstorable(value: Any, path: str = "") -> str | None:
    """The dotted path of the first unstorable string (a key names its parent), or None."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        v, here = stack.pop()
        if isinstance(v, str):
            if unstorable(v):
                return here or "body"
        elif isinstance(v, dict):
            for k, x in v.items():
                if isinstance(k, str) and unstorable(k):
                    return here or "body"
                stack.append((x, f"{here}.{k}" if here else str(k)))
        elif isinstance(v, list):
            stack.extend((x, f"{here}[{i}]") for i, x in enumerate(v))
    return None


def scrub(value: Any) -> Any:
    """A copy with every unstorable character replaced by U+FFFD (for a quarantine copy)."""
    if isinstance(value, str):
        if not unstorable(value):
            return value
        return "".join(
            REPLACEMENT if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in value
        )
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value
