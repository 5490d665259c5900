"""Shared by the sync benches: a demo database, full-checklist inspections, a live server."""

from __future__ import annotations

import hashlib
import json
import random
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.db import session_scope  # noqa: E402
from server.domain.templates import load_builtin_templates  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.services.demo import build_demo  # noqa: E402
from server.services.demo_answers import answers_for  # noqa: E402
from server.settings import Settings  # noqa: E402

PASSWORD = "bench-pass-2026"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fake_photos(rng: random.Random, n: int = 3) -> dict[str, list[str]]:
    """Unique hashes per inspection, as real photos have (repeats would flatter gzip)."""
    kinds = ("sign", "rules", "shelves", "register", "activity")
    return {k: [hashlib.sha256(rng.randbytes(16)).hexdigest() for _ in range(n)] for k in kinds}


def full_record(
    rng: random.Random, point_code: str, device: str, cycle_id: int | None = None
) -> dict:
    """An inspection answering the whole default village checklist, as a phone sends it (the
    field app names the cycle it was made in: `cycle_id`)."""
    content = load_builtin_templates()["village_point"]
    answers, photos = answers_for(content, rng.random(), rng, fake_photos(rng))
    now = datetime.now(UTC).isoformat()
    return {
        "id": str(uuid.uuid4()),
        "point_code": point_code,
        "template_key": "village_point",
        "template_version": 1,
        "cycle_id": cycle_id,
        "status": "submitted",
        "answers": answers,
        "photos": [
            {**p, "size": p.get("size", 204800), "mime": "image/jpeg", "taken_at": now}
            for p in photos
        ],
        "gps": {"lat": 34.6, "lon": 108.2, "accuracy": 12.0, "at": now},
        "notes": "",
        "started_at": now,
        "submitted_at": now,
        "device_id": device,
    }


def new_database(kind: str) -> tuple[str, object]:
    """A migrated database with the demo loaded; returns (url, cleanup)."""
    if kind == "sqlite":
        d = tempfile.mkdtemp(prefix="xj-bench-")
        url = f"sqlite:///{d}/bench.db"
        cleanup = lambda: None  # noqa: E731
    else:
        from sqlalchemy import create_engine, text

        name = f"xj_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.rsplit("/", 1)[0] + "/" + name

        def cleanup() -> None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    upgrade(url)
    return url, cleanup


def settings_for(url: str, **over) -> Settings:
    data = tempfile.mkdtemp(prefix="xj-bench-data-")
    return Settings.from_env(
        env={},
        database_url=url,
        data_dir=data,
        secret_key="bench-secret-key-not-a-placeholder",
        **over,
    )


def load_demo(engine, settings: Settings) -> None:
    with session_scope(engine, write=True) as s:
        build_demo(s, settings.data_path, password=PASSWORD)


def canonical(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
