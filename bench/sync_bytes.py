"""Bytes per inspection on the wire (gzipped), against the same answers as an ODK-style
XForm XML submission.

    .venv/bin/python bench/sync_bytes.py
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from xml.sax.saxutils import escape

from sync_common import canonical, full_record

from server.domain.templates import load_builtin_templates


def xform(rec: dict, content: dict) -> bytes:
    """What ODK Collect would POST as the submission's XML part (photos as file names)."""
    out = [
        f'<?xml version="1.0"?><data xmlns:jr="http://openrosa.org/javarosa" '
        f'id="{content["key"]}" version="{rec["template_version"]}">'
    ]
    photos: dict[str, list[str]] = {}
    for p in rec["photos"]:
        photos.setdefault(p["item"], []).append(p["sha256"][:12] + ".jpg")
    out.append(f"<point_code>{rec['point_code']}</point_code>")
    for section in content["sections"]:
        out.append(f"<{section['key']}>")
        for item in section["items"]:
            key, value = item["key"], rec["answers"].get(item["key"])
            if item["type"] == "weekly_hours" and isinstance(value, dict):
                text = " ".join(f"{d}:{'-'.join(r)}" for d, rs in value.items() for r in rs)
            elif isinstance(value, bool):
                text = "yes" if value else "no"
            elif isinstance(value, list):
                text = " ".join(value)
            else:
                text = "" if value is None else str(value)
            out.append(f"<{key}>{escape(text)}</{key}>")
            for n, name in enumerate(photos.get(key, [])):
                out.append(f"<{key}_photo_{n + 1}>{name}</{key}_photo_{n + 1}>")
        out.append(f"</{section['key']}>")
    g = rec["gps"]
    out.append(f"<gps>{g['lat']} {g['lon']} 0 {g['accuracy']}</gps>")
    out.append(f"<start>{rec['started_at']}</start><end>{rec['submitted_at']}</end>")
    out.append(f"<meta><instanceID>uuid:{rec['id']}</instanceID></meta></data>")
    return "".join(out).encode()


def op(rec: dict) -> dict:
    return {
        "op_id": str(uuid.uuid4()),
        "type": "inspection.put",
        "record_id": rec["id"],
        "base_rev": 0,
        "hlc": "0001764144000000:0000:d-7f3a9c01",
        "data": rec,
    }


def main() -> None:
    rng = random.Random(3)
    content = load_builtin_templates()["village_point"]
    recs = [full_record(rng, f"610424{101201 + i}", "d-7f3a9c01") for i in range(30)]
    one = canonical(
        {"protocol": 1, "device_id": "d-7f3a9c01", "cursor": None, "ops": [op(recs[0])]}
    )
    day = canonical(
        {"protocol": 1, "device_id": "d-7f3a9c01", "cursor": None, "ops": [op(r) for r in recs]}
    )
    xml = [xform(r, content) for r in recs]
    xml_raw = sum(len(x) for x in xml) / len(xml)
    xml_gz = sum(len(gzip.compress(x)) for x in xml) / len(xml)
    photos = sum(len(r["photos"]) for r in recs) / len(recs)
    ack = canonical(
        {
            "acks": [
                {
                    "op_id": str(uuid.uuid4()),
                    "status": "applied",
                    "record_id": recs[0]["id"],
                    "rev": 1,
                }
            ]
        }
    )
    print(f"answers per inspection: {len(recs[0]['answers'])}, photo refs: {photos:.1f}")
    print(f"xunjian, 1 op per request : {len(one):6d} B raw, {len(gzip.compress(one)):6d} B gzip")
    print(
        f"xunjian, 30 ops in a batch: {len(day) / 30:8.0f} B raw, "
        f"{len(gzip.compress(day)) / 30:8.0f} B gzip per inspection"
    )
    print(f"ack per op (in response)  : {len(ack):6d} B raw")
    print(f"ODK-style XForm XML       : {xml_raw:8.0f} B raw, {xml_gz:8.0f} B gzip per inspection")
    print(f"ratio (xunjian batch gzip / XForm gzip): {len(gzip.compress(day)) / 30 / xml_gz:.2f}")
    print(
        json.dumps(
            {
                "one_gz": len(gzip.compress(one)),
                "batch_gz_per": len(gzip.compress(day)) / 30,
                "xml_gz": xml_gz,
                "xml_raw": xml_raw,
            }
        )
    )


if __name__ == "__main__":
    main()
