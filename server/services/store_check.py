"""`xunjian check`: do the photos on disk match what the database says it holds?

A photo the server has acknowledged as complete (a `blob` row marked complete) is one the
phone may already have deleted, so its file must exist and hash to its name: a missing or
damaged one is lost evidence and fails the check. A photo an inspection names but the server
never received is not a fault: the phone still holds it and the next sync asks for it
(`missing_blobs`); the check counts those and says so. A partial upload untouched for a day
means a phone gave up or a sweep is not running, and fails the check too.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from server.models import Blob, Inspection
from server.services.blobstore import blob_path, is_sha256, partial_dir

STALE_PARTIAL_SECONDS = 24 * 3600
PAGE = 500


@dataclass
class CheckReport:
    photos_checked: int = 0
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    stale_partials: list[tuple[str, float]] = field(default_factory=list)  # (name, hours)
    awaited: int = 0  # named by an inspection, not received yet: the phone holds it
    named_by: dict[str, list[str]] = field(default_factory=dict)  # sha -> inspection ids

    @property
    def ok(self) -> bool:
        return not (self.missing or self.damaged or self.stale_partials)


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_store(
    session: Session, data_dir: Path, *, stale_after: float = STALE_PARTIAL_SECONDS
) -> CheckReport:
    """Hash every complete photo, count the awaited ones, list stale partial uploads."""
    report = CheckReport()
    complete: set[str] = set()
    last = ""
    while True:  # keyset pages: a province holds millions of photos
        rows = session.exec(
            select(Blob.sha256)
            .where(Blob.complete.is_(True), Blob.sha256 > last)  # type: ignore[attr-defined]
            .order_by(Blob.sha256)
            .limit(PAGE)
        ).all()
        for sha in rows:
            complete.add(sha)
            path = blob_path(data_dir, sha)
            report.photos_checked += 1
            try:
                actual = _hash(path)
            except FileNotFoundError:
                report.missing.append(sha)
                continue
            if actual != sha:
                report.damaged.append(sha)
        if len(rows) < PAGE:
            break
        last = rows[-1]
    bad = set(report.missing) | set(report.damaged)
    awaited: set[str] = set()
    offset = 0
    while True:
        page = session.exec(
            select(Inspection.id, Inspection.photos)
            .order_by(Inspection.id)
            .offset(offset)
            .limit(PAGE)
        ).all()
        offset += len(page)
        for inspection_id, photos in page:
            for photo in photos or []:
                sha = photo.get("sha256", "")
                if sha in bad:
                    report.named_by.setdefault(sha, []).append(str(inspection_id))
                elif sha not in complete:
                    awaited.add(sha)
        if len(page) < PAGE:
            break
    report.awaited = len(awaited)
    report.stale_partials = stale_partials(data_dir, stale_after)
    return report


def stale_partials(data_dir: Path, older_than: float) -> list[tuple[str, float]]:
    folder = partial_dir(data_dir)
    if not folder.is_dir():
        return []
    now = time.time()
    found = []
    for path in sorted(folder.iterdir()):
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > older_than and (is_sha256(path.name) or path.suffix == ".lock"):
            found.append((path.name, age / 3600))
    return found
