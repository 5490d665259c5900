"""Shape of the inspection record carried in ``inspection.put`` ops (see architecture.md).

This checks only the shape every client must get right. Whether a point exists, is in the
inspector's scope, or whether an answer fits its checklist item is the server's business
(``server.domain``); those faults quarantine the op rather than refuse the request.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sync.errors import MessageError

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
STATUSES = ("draft", "submitted")
IDENTITY_FIELDS = ("point_code", "template_key", "template_version", "cycle_id", "device_id")
REQUIRED = ("id", "point_code", "template_key", "template_version", "status", "answers")
KNOWN = set(REQUIRED) | {
    "cycle_id",
    "photos",
    "gps",
    "notes",
    "started_at",
    "submitted_at",
    "device_id",
    "rev",
}
# Limits the validation below enforces; server/openapi.py publishes the same numbers.
MAX_NOTES = 10_000
MAX_ANSWERS = 500
MAX_PHOTOS = 200
MAX_RECORD_ID = 36  # a UUID
MAX_CODE = 32  # point_code, template_key
MAX_DEVICE_ID = 64
GPS_RANGES = (("lat", -90, 90), ("lon", -180, 180))
MAX_INT = 2**31 - 1  # ids, versions and revisions: a database integer on every backend
MAX_PHOTO_SIZE = 1 << 30  # far above any server's upload limit, far below absurd
MAX_ACCURACY_M = 1_000_000


def _iso(value: Any, path: str, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str):
        raise MessageError(path, "must be an ISO 8601 date-time string")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MessageError(path, "must be an ISO 8601 date-time string") from None


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _photo(p: Any, path: str) -> None:
    if not isinstance(p, dict):
        raise MessageError(path, "must be an object")
    sha = p.get("sha256")
    if not isinstance(sha, str) or not SHA256_RE.match(sha):
        raise MessageError(f"{path}.sha256", "must be 64 lowercase hex digits")
    if not isinstance(p.get("item"), str) or not p["item"]:
        raise MessageError(f"{path}.item", "must name a checklist item")
    size = p.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_PHOTO_SIZE:
        raise MessageError(
            f"{path}.size", f"must be a positive integer of at most {MAX_PHOTO_SIZE} (bytes)"
        )
    if not isinstance(p.get("mime"), str) or not p["mime"].startswith("image/"):
        raise MessageError(f"{path}.mime", "must be an image/* type")
    if "taken_at" in p:
        _iso(p["taken_at"], f"{path}.taken_at", nullable=True)


def _gps(g: Any, path: str) -> None:
    if g is None:
        return
    if not isinstance(g, dict):
        raise MessageError(path, "must be null or an object")
    for key, lo, hi in GPS_RANGES:
        if not _num(g.get(key)) or not lo <= g[key] <= hi:
            raise MessageError(f"{path}.{key}", f"must be a number in [{lo}, {hi}]")
    acc = g.get("accuracy")
    if acc is not None and (not _num(acc) or not 0 <= acc <= MAX_ACCURACY_M):
        raise MessageError(f"{path}.accuracy", f"must be a number in [0, {MAX_ACCURACY_M}]")
    if "at" in g:
        _iso(g["at"], f"{path}.at", nullable=True)


def validate_inspection(d: dict, path: str = "data.") -> None:
    """Raise MessageError naming the first field whose shape is wrong."""
    for key in REQUIRED:
        if key not in d:
            raise MessageError(f"{path}{key}", "is required")
    extra = sorted(set(d) - KNOWN)
    if extra:
        raise MessageError(f"{path}{extra[0]}", "is not a field of an inspection")
    if not isinstance(d["id"], str) or not 0 < len(d["id"]) <= MAX_RECORD_ID:
        raise MessageError(
            f"{path}id", f"must be a string of 1-{MAX_RECORD_ID} characters (a UUID)"
        )
    for key in ("point_code", "template_key"):
        if not isinstance(d[key], str) or not 0 < len(d[key]) <= MAX_CODE:
            raise MessageError(f"{path}{key}", f"must be a string of 1-{MAX_CODE} characters")
    tv = d["template_version"]
    if not isinstance(tv, int) or isinstance(tv, bool) or not 1 <= tv <= MAX_INT:
        raise MessageError(f"{path}template_version", f"must be an integer in [1, {MAX_INT}]")
    cyc = d.get("cycle_id")
    if cyc is not None and (
        not isinstance(cyc, int) or isinstance(cyc, bool) or abs(cyc) > MAX_INT
    ):
        raise MessageError(f"{path}cycle_id", "must be null or an integer")
    if d["status"] not in STATUSES:
        raise MessageError(f"{path}status", "must be draft or submitted")
    answers = d["answers"]
    if not isinstance(answers, dict):
        raise MessageError(f"{path}answers", "must be an object keyed by item")
    if len(answers) > MAX_ANSWERS:
        raise MessageError(f"{path}answers", f"at most {MAX_ANSWERS} items")
    photos = d.get("photos", [])
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS:
        raise MessageError(f"{path}photos", f"must be a list of at most {MAX_PHOTOS}")
    for i, p in enumerate(photos):
        _photo(p, f"{path}photos[{i}]")
    _gps(d.get("gps"), f"{path}gps")
    notes = d.get("notes", "")
    if not isinstance(notes, str) or len(notes) > MAX_NOTES:
        raise MessageError(f"{path}notes", f"must be text of at most {MAX_NOTES} characters")
    if "started_at" in d:
        _iso(d["started_at"], f"{path}started_at", nullable=True)
    _iso(d.get("submitted_at"), f"{path}submitted_at", nullable=True)
    if d["status"] == "submitted" and d.get("submitted_at") is None:
        raise MessageError(f"{path}submitted_at", "is required once status is submitted")
    dev = d.get("device_id")
    if dev is not None and (not isinstance(dev, str) or len(dev) > MAX_DEVICE_ID):
        raise MessageError(
            f"{path}device_id", f"must be a string of at most {MAX_DEVICE_ID} characters"
        )


def normalize(d: dict) -> dict:
    """The record with every optional field present, so equal records compare equal."""
    out = {
        "id": d["id"],
        "point_code": d["point_code"],
        "template_key": d["template_key"],
        "template_version": d["template_version"],
        "cycle_id": d.get("cycle_id"),
        "status": d["status"],
        # a null answer is no answer: dropping it keeps "cleared" and "never set" equal
        "answers": {k: v for k, v in (d.get("answers") or {}).items() if v is not None},
        "photos": sorted(
            (dict(p) for p in d.get("photos") or []), key=lambda p: (p["item"], p["sha256"])
        ),
        "gps": d.get("gps"),
        "notes": d.get("notes") or "",
        "started_at": d.get("started_at"),
        "submitted_at": d.get("submitted_at"),
        "device_id": d.get("device_id"),
    }
    return out
