"""What counts as a number the server can compute with."""

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
