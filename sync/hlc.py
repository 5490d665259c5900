"""Hybrid logical clock (HLC) with a fixed-width, string-sortable encoding.

Why an HLC: phones are offline for days and their wall clocks drift. A plain timestamp would
let a phone whose clock runs behind lose every last-writer-wins tie; a pure logical counter
would not say "which edit was later" in a way a supervisor can read. An HLC is a wall clock
that never runs backwards and that jumps forward past every clock it has seen.

Encoding: ``PPPPPPPPPPPPPPPP:CCCC:node`` -- 16 decimal digits of Unix milliseconds, 4 decimal
digits of logical counter, then the node (device) id. Because the first two parts are fixed
width, comparing two encoded strings compares the clocks, with the node id as the final
tie-breaker; the database can therefore order by the plain text column.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

_MAX_COUNTER = 9999
_PHYS_DIGITS = 16
_NODE_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_HLC_RE = re.compile(r"^(\d{16}):(\d{4}):([A-Za-z0-9._\-]{1,64})$")
NODE_PATTERN = _NODE_RE.pattern  # published as is by server/openapi.py
HLC_PATTERN = _HLC_RE.pattern


class HLCError(ValueError):
    """An HLC string that does not parse."""


@dataclass(frozen=True, order=True)
class Timestamp:
    """One HLC reading. Ordering of instances equals ordering of their encodings."""

    physical_ms: int
    counter: int
    node: str

    def encode(self) -> str:
        return f"{self.physical_ms:0{_PHYS_DIGITS}d}:{self.counter:04d}:{self.node}"

    def __str__(self) -> str:
        return self.encode()


def parse(text: str) -> Timestamp:
    """Parse an encoded HLC; raises HLCError naming what is wrong."""
    if not isinstance(text, str):
        raise HLCError("hlc must be a string")
    m = _HLC_RE.match(text)
    if not m:
        raise HLCError("hlc must look like 0001732600000000:0000:node-id")
    return Timestamp(int(m.group(1)), int(m.group(2)), m.group(3))


def valid_node(node: str) -> bool:
    return isinstance(node, str) and bool(_NODE_RE.match(node))


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock:
    """A node's clock. ``now()`` for a local event, ``observe()`` when a remote clock is seen.

    ``offset_ms`` lets a client correct its wall clock by what the server said the time was
    (see sync-protocol.md, "Clocks"), so a phone set a year ahead does not win every tie.
    """

    def __init__(
        self,
        node: str,
        last: Timestamp | None = None,
        wall: Callable[[], int] = wall_ms,
        offset_ms: int = 0,
    ) -> None:
        if not valid_node(node):
            raise HLCError("node id must be 1-64 of A-Z a-z 0-9 . _ -")
        self.node = node
        self._wall = wall
        self.offset_ms = offset_ms
        self._phys = last.physical_ms if last else 0
        self._count = last.counter if last else 0

    def _tick(self, phys: int, count: int) -> Timestamp:
        if count > _MAX_COUNTER:
            # Counter overflow (10k events in one ms): borrow the next millisecond. The clock
            # stays monotone and at most a few ms ahead of real time.
            phys, count = phys + 1, 0
        self._phys, self._count = phys, count
        return Timestamp(phys, count, self.node)

    def now(self) -> Timestamp:
        wall = self._wall() + self.offset_ms
        if wall > self._phys:
            return self._tick(wall, 0)
        return self._tick(self._phys, self._count + 1)

    def observe(self, remote: Timestamp | str) -> Timestamp:
        """Merge a remote reading so every later ``now()`` sorts after it."""
        r = parse(remote) if isinstance(remote, str) else remote
        wall = self._wall() + self.offset_ms
        phys = max(wall, self._phys, r.physical_ms)
        if phys == self._phys == r.physical_ms:
            count = max(self._count, r.counter) + 1
        elif phys == self._phys:
            count = self._count + 1
        elif phys == r.physical_ms:
            count = r.counter + 1
        else:
            count = 0
        return self._tick(phys, count)

    @property
    def last(self) -> Timestamp:
        return Timestamp(self._phys, self._count, self.node)


def clamp(hlc: str, ceiling: Timestamp) -> str:
    """The earlier of ``hlc`` and ``ceiling``, keeping the original node id.

    The server clamps each op's clock to its own receive time: an edit cannot have happened
    after the server received it, so a phone whose clock runs ahead cannot win ties for ever.
    """
    t = parse(hlc)
    if (t.physical_ms, t.counter) <= (ceiling.physical_ms, ceiling.counter):
        return hlc
    return Timestamp(ceiling.physical_ms, ceiling.counter, t.node).encode()


def from_ms(ms: int, node: str, counter: int = 0) -> str:
    return Timestamp(ms, counter, node).encode()
