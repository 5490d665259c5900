"""Photo bytes on disk, content-addressed: DATA_DIR/blobs/ab/abcdef… (complete) and
DATA_DIR/blobs/partial/<sha> while an upload is still arriving."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from server.services.photo_type import sniff_file

SHA256_HEX = frozenset("0123456789abcdef")


def is_sha256(value: str) -> bool:
    return len(value) == 64 and set(value) <= SHA256_HEX


def blob_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "blobs" / sha256[:2] / sha256


def partial_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "blobs" / "partial" / sha256


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
