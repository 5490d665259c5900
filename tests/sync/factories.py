"""Small builders for protocol messages used by the sync tests."""

from __future__ import annotations

import hashlib
import uuid


def inspection(rid: str | None = None, **over) -> dict:
    rec = {
        "id": rid or str(uuid.uuid4()),
        "point_code": "610424101201",
        "template_key": "village_point",
        "template_version": 1,
        "cycle_id": None,
        "status": "draft",
        "answers": {},
        "photos": [],
        "gps": None,
        "notes": "",
        "started_at": "2024-11-26T08:00:00+08:00",
        "submitted_at": None,
        "device_id": "d-test",
    }
    rec.update(over)
    return rec


JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def photo_bytes(body: bytes) -> bytes:
    """Bytes the server's sniffing takes for a JPEG (its magic, then ``body``)."""
    return JPEG_HEAD + body


def photo(content: bytes, item: str = "signboard") -> dict:
    return {
        "sha256": hashlib.sha256(content).hexdigest(),
        "item": item,
        "size": len(content),
        "mime": "image/jpeg",
        "taken_at": "2024-11-26T08:05:00+08:00",
    }


def op(data: dict, base_rev: int = 0, hlc: str = "0001732600000000:0000:d-test", **over) -> dict:
    out = {
        "op_id": str(uuid.uuid4()),
        "type": "inspection.put",
        "record_id": data["id"],
        "base_rev": base_rev,
        "hlc": hlc,
        "data": data,
    }
    out.update(over)
    return out


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()
