"""`xunjian backup`, `restore` and `check`, on both databases: the round trip gives the same
rows and the same photo bytes, a writer is not held up, and check names what is wrong."""

from __future__ import annotations

import os
import tarfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text

from server.cli import main
from server.db import make_engine
from server.services.blobstore import blob_path, partial_path
from tests.conftest import PG_ADMIN_URL


@pytest.fixture
def target_url(db_url, tmp_path):
    """A second database of the same kind that does not exist yet (SQLite) or is empty."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'xunjian.db'}"
        return
    name = f"xj_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(url: str, data: Path, *argv: str, monkeypatch) -> int:
    monkeypatch.setenv("XUNJIAN_DATA_DIR", str(data))
    return main(["--lang", "en", "--database-url", url, *argv])


def table_rows(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            rows = conn.execute(select(table)).all()
            out[name] = sorted((tuple(map(repr, r)) for r in rows), key=repr)
    engine.dispose()
    return out


def photo_files(data: Path) -> dict[str, bytes]:
    root = data / "blobs"
    return {p.name: p.read_bytes() for p in root.glob("??/*") if p.is_file() and len(p.name) == 64}


def test_round_trip_gives_identical_rows_and_photos(
    db_url, engine, demo, settings, target_url, tmp_path, monkeypatch, capsys
):
    source_data = settings.data_path
    source_data.mkdir(parents=True, exist_ok=True)
    (source_data / "secret_key").write_text("generated-on-first-run")  # as a server makes it
    # a partial upload in flight: the phone still holds it, the archive leaves it out
    part = partial_path(source_data, "ab" * 32)
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"half a photo")
    archive = tmp_path / "backups" / "county.tar"

    assert run(db_url, source_data, "backup", "-o", str(archive), monkeypatch=monkeypatch) == 0
    assert "Backup written" in capsys.readouterr().out
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json"
    assert not any("partial" in n for n in names)
    assert not archive.with_name("county.tar.part").exists()

    target_data = tmp_path / "restored-data"
    assert run(target_url, target_data, "restore", str(archive), monkeypatch=monkeypatch) == 0
    assert "Restored" in capsys.readouterr().out

    source_photos = photo_files(source_data)
    assert len(source_photos) >= 10  # the demo's photos
    assert photo_files(target_data) == source_photos
    assert (target_data / "secret_key").read_bytes() == (source_data / "secret_key").read_bytes()
    before, after = table_rows(db_url), table_rows(target_url)
    assert before["inspection"] and before["blob"] and before["user"]
    assert after == before

    # the restored box works: sequences carried over, so a new row gets a fresh id
    assert run(target_url, target_data, "check", monkeypatch=monkeypatch) == 0
    code = run(
        target_url,
        target_data,
        "user",
        "add",
        "newcomer",
        "--name",
        "新人",
        "--area",
        "610424",
        "--password",
        "pw-restored-1",
        monkeypatch=monkeypatch,
    )
    assert code == 0

    # a database that holds data is not overwritten unless asked
    capsys.readouterr()
    assert run(target_url, target_data, "restore", str(archive), monkeypatch=monkeypatch) == 1
    assert "--force" in capsys.readouterr().err
    assert table_rows(target_url)["user"] != before["user"]  # newcomer still there
    args = ("restore", str(archive), "--force")
    assert run(target_url, target_data, *args, monkeypatch=monkeypatch) == 0
    assert table_rows(target_url) == before


def test_backup_does_not_wait_for_a_writer_and_leaves_out_uncommitted_rows(
    db_url, engine, demo, settings, target_url, tmp_path, monkeypatch
):
    archive = tmp_path / "busy.tar"
    with engine.connect() as writer:
        writer.execute(text("UPDATE area SET name = 'uncommitted' WHERE code = '610424'"))
        # the write transaction stays open while the backup runs
        code = run(
            db_url, settings.data_path, "backup", "-o", str(archive), monkeypatch=monkeypatch
        )
        writer.commit()
    assert code == 0
    assert run(target_url, tmp_path / "d2", "restore", str(archive), monkeypatch=monkeypatch) == 0
    eng = make_engine(target_url)
    with eng.connect() as conn:
        name = conn.execute(text("SELECT name FROM area WHERE code = '610424'")).scalar_one()
    eng.dispose()
    assert name == "乾县"


def test_restore_refuses_a_damaged_archive_and_another_kind(
    db_url, engine, demo, settings, target_url, tmp_path, monkeypatch, capsys
):
    archive = tmp_path / "a.tar"
    assert (
        run(db_url, settings.data_path, "backup", "-o", str(archive), monkeypatch=monkeypatch) == 0
    )
    # flip one byte of the first photo inside the archive
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("photos/"))
    with open(archive, "r+b") as fh:
        fh.seek(member.offset_data + 10)
        byte = fh.read(1)
        fh.seek(member.offset_data + 10)
        fh.write(bytes([byte[0] ^ 0xFF]))
    capsys.readouterr()
    assert run(target_url, tmp_path / "d", "restore", str(archive), monkeypatch=monkeypatch) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and member.name in err
    if target_url.startswith("sqlite"):
        assert not Path(target_url.removeprefix("sqlite:///")).exists()  # nothing replaced

    if db_url.startswith("postgres"):  # a PostgreSQL archive does not go into SQLite
        good = tmp_path / "b.tar"
        assert (
            run(db_url, settings.data_path, "backup", "-o", str(good), monkeypatch=monkeypatch) == 0
        )
        capsys.readouterr()
        other = f"sqlite:///{tmp_path / 'other.db'}"
        assert run(other, tmp_path / "d3", "restore", str(good), monkeypatch=monkeypatch) == 1
        assert "same kind" in capsys.readouterr().err

    (tmp_path / "junk.tar").write_bytes(b"not a tar at all")
    assert (
        run(db_url, tmp_path / "d4", "restore", str(tmp_path / "junk.tar"), monkeypatch=monkeypatch)
        == 1
    )
    assert "not a Xunjian backup" in capsys.readouterr().err


def test_check_lists_missing_and_damaged_photos_and_stale_uploads(
    db_url, engine, demo, settings, monkeypatch, capsys
):
    data = settings.data_path
    assert run(db_url, data, "check", monkeypatch=monkeypatch) == 0
    assert "0 missing, 0 damaged, 0 stale" in capsys.readouterr().out

    shas = sorted(photo_files(data))
    gone, broken = shas[0], shas[1]
    blob_path(data, gone).unlink()
    with open(blob_path(data, broken), "ab") as fh:
        fh.write(b"x")
    fresh = partial_path(data, "cd" * 32)
    stale = partial_path(data, "ef" * 32)
    fresh.parent.mkdir(parents=True, exist_ok=True)
    fresh.write_bytes(b"arriving")
    stale.write_bytes(b"abandoned")
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))

    assert run(db_url, data, "check", monkeypatch=monkeypatch) == 1
    out = capsys.readouterr()
    assert f"MISSING  photo {gone}" in out.err
    assert f"DAMAGED  photo {broken}" in out.err
    assert f"STALE    partial upload {'ef' * 32}" in out.err
    assert "cd" * 32 not in out.err
    assert "1 missing, 1 damaged, 1 stale" in out.out
    # the listing names the inspections that lose evidence
    eng = make_engine(db_url)
    with eng.connect() as conn:
        ids = [
            str(r[0])
            for r in conn.execute(text("SELECT id, photos FROM inspection"))
            if gone in str(r[1])
        ]
    eng.dispose()
    assert ids and all(i in out.err for i in ids)
