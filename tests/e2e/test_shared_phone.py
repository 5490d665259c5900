"""One phone, two inspectors. 宋瞾静 (inspector) fills a checklist offline and logs out with it
unsent; 刘凯妮 (inspector2) logs in on the same phone, never sees it, and submits her own; then
each logs in again in turn. The server holds each record once, as its author's. And records
an older app version left in IndexedDB (version 1, no owners) get an owner on upgrade, or,
with nobody logged in, wait until a user claims them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.e2e.test_field_app import open_point, start_inspection, submit

pytestmark = pytest.mark.browser

# points the other browser tests work on, left alone here
TAKEN = ("官地", "梁山", "小留", "巨州", "董城")
A, B = ("inspector", "宋瞾静"), ("inspector2", "刘凯妮")


def _points(server, n: int) -> list[tuple[str, str]]:
    rows = server.query(
        "SELECT code, name FROM service_point WHERE kind = 'village' AND active ORDER BY code"
    )
    return [r for r in rows if not any(t in r[1] for t in TAKEN)][:n]


def _user_id(server, username: str) -> int:
    return server.query("SELECT id FROM user WHERE username = ?", (username,))[0][0]


def _author(server, rid: str) -> list[tuple]:
    return server.query(
        "SELECT u.username FROM inspection i JOIN user u ON u.id = i.inspector_id WHERE i.id = ?",
        (rid,),
    )


def _go(page, where: str) -> None:
    page.goto(page.url.split("#")[0] + where)


def _logout(page) -> None:
    """Log out from settings (a confirm dialog, if any, is answered by the test's handler)."""
    _go(page, "#/settings")
    page.click("button:has-text('退出登录')")
    page.wait_for_selector("#username")


def test_two_inspectors_share_a_phone(make_phone, live_server):
    n1, n2, n3 = (name for _, name in _points(live_server, 3))
    phone = make_phone()
    page = phone.goto()
    dialogs: list[str] = []

    def answer(d):
        dialogs.append(d.message)
        d.accept()

    page.on("dialog", answer)
    phone.login(A[0])
    phone.wait_sw_activated()

    # A works offline: one record submitted, one draft started
    phone.context.set_offline(True)
    open_point(page, n1)
    a_rec = start_inspection(page)
    page.fill("#item-book_volumes input", "1600")
    submit(page)
    open_point(page, n2)
    a_draft = start_inspection(page)
    page.fill("#item-seats input", "12")
    _logout(page)
    assert len(dialogs) == 1
    assert "1 条检查记录还没上传" in dialogs[0] and "1 份草稿" in dialogs[0]
    assert "别人" in dialogs[0] or "其他人" in dialogs[0]
    waiting = page.inner_text(".others")
    assert B[1] not in waiting and A[1] in waiting and "1 条" in waiting
    phone.shot("40-login-others-waiting")

    # B logs in on the same phone: A's record and draft are not hers, and say so
    phone.context.set_offline(False)
    phone.login(B[0])
    assert A[1] in page.inner_text(".others") and "本人" in page.inner_text(".others")
    assert page.locator(".drafts").count() == 0
    phone.shot("41-home-colleague-waits")
    assert page.locator("#nav .badge").count() == 0
    _go(page, "#/outbox")
    page.wait_for_selector("h2:has-text('待同步')")
    assert "0 条等待上传" in page.inner_text("main") and page.locator("li.rec").count() == 0
    assert A[1] in page.inner_text(".others")
    phone.shot("42-outbox-colleague-waits")
    _go(page, f"#/form/{a_draft}")
    page.wait_for_selector("h2:has-text('找不到')")
    open_point(page, n1)
    assert page.locator("button:has-text('继续')").count() == 0  # no draft of A's here

    # B submits her own; it reaches the server as hers, A's stays on the phone
    open_point(page, n3)
    b_rec = start_inspection(page)
    page.fill("#item-book_volumes input", "900")
    submit(page)
    page.wait_for_selector(f"li.rec[data-id='{b_rec}'][data-state=sent]", timeout=30_000)
    assert _author(live_server, b_rec) == [(B[0],)]
    assert _author(live_server, a_rec) == []
    dialogs.clear()
    _logout(page)
    assert dialogs == []  # nothing of B's waits

    # A again: her record goes, as hers; her draft is back
    phone.login(A[0])
    assert page.locator(".others").count() == 0
    assert page.locator(".drafts a.draft-link").count() == 1
    _go(page, "#/outbox")
    page.wait_for_selector(f"li.rec[data-id='{a_rec}'][data-state=sent]", timeout=30_000)
    assert page.locator("li.rec").count() == 1  # only hers
    assert _author(live_server, a_rec) == [(A[0],)]
    _logout(page)
    assert len(dialogs) == 1 and "0 条检查记录还没上传" in dialogs[0]  # her draft stays

    # B again: nothing changes on the server
    phone.login(B[0])
    _go(page, "#/outbox")
    page.wait_for_selector(f"li.rec[data-id='{b_rec}']")
    assert page.locator("li.rec").count() == 1
    ids = (a_rec, b_rec, a_draft)
    assert sorted(
        live_server.query(
            "SELECT i.id, u.username FROM inspection i JOIN user u ON u.id = i.inspector_id "
            "WHERE i.id IN (?, ?, ?)",
            ids,
        )
    ) == sorted([(a_rec, A[0]), (b_rec, B[0])])
    assert live_server.query(
        "SELECT count(*) FROM sync_quarantine WHERE record_id IN (?, ?, ?)", ids
    ) == [(0,)]
    assert live_server.query(
        "SELECT count(*) FROM inspection_revision WHERE inspection_id IN (?, ?)", ids[:2]
    ) == [(2,)]


# Version 1 of the app's IndexedDB, as it was, with one submitted record and its op.
V1 = """async ({auth, rec, op}) => {
  await new Promise((resolve, reject) => {
    const req = indexedDB.open('xunjian', 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      for (const [name, key] of [['meta', 'k'], ['areas', 'code'], ['points', 'code'],
        ['templates', 'id'], ['cycles', 'id'], ['assignments', 'id']]) {
        db.createObjectStore(name, { keyPath: key });
      }
      db.createObjectStore('followups', { keyPath: 'id' }).createIndex('point_code', 'point_code');
      const ins = db.createObjectStore('inspections', { keyPath: 'id' });
      ins.createIndex('point_code', 'point_code');
      db.createObjectStore('outbox', { keyPath: 'op_id' }).createIndex('record_id', 'record_id');
      db.createObjectStore('photos', { keyPath: 'sha256' }).createIndex('record_id', 'record_id');
    };
    req.onsuccess = () => {
      const db = req.result;
      const t = db.transaction(['meta', 'inspections', 'outbox'], 'readwrite');
      t.objectStore('meta').put({ k: 'auth', v: auth });
      t.objectStore('inspections').put(rec);
      t.objectStore('outbox').put(op);
      t.oncomplete = () => { db.close(); resolve(); };
      t.onerror = () => reject(t.error);
    };
    req.onerror = () => reject(req.error);
  });
}"""

STORED = """async () => {
  const db = await import('/app/js/db.js');
  return { ins: await db.all('inspections'), ops: await db.all('outbox'),
    owner: await db.getMeta('data_owner') };
}"""


def _v1_record(server, code: str) -> tuple[dict, dict]:
    (version,) = server.query(
        "SELECT MAX(v.version) FROM template_version v "
        "JOIN checklist_template t ON t.id = v.template_id WHERE t.key = 'village_point'"
    )[0]
    now = datetime.now(UTC).isoformat()
    rid = str(uuid.uuid4())
    data = {
        "id": rid,
        "point_code": code,
        "template_key": "village_point",
        "template_version": version,
        "cycle_id": None,
        "status": "submitted",
        "answers": {"book_volumes": 1200},
        "photos": [],
        "gps": None,
        "notes": "v1",
        "started_at": now,
        "submitted_at": now,
        "device_id": "d-v1",
        "rev": 1,
    }
    op = {
        "op_id": str(uuid.uuid4()),
        "type": "inspection.put",
        "record_id": rid,
        "base_rev": 0,
        "hlc": f"{int(datetime.now(UTC).timestamp() * 1000):016d}:0000:d-v1",
        "data": data,
        "state": "pending",
        "attempts": 0,
        "next_at": 0,
        "created_at": now,
    }
    rec = {**data, "_sync": {"state": "pending", "at": now}, "_updated": now}
    return rec, op


@pytest.mark.parametrize("logged_in", [True, False], ids=["logged-in", "logged-out"])
def test_version_1_records_get_an_owner(make_phone, live_server, logged_in):
    (_, _), (code, _) = _points(live_server, 2)
    rec, op = _v1_record(live_server, code)
    me = _user_id(live_server, A[0])
    auth = (
        {
            "token": "stale",
            "expired": True,
            "user": {"id": me, "username": A[0], "display_name": A[1]},
        }
        if logged_in
        else None
    )
    phone = make_phone()
    phone.goto("/healthz")
    phone.page.evaluate(V1, {"auth": auth, "rec": rec, "op": op})
    page = phone.goto("/app/#/login")
    page.wait_for_selector("#username")
    stored = page.evaluate(STORED)
    owner = me if logged_in else None
    assert [i["_owner"] for i in stored["ins"]] == [owner]
    assert [(o["owner"], "author" in o) for o in stored["ops"]] == [(owner, False)]
    assert stored["ins"][0]["answers"] == {"book_volumes": 1200}  # nothing lost
    if logged_in:
        # her records are hers: they go with her next login, unchanged (no author added)
        phone.login(A[0])
        _go(page, "#/outbox")
        page.wait_for_selector(f"li.rec[data-id='{rec['id']}'][data-state=sent]", timeout=30_000)
        assert _author(live_server, rec["id"]) == [(A[0],)]
        return
    # nobody was logged in: the next user is not guessed to be the author; she may claim them
    phone.login(B[0])
    _go(page, "#/outbox")
    page.wait_for_selector("button:has-text('这些是我填写的')")
    assert "1 条旧版本留下的记录" in page.inner_text("main")
    assert _author(live_server, rec["id"]) == []
    phone.shot("43-outbox-unowned")
    page.click("button:has-text('这些是我填写的')")
    page.wait_for_selector(f"li.rec[data-id='{rec['id']}'][data-state=sent]", timeout=30_000)
    assert _author(live_server, rec["id"]) == [(B[0],)]
