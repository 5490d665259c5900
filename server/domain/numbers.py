"""Numbers as both sides of a verdict see them: which JSON values count as numbers, and
the arithmetic that prints alike in Python and in the phone's JavaScript."""

from __future__ import annotations

import math
from typing import Any


def real(v: Any) -> bool:
    """A finite JSON number, not a bool. An integer beyond a double's range is not one: JSON
    allows it and Python parses it exactly, but `math.isfinite` and any division then raise
    (a 500 where the sender deserves a field error). The phone's JSON.parse makes it
    Infinity, which pwa/js/rules.js refuses too."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def round2(x: float) -> int | float:
    """Round half up to 2 decimals exactly as JS `Math.floor(x * 100 + 0.5) / 100` does."""
    return num(math.floor(x * 100 + 0.5) / 100)


def num(x: Any) -> Any:
    # JSON.stringify(2.0) is "2": give integral floats back as ints so both sides print alike.
    return int(x) if isinstance(x, float) and x.is_integer() else x
