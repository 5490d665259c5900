"""The reference client's durable state in one SQLite file (stdlib sqlite3).

Why SQLite with ``synchronous=FULL``: a phone's OS kills apps without warning. Every step of
the outbox -- queue, mark sent, delete on ack, move the cursor -- is a committed transaction,
so a kill at any point leaves either the old or the new state, never half of one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  op_id TEXT NOT NULL UNIQUE,
  record_id TEXT NOT NULL,
  body TEXT NOT NULL,
  sent INTEGER NOT NULL DEFAULT 0          -- 1 once the body may have reached the server
);
CREATE INDEX IF NOT EXISTS outbox_record ON outbox(record_id);
CREATE TABLE IF NOT EXISTS records (
  kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
  rev INTEGER NOT NULL DEFAULT 0,          -- last server revision this device knows
  PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS acks (
  op_id TEXT PRIMARY KEY, record_id TEXT NOT NULL, status TEXT NOT NULL,
  rev INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
  sha256 TEXT PRIMARY KEY, data BLOB NOT NULL, mime TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending'    -- pending | trying | uploaded | refused
);
"""


class LocalStore:
    def __init__(self, path: str) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # meta
    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def put(self, key: str, value: str | None, db: sqlite3.Connection | None = None) -> None:
        db = db or self.db
        if value is None:
            db.execute("DELETE FROM meta WHERE key=?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # records
    def record(self, kind: str, rid: str) -> tuple[dict, int] | None:
        row = self.db.execute(
            "SELECT data, rev FROM records WHERE kind=? AND id=?", (kind, rid)
        ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def records(self, kind: str) -> dict[str, dict]:
        rows = self.db.execute("SELECT id, data FROM records WHERE kind=?", (kind,))
        return {rid: json.loads(data) for rid, data in rows}

    @staticmethod
    def put_record(db: sqlite3.Connection, kind: str, rid: str, data: dict, rev: int) -> None:
        db.execute(
            "INSERT OR REPLACE INTO records(kind, id, data, rev) VALUES (?, ?, ?, ?)",
            (kind, rid, json.dumps(data, ensure_ascii=False), rev),
        )

    # outbox
    def pending(self, limit: int) -> list[dict]:
        rows = self.db.execute("SELECT body FROM outbox ORDER BY seq LIMIT ?", (limit,))
        return [json.loads(r[0]) for r in rows]

    def pending_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def pending_for(self, record_id: str) -> list[tuple[str, dict, bool]]:
        rows = self.db.execute(
            "SELECT op_id, body, sent FROM outbox WHERE record_id=? ORDER BY seq", (record_id,)
        )
        return [(op_id, json.loads(body), bool(sent)) for op_id, body, sent in rows]

    # blobs
    def blob(self, sha: str) -> tuple[bytes, str, str] | None:
        row = self.db.execute("SELECT data, mime, state FROM blobs WHERE sha256=?", (sha,))
        found = row.fetchone()
        return (bytes(found[0]), found[1], found[2]) if found else None

    def set_blob_state(self, sha: str, state: str) -> None:
        self.db.execute("UPDATE blobs SET state=? WHERE sha256=?", (state, sha))
