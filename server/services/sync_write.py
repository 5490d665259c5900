"""What every writer of synced records shares: the writer lock, the server's clock and the
fields only the server writes. The sync batch (sync_store), a supervisor settling a
conflict (conflicts), the register import, point edits and photo uploads all take the same
lock, so none of them can interleave its change numbers with another's.

Why a lock at all: two writers merging against the same revision lose an update. On
PostgreSQL the transaction takes one advisory lock (released at commit); SQLite already
serialises writers once `session_scope(write=True)` has said BEGIN IMMEDIATE.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from sync import hlc

LOCK_KEY = 0x58554E4A  # "XUNJ": one advisory lock for every sync writer
SERVER_CLOCK = hlc.Clock("server")
# computed by the server from the answers: never merged from, nor compared with, a phone's copy
SERVER_ONLY_FIELDS = ("rev", "rating", "result", "evidence_complete", "evidence_pending")


def lock_writers(session: Session) -> None:
    """Wait for, then hold till commit, the one lock every sync writer takes."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
