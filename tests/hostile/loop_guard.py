"""Catch blocking calls made on the event loop's thread.

While the guard is on, a database connection checkout, a file opened or stat'ed, an fsync,
a file lock, a sleep, an argon2 hash, or a JSON body parsed or gzipped (a 500-op batch is a
quarter of a second of CPU) on a thread that runs an asyncio loop is recorded.
Starlette's thread pool runs no loop, so the same calls there are fine: that is exactly the
rule (`run_in_threadpool` for anything that can wait)."""

from __future__ import annotations

import asyncio
import builtins
import fcntl
import gzip
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from sqlalchemy import event
from sqlalchemy.pool import Pool


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class Blocked(list):
    """What was called on the loop, each with the frames of the server's code that did it."""

    def note(self, what: str) -> None:
        frames = []
        frame = sys._getframe(2)
        while frame is not None:
            code = frame.f_code
            if "/server/" in code.co_filename:
                where = code.co_filename.rsplit("/server/", 1)[-1]
                frames.append(f"server/{where}:{frame.f_lineno} {code.co_name}")
            frame = frame.f_back
        self.append((what, frames[:3]))


@contextmanager
def loop_guard(monkeypatch) -> Iterator[Blocked]:
    blocked = Blocked()

    def wrap(owner, name: str, label: str, least: int = 0) -> None:
        real = getattr(owner, name)

        def guarded(*args, **kwargs):
            if _on_loop() and (not least or len(args[0]) >= least):
                blocked.note(label)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, guarded)

    def checkout(*_args) -> None:
        if _on_loop():
            blocked.note("database connection")

    for owner, name in (
        (builtins, "open"),
        (os, "stat"),
        (os, "fsync"),
        (os, "replace"),
        (os, "unlink"),
        (fcntl, "flock"),
        (time, "sleep"),
        (PasswordHasher, "verify"),
        (PasswordHasher, "hash"),
    ):
        wrap(owner, name, f"{getattr(owner, '__name__', owner)}.{name}")
    # a session cookie is parsed on the loop, and may be: a browser holds at most 4 KB of it
    wrap(json, "loads", "json.loads of a body", least=4096)
    wrap(gzip, "compress", "gzip.compress of a body", least=4096)
    event.listen(Pool, "checkout", checkout)
    try:
        yield blocked
    finally:
        event.remove(Pool, "checkout", checkout)
