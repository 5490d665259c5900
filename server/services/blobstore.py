"""Photo bytes on disk, content-addressed: DATA_DIR/blobs/ab/abcdef… (complete) and
DATA_DIR/blobs/partial/<sha> while an upload is still arriving.

A partial file is its own lock (`partial_lock`): no `.lock` file is left beside it, and one
that is finished (moved into place) or discarded (a bad hash, an abandoned upload) simply
stops being the file at that path, which the next locker notices and starts again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from pathlib import Path

from server.services.photo_type import sniff_file

SHA256_HEX = frozenset("0123456789abcdef")


def is_sha256(value: str) -> bool:
    return len(value) == 64 and set(value) <= SHA256_HEX


def blob_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "blobs" / sha256[:2] / sha256


def partial_dir(data_dir: Path) -> Path:
    return data_dir / "blobs" / "partial"


def partial_path(data_dir: Path, sha256: str) -> Path:
    return partial_dir(data_dir) / sha256


def partial_lock(path: Path) -> int | None:
    """Open the partial file (made if absent) for appending and lock it, without waiting:
    the descriptor, or None while another upload holds it. Close the descriptor to let go.

    After locking, the path must still name the file we locked: the holder before us may
    have moved it into place or deleted it, and then we start over on a fresh file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def sweep_partials(data_dir: Path, older_than: float) -> list[str]:
    """Delete partial uploads untouched for `older_than` seconds (a phone that never came
    back), and the empty `.lock` files older versions left beside them. A partial file an
    upload holds right now is skipped. Returns the names removed."""
    folder = partial_dir(data_dir)
    if not folder.is_dir():
        return []
    cutoff = time.time() - older_than
    removed = []
    for path in sorted(folder.iterdir()):
        try:
            if path.stat().st_mtime >= cutoff:
                continue
        except FileNotFoundError:
            continue
        if path.suffix == ".lock" or not is_sha256(path.name):
            path.unlink(missing_ok=True)
            removed.append(path.name)
            continue
        fd = partial_lock(path)
        if fd is None:
            continue
        try:
            if os.fstat(fd).st_mtime < cutoff:
                path.unlink()
                removed.append(path.name)
        finally:
            os.close(fd)
    return removed


def stored_photo(data_dir: Path, sha256: str) -> tuple[Path, str | None] | None:
    """The complete file and its real media type (None: not a photo), or None if absent."""
    path = blob_path(data_dir, sha256)
    try:
        return path, sniff_file(path)
    except FileNotFoundError:
        return None


def write_complete(data_dir: Path, data: bytes) -> str:
    """Store bytes whole (demo data, tests); returns their SHA-256."""
    sha = hashlib.sha256(data).hexdigest()
    path = blob_path(data_dir, sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return sha
