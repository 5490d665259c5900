"""Partial uploads leave nothing behind: no lock files, and an abandoned partial upload is
swept after XUNJIAN_PARTIAL_UPLOAD_HOURS (issue 7, "leftovers")."""

from __future__ import annotations

import os
import time

from server import maintenance
from server.services.blobstore import partial_dir, partial_lock, partial_path
from server.settings import Settings


def _aged(path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_sweep_removes_old_partials_and_old_lock_files_only(tmp_path):
    settings = Settings.from_env(env={}, data_dir=str(tmp_path), partial_upload_hours=12)
    folder = partial_dir(tmp_path)
    folder.mkdir(parents=True)
    old, fresh, held = "a" * 64, "b" * 64, "c" * 64
    for sha, hours in ((old, 13), (fresh, 1), (held, 30)):
        partial_path(tmp_path, sha).write_bytes(b"x" * 10)
        _aged(partial_path(tmp_path, sha), hours)
    leftover = folder / (old + ".lock")  # what older versions left after every upload
    leftover.touch()
    _aged(leftover, 13)
    fd = partial_lock(partial_path(tmp_path, held))  # an upload is writing this one now
    assert fd is not None
    try:
        assert sorted(maintenance.sweep_once(settings)) == sorted([old, old + ".lock"])
    finally:
        os.close(fd)
    assert sorted(p.name for p in folder.iterdir()) == sorted([fresh, held])


def test_a_partial_lock_is_refused_while_held_and_follows_the_file(tmp_path):
    path = partial_path(tmp_path, "d" * 64)
    first = partial_lock(path)
    assert first is not None and partial_lock(path) is None
    os.write(first, b"half")
    path.unlink()  # the holder finished (moved it away) or discarded it
    os.close(first)
    second = partial_lock(path)
    assert second is not None and os.fstat(second).st_size == 0, "a fresh file, not the old one"
    os.close(second)
    assert [p.name for p in path.parent.iterdir()] == ["d" * 64]
