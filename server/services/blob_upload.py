"""Resumable, hash-checked photo upload.

The bytes on disk are the truth for how much has arrived: every chunk is appended to
DATA_DIR/blobs/partial/<sha256> and fsynced as it comes, so a connection cut mid-body keeps
what arrived and the phone continues from there. When the last byte lands the file is
hashed; only a match is moved into place and recorded complete. A crash between the move and
the database row heals itself on the next status or upload of that photo.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import AsyncIterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, String, cast
from sqlmodel import select

from server.db import session_scope
from server.models import Blob, Inspection
from server.services.blobstore import blob_path, partial_path
from server.services.inspections import evidence_arrived, missing_photos
from server.services.photo_type import HEAD_BYTES, decided, sniff, sniff_file
from server.services.sync_store import lock_writers

RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class UploadError(Exception):
    def __init__(self, code: str, status: int, **params: object) -> None:
        super().__init__(code)
        self.code, self.status, self.params = code, status, params


@dataclass(frozen=True)
class Range:
    start: int
    end: int  # inclusive; end = start - 1 for an empty body
    total: int


def parse_range(header: str | None, length: int | None) -> Range | None:
    """Content-Range ``bytes a-b/total``; absent means the whole file (length from the body)."""
    if header is None:
        return None if length is None else Range(0, length - 1, length)
    m = RANGE_RE.match(header.strip())
    if not m:
        raise UploadError("bad_range", 400)
    start, end, total = (int(g) for g in m.groups())
    if end < start - 1 or end >= total:
        raise UploadError("bad_range", 400)
    return Range(start, end, total)


@contextmanager
def _locked(path: Path):
    """An exclusive lock beside the partial file, so two uploads of one photo (two workers,
    or a retry racing its own cut predecessor) never interleave their bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def status(engine: Engine, data_dir: Path, sha: str) -> tuple[int, bool]:
    """(bytes held, complete). Unknown photos hold 0 bytes: no 404 to special-case."""
    with session_scope(engine) as session:
        row = session.get(Blob, sha)
        if row is not None and row.complete:
            return row.size, True
    final = blob_path(data_dir, sha)
    if final.exists():
        if _hash_file(final) == sha:
            size = final.stat().st_size
            _mark_complete(engine, sha, size, sniff_file(final) or "application/octet-stream")
            return size, True
        final.unlink()
    part = partial_path(data_dir, sha)
    return (part.stat().st_size if part.exists() else 0), False


async def receive(
    engine: Engine,
    data_dir: Path,
    sha: str,
    rng: Range,
    body: AsyncIterator[bytes],
    max_bytes: int,
) -> tuple[int, bool]:
    """Append the body at ``rng.start``; finish and verify when the total is reached.

    The type is judged from the bytes as soon as the first 12 have arrived (the client's
    Content-Type is ignored), so a refused file costs one request, not a whole upload.
    """
    if rng.total > max_bytes:
        raise UploadError("too_large", 413, size=rng.total, max_bytes=max_bytes)
    held, complete = status(engine, data_dir, sha)
    if complete:
        return held, True
    part = partial_path(data_dir, sha)
    with _locked(part):
        held = part.stat().st_size if part.exists() else 0
        if rng.start != held:
            raise UploadError("offset_mismatch", 409, received=held)
        limit = rng.total - held
        with open(part, "ab") as fh:
            try:
                async for chunk in body:
                    if len(chunk) > limit:
                        chunk = chunk[:limit]  # never hold more than the declared total
                    fh.write(chunk)
                    limit -= len(chunk)
            finally:
                # Whatever arrived stays, even when the client vanished mid-body.
                fh.flush()
                os.fsync(fh.fileno())
        held = part.stat().st_size
        mime = _judge(engine, sha, part, rng) if rng.start < HEAD_BYTES else None
        if held < rng.total:
            _note_received(engine, sha, held, rng.total, mime)
            return held, False
        if _hash_file(part) != sha:
            part.unlink()
            _note_received(engine, sha, 0, rng.total, None)
            raise UploadError("hash_mismatch", 422)
        mime = sniff_file(part)
        if mime is None:  # judged when its head arrived; only a race could leave it unknown
            part.unlink()
            raise UploadError("unsupported_type", 415)
        final = blob_path(data_dir, sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, final)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    _mark_complete(engine, sha, rng.total, mime)
    return rng.total, True


def _judge(engine: Engine, sha: str, part: Path, rng: Range) -> str | None:
    """The sniffed type once the head is in; a file that is no photo is dropped and refused."""
    with open(part, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    mime = sniff(head)
    if mime is None and decided(head, len(head) >= rng.total):
        part.unlink()
        _note_received(engine, sha, 0, rng.total, None)
        raise UploadError("unsupported_type", 415)
    return mime


def _note_received(engine: Engine, sha: str, held: int, total: int, mime: str | None) -> None:
    with session_scope(engine, write=True) as session:
        row = session.get(Blob, sha) or Blob(sha256=sha)
        row.received, row.size = held, total
        if mime is not None:
            row.mime = mime
        session.add(row)


def _mark_complete(engine: Engine, sha: str, size: int, mime: str) -> None:
    """Record the photo and refresh every inspection that was waiting for it."""
    with session_scope(engine, write=True) as session:
        lock_writers(session)
        row = session.get(Blob, sha) or Blob(sha256=sha)
        if row.complete:
            return
        row.mime = mime
        row.size = row.received = size
        row.complete, row.completed_at = True, datetime.now(UTC)
        session.add(row)
        session.flush()
        waiting = session.exec(
            select(Inspection).where(
                Inspection.evidence_complete.is_(False),
                cast(Inspection.photos, String).contains(sha),
            )
        ).all()
        for insp in waiting:
            if not missing_photos(session, insp):
                evidence_arrived(session, insp)
