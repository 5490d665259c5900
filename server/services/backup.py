"""Backup and restore: the database and the photos in one tar archive.

Decisions:
- The database is copied first, then the photos. Photos are content-addressed and never
  change once complete, so every photo the copied database knows as complete is already on
  disk when the photo walk starts: the archive is consistent without stopping the server.
- SQLite is copied with its online backup API (one read transaction; in WAL mode writers
  carry on), PostgreSQL with `pg_dump -Fc` (a snapshot). The archive restores into the same
  kind of database only: converting between the two is not a backup's job.
- Partial uploads are left out: the phone still holds those photos and sends them again.
- The secret key goes along, so phones stay signed in after a restore to a new box. That
  makes the archive as sensitive as the box itself (it already holds password hashes).
- Restore refuses a database that holds data unless forced, and checks every photo's hash
  before it lands: a damaged archive stops with the photo's name, not a half-restored box.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, inspect, make_url, text

from server.services.blobstore import blob_path, is_sha256

FORMAT = "xunjian-backup"
VERSION = 1
DB_SQLITE = "database.sqlite.gz"
DB_PG = "database.pgdump"
# Tables whose rows mean "someone's data lives here"; `db upgrade` alone fills none of them.
DATA_TABLES = ("user", "area", "service_point", "inspection")


class BackupError(Exception):
    """A backup or restore that cannot go on; `key` names the catalog message (cli.backup.*)."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(f"{key} {params}")


@dataclass(frozen=True)
class Summary:
    database: str
    photos: int
    photo_bytes: int
    schema: list[str]


def _kind(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise BackupError("cli.backup.unsupported_db", backend=name)


def _sqlite_file(url: str) -> Path:
    return Path(make_url(url).database or "").resolve()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore, with the password kept out of the process list."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError("cli.backup.no_tool", tool=cmd[0]) from None
    if done.returncode != 0:
        raise BackupError("cli.backup.tool_failed", tool=cmd[0], output=done.stderr.strip())


def _pg_tool_check(tool: str, engine: Engine) -> None:
    """pg_dump refuses a newer server with a terse line; say what to install instead."""
    path = shutil.which(tool)
    if path is None:
        raise BackupError("cli.backup.no_tool", tool=tool)
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    client = int("".join(c for c in out.stdout.split()[-1].split(".")[0] if c.isdigit()) or 0)
    with engine.connect() as conn:
        server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    if client < server:
        raise BackupError("cli.backup.tool_too_old", tool=tool, client=client, server=server)


def _heads(engine: Engine) -> list[str]:
    from server.migrate import current_revisions

    return sorted(current_revisions(engine))


def _photo_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """Complete photos on disk (partials and temporary files left out), in hash order."""
    root = data_dir / "blobs"
    if not root.is_dir():
        return
    for sub in sorted(root.iterdir()):
        if len(sub.name) != 2 or not sub.is_dir():
            continue
        for path in sorted(sub.iterdir()):
            if is_sha256(path.name) and path.name[:2] == sub.name:
                yield path.name, path


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def backup(engine: Engine, url: str, data_dir: Path, out: Path) -> Summary:
    """Write the archive to `out` (via a temporary file beside it, so a half-written archive
    never carries the final name). The server may keep serving meanwhile."""
    kind = _kind(url)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xunjian-backup-") as tmp:
        if kind == "sqlite":
            db_member, db_file = DB_SQLITE, Path(tmp) / DB_SQLITE
            _sqlite_copy(_sqlite_file(url), db_file)
        else:
            _pg_tool_check("pg_dump", engine)
            db_member, db_file = DB_PG, Path(tmp) / DB_PG
            conn, env = _libpq(url)
            _run(
                ["pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", str(db_file), conn],
                env,
            )
        schema = _heads(engine)
        photos = list(_photo_files(data_dir))
        partial = out.with_name(out.name + ".part")
        photo_bytes = 0
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": datetime.now(UTC).isoformat(),
                "database": kind,
                "schema": schema,
                "photos": len(photos),
            }
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1).encode())
            tar.add(db_file, arcname=db_member)
            secret = data_dir / "secret_key"
            if secret.is_file():
                _add_bytes(tar, "secret_key", secret.read_bytes())
            for sha, path in photos:
                try:
                    tar.add(path, arcname=f"photos/{sha[:2]}/{sha}")
                    photo_bytes += path.stat().st_size
                except FileNotFoundError:  # gone since the walk: `check` would say why
                    continue
        os.replace(partial, out)
    return Summary(kind, len(photos), photo_bytes, schema)


def _sqlite_copy(source: Path, dest_gz: Path) -> None:
    if not source.is_file():
        raise BackupError("cli.backup.no_database", path=source)
    plain = dest_gz.with_suffix("")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(plain)
    try:
        src.backup(dst)  # one step: a single read snapshot, writers are not held up (WAL)
    finally:
        dst.close()
        src.close()
    with open(plain, "rb") as fin, gzip.open(dest_gz, "wb", compresslevel=6) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    plain.unlink()


def has_data(engine: Engine) -> bool:
    """Does the database hold anyone's data (beyond what `db upgrade` installs)?"""
    names = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in DATA_TABLES:
            if table in names and conn.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first():
                return True
    return False


def read_manifest(archive: Path) -> dict:
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.next()
            if member is None or member.name != "manifest.json":
                raise BackupError("cli.backup.not_archive", path=archive)
            fh = tar.extractfile(member)
            manifest = json.loads(fh.read()) if fh else {}
    except (OSError, tarfile.TarError, ValueError):
        raise BackupError("cli.backup.not_archive", path=archive) from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError("cli.backup.not_archive", path=archive)
    return manifest


def restore(
    engine: Engine, url: str, data_dir: Path, archive: Path, *, force: bool = False
) -> Summary:
    """Put an archive back: photos first (extra photos harm nothing), then the database in
    one step. Stop the server first: the database is replaced under it."""
    manifest = read_manifest(archive)
    kind = _kind(url)
    if manifest["database"] != kind:
        raise BackupError("cli.backup.wrong_kind", archive=manifest["database"], target=kind)
    if not force and _target_has_data(engine, url, kind):
        raise BackupError("cli.backup.not_empty")
    photos = photo_bytes = 0
    secret: bytes | None = None
    with tempfile.TemporaryDirectory(prefix="xunjian-restore-") as tmp:
        db_file: Path | None = None
        with tarfile.open(archive, "r") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                if member.name in (DB_SQLITE, DB_PG):
                    db_file = Path(tmp) / member.name
                    _copy_member(tar, member, db_file)
                elif member.name == "secret_key":
                    fh = tar.extractfile(member)
                    secret = fh.read() if fh else None
                elif member.name.startswith("photos/"):
                    photo_bytes += _restore_photo(tar, member, data_dir)
                    photos += 1
        if db_file is None:
            raise BackupError("cli.backup.not_archive", path=archive)
        if secret is not None:
            _restore_secret(data_dir, secret, force)
        if kind == "sqlite":
            _sqlite_put(db_file, _sqlite_file(url), engine)
        else:
            _pg_put(db_file, url, engine)
    return Summary(kind, photos, photo_bytes, list(manifest.get("schema", [])))


def _target_has_data(engine: Engine, url: str, kind: str) -> bool:
    if kind == "sqlite" and not _sqlite_file(url).exists():
        return False
    return has_data(engine)


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path) -> None:
    fh = tar.extractfile(member)
    if fh is None:
        raise BackupError("cli.backup.damaged", name=member.name)
    with open(dest, "wb") as out:
        shutil.copyfileobj(fh, out, 1 << 20)


def _restore_photo(tar: tarfile.TarFile, member: tarfile.TarInfo, data_dir: Path) -> int:
    """One photo, its hash checked before it takes its place. The path comes from the hash,
    never from the member's name, so a crafted archive cannot write outside the store."""
    sha = member.name.rsplit("/", 1)[-1]
    if not is_sha256(sha):
        raise BackupError("cli.backup.damaged", name=member.name)
    final = blob_path(data_dir, sha)
    final.parent.mkdir(parents=True, exist_ok=True)
    fh = tar.extractfile(member)
    if fh is None:
        raise BackupError("cli.backup.damaged", name=member.name)
    tmp = final.with_name(final.name + ".restore")
    h = hashlib.sha256()
    size = 0
    with open(tmp, "wb") as out:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    if h.hexdigest() != sha:
        tmp.unlink()
        raise BackupError("cli.backup.damaged", name=member.name)
    os.replace(tmp, final)
    return size


def _restore_secret(data_dir: Path, secret: bytes, force: bool) -> None:
    path = data_dir / "secret_key"
    if path.exists() and path.read_bytes() != secret and not force:
        raise BackupError("cli.backup.secret_differs", path=path)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("secret_key.restore")
    tmp.write_bytes(secret)
    tmp.chmod(0o600)
    os.replace(tmp, path)


def _sqlite_put(db_gz: Path, target: Path, engine: Engine) -> None:
    engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".restore")
    with gzip.open(db_gz, "rb") as fin, open(tmp, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    try:
        check = sqlite3.connect(tmp)
        ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
    except sqlite3.DatabaseError:
        ok = False
    if not ok:
        tmp.unlink()
        raise BackupError("cli.backup.damaged", name=DB_SQLITE)
    # The old log must not be replayed onto the new file.
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)


def _pg_put(dump: Path, url: str, engine: Engine) -> None:
    """Empty the public schema and load the dump in one transaction: a failure leaves the
    schema empty, never half loaded."""
    _pg_tool_check("pg_restore", engine)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    conn_str, env = _libpq(url)
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            conn_str,
            str(dump),
        ],
        env,
    )
