"""Resumable, hash-checked photo upload.

The bytes on disk are the truth for how much has arrived: every chunk is appended to
DATA_DIR/blobs/partial/<sha256> and fsynced at the end of each request, so a connection cut
mid-body keeps what arrived and the phone continues from there. When the last byte lands the
file is hashed; only a match is moved into place and recorded complete. A crash between the
move and the database row heals itself on the next status or upload of that photo.

Why nothing here waits on the event loop: one upload of a photo holds that photo's partial
file locked (`partial_lock`) while its body trickles in over a village link, which can take
minutes or never end. A second upload of the same photo (a phone retrying after a cut, or a
second worker) asks for the lock without blocking, a few times, and is then told
`upload_busy` with a Retry-After; a body that stops arriving for `upload_idle_seconds`
ends the first upload, keeping its bytes. Every file and database call runs in the thread
pool, so a stalled phone stalls only itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, String, and_, cast, func
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from server.db import session_scope
from server.models import Blob, Inspection
from server.services.blobstore import blob_path, partial_lock, partial_path
from server.services.inspections import evidence_arrived, missing_photos
from server.services.photo_type import HEAD_BYTES, decided, sniff, sniff_file
from server.services.sync_write import lock_writers

RANGE_RE = re.compile(r"^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")
LOCK_TRIES = 8  # a finishing upload usually lets go within this many tries
LOCK_PAUSE = 0.25  # seconds between tries
BUSY_RETRY_AFTER = 5  # seconds a refused second upload is told to wait
WRITE_BYTES = 1 << 20  # body bytes gathered before one write


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


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def status(engine: Engine, data_dir: Path, sha: str) -> tuple[int, bool]:
    """(bytes held, complete). Unknown photos hold 0 bytes: no 404 to special-case.
    Blocking: call it from the thread pool."""
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
    try:
        return part.stat().st_size, False
    except FileNotFoundError:
        return 0, False


@dataclass(frozen=True)
class Begun:
    """What an upload found: the photo complete already (fd None), or its partial file
    locked for us (fd) holding `held` bytes."""

    fd: int | None
    held: int
    complete: bool


def _begin(engine: Engine, data_dir: Path, sha: str) -> Begun | None:
    """The photo's state and, unless it is complete, its partial file locked for us; None
    while another upload of it holds the lock. One trip to the thread pool: under a crowd
    every trip waits its turn for a thread, so an upload makes as few as it can."""
    held, complete = status(engine, data_dir, sha)
    if complete:
        return Begun(None, held, True)
    part = partial_path(data_dir, sha)
    fd = partial_lock(part)
    if fd is None:
        return None
    try:
        # Under the lock: the photo may have been finished by the upload we waited for.
        if blob_path(data_dir, sha).exists():
            _drop(part)
            os.close(fd)
            return Begun(None, *status(engine, data_dir, sha))
        return Begun(fd, os.fstat(fd).st_size, False)
    except BaseException:
        os.close(fd)
        raise


async def _begin_locked(engine: Engine, data_dir: Path, sha: str) -> Begun:
    """`_begin`, asked a few times; `upload_busy` if another upload keeps the photo."""
    for attempt in range(LOCK_TRIES):
        begun = await run_in_threadpool(_begin, engine, data_dir, sha)
        if begun is not None:
            return begun
        if attempt + 1 < LOCK_TRIES:
            await asyncio.sleep(LOCK_PAUSE)
    raise UploadError("upload_busy", 503, retry_after=BUSY_RETRY_AFTER)


async def _append(
    fd: int, body: AsyncIterator[bytes], limit: int, idle: float, tail: bytearray
) -> bool:
    """Read the body until it ends, stops arriving for `idle` seconds, or reaches `limit`
    bytes (never more than the declared total is kept); True when it timed out. Bytes are
    written in slices of WRITE_BYTES, and what is left is in `tail` for the caller to
    write: a photo usually takes one trip to the thread pool, not one per network chunk."""
    written = 0
    chunks = body.__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), idle)
        except (StopAsyncIteration, ClientDisconnect):
            return False
        except TimeoutError:
            return True
        tail += chunk[: limit - written - len(tail)]
        if len(tail) >= WRITE_BYTES:
            await run_in_threadpool(_write_all, fd, bytes(tail))
            written += len(tail)
            tail.clear()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


async def receive(
    engine: Engine,
    data_dir: Path,
    sha: str,
    rng: Range,
    body: AsyncIterator[bytes],
    max_bytes: int,
    idle_seconds: float = 60,
) -> tuple[int, bool]:
    """Append the body at ``rng.start``; finish and verify when the total is reached.

    The type is judged from the bytes as soon as the first 12 have arrived (the client's
    Content-Type is ignored), so a refused file costs one request, not a whole upload.
    No database connection is held while the body arrives (a slow phone's body can take
    minutes): only the partial file's lock.
    """
    if rng.total > max_bytes:
        raise UploadError("too_large", 413, size=rng.total, max_bytes=max_bytes)
    begun = await _begin_locked(engine, data_dir, sha)
    fd = begun.fd
    if fd is None:
        return begun.held, begun.complete
    tail = bytearray()
    try:
        if rng.start != begun.held:
            raise UploadError("offset_mismatch", 409, received=begun.held)
        timed_out = await _append(fd, body, rng.total - begun.held, idle_seconds, tail)
    except BaseException:
        # Whatever arrived stays, even when the client vanished mid-body.
        await run_in_threadpool(_end, fd, bytes(tail), None)
        raise
    result = await run_in_threadpool(_end, fd, bytes(tail), (engine, data_dir, sha, rng))
    assert result is not None
    if timed_out and not result[1]:
        raise UploadError("upload_idle", 408, received=result[0])
    return result


def _end(
    fd: int, tail: bytes, settle: tuple[Engine, Path, str, Range] | None
) -> tuple[int, bool] | None:
    """Write the tail, fsync, settle (when asked) and let go of the partial file."""
    try:
        _write_all(fd, tail)
        os.fsync(fd)
        return None if settle is None else _settle(*settle, fd)
    finally:
        os.close(fd)


def _drop(part: Path) -> None:
    part.unlink(missing_ok=True)


def _settle(engine: Engine, data_dir: Path, sha: str, rng: Range, fd: int) -> tuple[int, bool]:
    """After a body, with the partial file still locked: judge its type, note the progress,
    or verify the finished file and move it into place."""
    total = rng.total
    part = partial_path(data_dir, sha)
    held = os.fstat(fd).st_size
    mime = _judge(engine, sha, part, rng) if rng.start < HEAD_BYTES else None
    if held < total:
        _note_received(engine, sha, held, total, mime)
        return held, False
    if _hash_file(part) != sha:
        part.unlink()
        _note_received(engine, sha, 0, total, None)
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
    _mark_complete(engine, sha, total, mime)
    return total, True


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
    """Record the photo and refresh every inspection that was waiting for it.

    Finding those inspections is a text match over the photo list of every inspection still
    waiting (thousands while a county's phones sync their day), so it runs before the
    writer lock; under the lock only inspections changed since are matched, found by their
    change number (`seq`, given out in commit order under the same lock)."""
    with session_scope(engine) as session:
        seen = session.exec(select(func.max(Inspection.seq))).one() or 0
        waiting = set(session.exec(select(Inspection.id).where(waiting_for(sha))).all())
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
        later = select(Inspection.id).where(Inspection.seq > seen, waiting_for(sha))
        waiting.update(session.exec(later).all())
        for inspection_id in sorted(i for i in waiting if i is not None):
            insp = session.get(Inspection, inspection_id)
            if insp is None or insp.evidence_complete:
                continue
            if not missing_photos(session, insp):
                evidence_arrived(session, insp)


def waiting_for(sha: str):
    return and_(
        Inspection.evidence_complete.is_(False),  # type: ignore[attr-defined]
        cast(Inspection.photos, String).contains(sha),
    )
