"""`missing_blobs` in the sync reply: bounded, oldest records' photos first, and a device that
uploads what it is asked for is eventually asked for every photo."""

from __future__ import annotations

import hashlib

import server.services.sync_round as sync_round
from tests.api.helpers import login, op, record, submitted, sync, village
from tests.api.test_api_blobs import _photo, _put
from tests.sync.factories import photo_bytes


def test_a_backlog_is_asked_for_in_bounded_slices_oldest_first(client, demo, engine, monkeypatch):
    monkeypatch.setattr(sync_round, "MAX_MISSING", 5)
    monkeypatch.setattr(sync_round, "MISSING_PAGE", 2)
    h = login(client)
    code, version = village(engine)
    photos: dict[str, bytes] = {}
    order: list[set[str]] = []
    for n in range(6):
        datas = [photo_bytes(f"photo {n}-{i}".encode() * 50) for i in range(3)]
        photos.update({hashlib.sha256(d).hexdigest(): d for d in datas})
        order.append({hashlib.sha256(d).hexdigest() for d in datas})
        rec = submitted(record(code, version, photos=[_photo(d) for d in datas]))
        sync(client, h, op(rec))  # one request each: records created one after another

    asked: list[list[str]] = []
    while True:
        wanted = sync(client, h)["missing_blobs"]
        if not wanted:
            break
        assert len(wanted) <= 5 and wanted == sorted(wanted)
        asked.append(wanted)
        for sha in wanted:
            data = photos[sha]
            assert _put(client, h, sha, data, 0, len(data)).json()["complete"]
        assert len(asked) < 10
    assert sorted(s for part in asked for s in part) == sorted(photos)
    assert set(asked[0]) <= order[0] | order[1], "the oldest records' photos come first"


def test_the_limit_cuts_by_age_not_by_hash(client, demo, engine, monkeypatch):
    """The page that crosses the limit holds older and newer records: the older ones' photos
    are the ones kept."""
    monkeypatch.setattr(sync_round, "MAX_MISSING", 4)
    monkeypatch.setattr(sync_round, "MISSING_PAGE", 2)
    h = login(client)
    code, version = village(engine)
    order: list[set[str]] = []
    for n in range(2):
        datas = [f"cut {n}-{i}".encode() * 50 for i in range(3)]  # by hash, a newer one sorts first
        order.append({hashlib.sha256(d).hexdigest() for d in datas})
        sync(client, h, op(submitted(record(code, version, photos=[_photo(d) for d in datas]))))
    wanted = sync(client, h)["missing_blobs"]
    assert len(wanted) == 4 and wanted == sorted(wanted)
    assert order[0] <= set(wanted) and len(set(wanted) & order[1]) == 1
