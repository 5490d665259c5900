"""The reference client against the in-memory server: outbox, replay, auth, photos."""

from __future__ import annotations

import time

import pytest

from sync.client import AuthRequired, Client, SyncFailed
from tests.sync.factories import inspection, photo, sha
from tests.sync.memserver import MemServer


@pytest.fixture
def server():
    return MemServer()


@pytest.fixture
def client(tmp_path, server):
    c = Client(str(tmp_path / "phone.db"), server, "d-a", sleep=lambda s: None, rng=lambda: 0.5)
    c.login("u", "p")
    yield c
    c.close()


def test_offline_edits_fold_into_one_op(client, server):
    rec = inspection("r1", device_id="d-a")
    client.save_inspection(rec)
    client.save_inspection({**rec, "answers": {"a": 1}})
    assert client.pending_count() == 1
    report = client.sync()
    assert report.acks == {"applied": 1}
    assert server.repo.records["r1"].data["answers"] == {"a": 1}
    assert client.pending_count() == 0


def test_lost_response_is_replayed_exactly_once(client, server):
    client.save_inspection(inspection("r1", device_id="d-a", answers={"a": 1}))
    server.fail_next = ["drop_response", "drop_request"]
    client.sync()
    assert server.repo.records["r1"].rev == 1
    assert len(server.repo.acks) == 1
    assert client.store.record("inspections", "r1")[1] == 1


def test_a_sync_reply_cut_to_an_empty_body_is_retried(client, server):
    """Applied, and a 200 came through, but not its body (a cut link or a dying server: the
    fault test saw it with the headers cut mid-line). Sending the same batch again is safe."""
    client.save_inspection(inspection("r1", device_id="d-a", answers={"a": 1}))
    server.fail_next = ["empty_body"]
    report = client.sync()
    assert report.acks == {"applied": 1}
    assert server.repo.records["r1"].rev == 1 and len(server.repo.acks) == 1
    assert client.pending_count() == 0


def test_edit_while_in_flight_chains_to_the_first_op(client, server, tmp_path):
    rec = inspection("r1", device_id="d-a", answers={"a": 1})
    client.save_inspection(rec)
    server.fail_next = ["drop_response"] * 8
    with pytest.raises(SyncFailed):
        client.sync()
    client.save_inspection({**rec, "answers": {"a": 2}})
    assert client.pending_count() == 2
    client.sync()
    cur = server.repo.records["r1"]
    assert (cur.rev, cur.data["answers"]) == (2, {"a": 2})
    assert not server.repo.conflicts


def test_401_keeps_the_outbox(client, server):
    client.save_inspection(inspection("r1", device_id="d-a"))
    server.tokens.clear()
    with pytest.raises(AuthRequired) as err:
        client.sync()
    assert err.value.code == "token_revoked"
    assert client.pending_count() == 1
    server.tokens.add("good-token")
    client.login("u", "p")
    client.sync()
    assert client.pending_count() == 0


def test_retries_5xx_then_succeeds(client, server):
    client.save_inspection(inspection("r1", device_id="d-a"))
    server.fail_next = [503, 500]
    client.sync()
    assert "r1" in server.repo.records


def test_pull_pages_until_more_is_false(tmp_path):
    server = MemServer(page=2)
    writer = Client(str(tmp_path / "w.db"), server, "d-w", sleep=lambda s: None)
    writer.login("u", "p")
    for i in range(5):
        writer.save_inspection(inspection(f"r{i}", device_id="d-w"))
    writer.sync()
    reader = Client(str(tmp_path / "r.db"), server, "d-r", sleep=lambda s: None)
    reader.login("u", "p")
    report = reader.sync()
    assert report.rounds == 3
    assert len(reader.store.records("inspections")) == 5


def test_photo_upload_resumes_after_a_cut(client, server):
    content = bytes(range(256)) * 3
    sha = client.add_photo(content)
    client.blob_chunk = 100
    client.save_inspection(inspection("r1", device_id="d-a", photos=[photo(content)]))
    server.fail_next = [None, None, None, None, "drop_response"]
    report = client.sync()
    assert report.blobs_uploaded == 1
    assert bytes(server.blobs[sha]) == content and sha in server.done


def test_a_photo_reply_cut_to_an_empty_body_is_retried(client, server):
    content = bytes(range(256)) * 3
    sha = client.add_photo(content)
    client.blob_chunk = 100
    client.save_inspection(inspection("r1", device_id="d-a", photos=[photo(content)]))
    server.fail_next = [None, "empty_body"]  # the sync is answered, the first PUT's reply not
    report = client.sync()
    assert report.blobs_uploaded == 1
    assert bytes(server.blobs[sha]) == content and sha in server.done


def test_photo_over_the_limit_is_refused_not_retried(client, server):
    content = b"x" * 2000
    sha = client.add_photo(content)
    client.save_inspection(inspection("r1", device_id="d-a", photos=[photo(content)]))
    report = client.sync()
    assert report.blobs_refused == [sha]
    assert client.store.blob(sha)[2] == "refused"


def test_photo_that_is_no_photo_is_refused_not_retried(client, server):
    content = b"<svg/>"
    sha = client.add_photo(content, "image/svg+xml")
    client.save_inspection(inspection("r1", device_id="d-a", photos=[photo(content)]))
    server.fail_next = [None, 415]  # the sync goes through; the server refuses the type
    report = client.sync()
    assert report.blobs_refused == [sha] and client.store.blob(sha)[2] == "refused"
    client.sync()
    assert [p for _, p in server.requests].count(f"/api/blobs/{sha}") == 1


class _SlowBlobs(MemServer):
    """Answers photo PUTs after a pause outside the lock, counting how many overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = self.most = 0

    def request(self, method, path, headers, body):
        if method != "PUT":
            return super().request(method, path, headers, body)
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(0.05)
        try:
            return super().request(method, path, headers, body)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.mark.parametrize("workers", [1, 3])
def test_photos_upload_a_bounded_few_at_a_time(tmp_path, workers):
    server = _SlowBlobs()
    c = Client(str(tmp_path / "p.db"), server, "d-a", sleep=lambda s: None, upload_workers=workers)
    c.login("u", "p")
    contents = [bytes([i]) * 300 for i in range(7)]
    for content in contents:
        c.add_photo(content)
    c.save_inspection(inspection("r1", device_id="d-a", photos=[photo(x) for x in contents]))
    report = c.sync()
    assert report.blobs_uploaded == 7 and server.most == workers
    assert {bytes(server.blobs[sha(x)]) for x in contents} == set(contents)
    assert all(c.store.blob(sha(x))[2] == "uploaded" for x in contents)
    c.close()


def test_one_photo_that_cannot_finish_stops_the_sync_and_keeps_the_rest(client, server):
    good, bad = b"g" * 300, b"b" * 300
    for content in (good, bad):
        client.add_photo(content)
    client.save_inspection(inspection("r1", device_id="d-a", photos=[photo(good), photo(bad)]))
    server.blobs[sha(bad)] = bytearray(b"x" * 300)  # a wrong copy the server keeps finding
    server.done.discard(sha(bad))
    with pytest.raises(SyncFailed):
        client.sync()
    assert sha(good) in server.done and client.store.blob(sha(good))[2] == "uploaded"
    assert client.store.blob(sha(bad))[2] == "trying"


def test_state_survives_reopen(tmp_path, server):
    path = str(tmp_path / "phone.db")
    c = Client(path, server, "d-a", sleep=lambda s: None)
    c.login("u", "p")
    c.save_inspection(inspection("r1", device_id="d-a"))
    c.close()
    again = Client(path, server, sleep=lambda s: None)
    assert again.device_id == "d-a" and again.pending_count() == 1
    again.sync()
    assert again.pending_count() == 0
