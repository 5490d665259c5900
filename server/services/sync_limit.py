"""How often one device may call /api/sync: a fixed one-minute window per device.

Per process, on purpose, unlike the login counters: what it stops is a client stuck in a
loop (a bug, a replayed request) eating a worker, and the worker is what it protects, so
each process counting its own share is the right measure; with N workers a device may
reach N times the setting, which is still a bound. It costs no database trip on the
busiest endpoint, and it runs on the event loop without blocking: a dict, no lock (one
loop per process touches it).
"""

from __future__ import annotations

import time

from server.errors import AppError

WINDOW_SECONDS = 60
PRUNE_AT = 10_000  # devices remembered before expired windows are dropped


class SyncLimit:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.windows: dict[str, tuple[float, int]] = {}

    def take(self, device_id: str, now: float | None = None) -> None:
        """Count one request, or raise 429 `too_many_requests` with Retry-After."""
        now = time.monotonic() if now is None else now
        start, count = self.windows.get(device_id, (now, 0))
        if now - start >= WINDOW_SECONDS:
            start, count = now, 0
        if count >= self.per_minute:
            wait = max(1, int(start + WINDOW_SECONDS - now + 0.999))
            raise AppError.protocol(
                "too_many_requests",
                status=429,
                headers={"Retry-After": str(wait)},
                extra={"retry_after": wait},
                retry_after=wait,
            )
        self.windows[device_id] = (start, count + 1)
        if len(self.windows) > PRUNE_AT:
            self.windows = {k: v for k, v in self.windows.items() if now - v[0] < WINDOW_SECONDS}
