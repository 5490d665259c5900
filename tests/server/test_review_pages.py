"""The supervisor's /review pages against conflicts and quarantined ops made through the
real /api/sync endpoint by two phones, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.db import session_scope
from server.models import Area, AuditLog, Device, Inspection, ServicePoint, User
from server.services.auth import hash_password
from tests.api.helpers import login, op, record, sync, village
from tests.logins import DEMO_PASSWORD, csrf_of, login_body, web_login
from tests.server.test_i18n import assert_one_language

PHOTO = (Path(__file__).resolve().parents[2] / "server/demo/photos/register.jpg").read_bytes()
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()
NOT_UPLOADED = "ab" * 32
BASE_HOURS = {"mon": [["08:30", "12:00"]], "tue": [], "wed": [], "thu": [], "fri": [],
              "sat": [], "sun": []}  # fmt: skip


def _hours(**days) -> dict:
    return {**BASE_HOURS, **days}


def _photo(sha: str) -> dict:
    return {
        "sha256": sha,
        "item": "reading_room",
        "size": len(PHOTO),
        "mime": "image/jpeg",
        "taken_at": "2026-11-26T08:30:00+08:00",
    }


@pytest.fixture
def phones(client, demo):
    return login(client, "inspector", "d-1"), login(client, "inspector", "d-2")


@pytest.fixture
def conflict(client, engine, phones):
    """Phone A and phone B edit the same inspection from revision 1; B syncs last."""
    a, b = phones
    code, version = village(engine)
    answers = {"book_volumes": 1000, "opening_hours": BASE_HOURS}
    rec = record(code, version, answers=answers)
    sync(client, a, op(rec))
    edit_a = {
        **answers,
        "book_volumes": 1600,
        "reading_room": True,
        "opening_hours": _hours(tue=[["09:00", "12:00"]]),
    }
    edit_b = {
        **answers,
        "book_volumes": 1200,
        "reading_room": False,
        "opening_hours": _hours(wed=[["14:30", "17:30"]], sat=[["09:00", "11:00"]]),
    }
    ack_a = sync(client, a, op({**rec, "answers": edit_a}, 1, "0001764144000005:0000:d-1"))
    assert ack_a["acks"][0]["status"] == "applied"
    b_rec = {**rec, "answers": edit_b, "photos": [_photo(PHOTO_SHA), _photo(NOT_UPLOADED)]}
    reply = sync(client, b, op(b_rec, 1, "0001764144000009:0000:d-2"), device="d-2")
    ack = reply["acks"][0]
    assert ack["status"] == "conflict"
    put = client.put(f"/api/blobs/{PHOTO_SHA}", headers=b, content=PHOTO)
    assert put.status_code == 200 and put.json()["complete"]
    with session_scope(engine) as s:
        point = s.exec(select(ServicePoint).where(ServicePoint.code == code)).one()
    return {"id": ack["conflict_id"], "record": rec, "point": point, "edit_b": edit_b}


def _audit(engine, action: str) -> list[AuditLog]:
    with session_scope(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action)).all())


def test_overview_counts_what_waits(client, conflict, phones):
    sync(client, phones[0], op(record("999999999999", 1)))  # an unknown point: quarantined
    web_login(client)
    page = client.get("/review").text
    assert 'href="/review/conflicts"' in page and 'href="/review/quarantine"' in page
    counts = [int(n) for n in __import__("re").findall(r'<span class="big">(\d+)</span>', page)]
    assert counts == [1, 1, 2]


def test_conflict_list_newest_first_with_point_inspector_device(client, conflict):
    web_login(client)
    page = client.get("/review/conflicts").text
    assert conflict["point"].name in page and conflict["point"].code in page
    assert "宋瞾静" in page and "d-2" in page
    assert f'href="/review/conflicts/{conflict["id"]}"' in page
    assert "图书册数" in page  # conflicting fields by their checklist label
    assert "没有记录" in client.get("/review/conflicts?status=resolved").text


def test_conflict_side_by_side_is_readable(client, conflict):
    web_login(client)
    r = client.get(f"/review/conflicts/{conflict['id']}")
    assert r.status_code == 200
    page = r.text
    for label in ("图书册数", "阅览场所", "开放时间"):
        assert label in page
    assert "1600 册" in page and "1200 册" in page
    assert "<p>是</p>" in page and "<p>否</p>" in page
    assert "周二 09:00–12:00" in page and "周三 14:30–17:30" in page and "周六 09:00–11:00" in page
    assert page.count("合并时采用") == 3  # the later edit (phone B) won every field
    assert f'<img src="/review/photos/{PHOTO_SHA}"' in page
    assert NOT_UPLOADED not in page and "照片未上传" in page
    for path in ("answers.book_volumes", "answers.reading_room", "answers.opening_hours"):
        assert page.count(f'name="pick:{path}"') == 3


def test_resolve_field_by_field(client, conflict, engine, phones):
    web_login(client)
    url = f"/review/conflicts/{conflict['id']}"
    token = csrf_of(client.get(url).text)
    picks = {
        "pick:answers.book_volumes": "server",
        "pick:answers.reading_room": "keep",
        "pick:answers.opening_hours": "client",
    }
    r = client.post(url + "/resolve", data={**picks}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token: nothing happens
    r = client.post(url + "/resolve", data={**picks, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == url + "?notice=resolved"
    page = client.get(r.headers["location"]).text
    assert "已保存处理结果" in page and "已处理" in page and "马莉" in page
    assert "采用服务器版本" in page and "保留合并结果" in page and 'type="radio"' not in page
    with session_scope(engine) as s:
        insp = s.get(Inspection, conflict["record"]["id"])
        assert insp.answers["book_volumes"] == 1600
        assert insp.answers["reading_room"] is False
        assert insp.answers["opening_hours"] == conflict["edit_b"]["opening_hours"]
        assert insp.rev == 4
        sup = s.exec(select(User).where(User.username == "supervisor")).one()
    (entry,) = _audit(engine, "review.resolve")
    assert entry.user_id == sup.id and entry.target_id == str(conflict["id"])
    assert entry.detail["fields"]["answers.book_volumes"] == "server"
    # the same conflict via the API is now resolved too, and phones pull the new revision
    again = client.post(url + "/resolve", data={**picks, "csrf": token}, follow_redirects=False)
    assert again.status_code == 409 and "该冲突已处理" in again.text
    rows = sync(client, phones[1], device="d-2")["changes"]["inspections"]
    mine = [x for x in rows if x["id"] == conflict["record"]["id"]]
    assert mine[0]["rev"] == 4 and mine[0]["answers"]["book_volumes"] == 1600
    listed = client.get("/review/conflicts?status=resolved").text
    assert f"#{conflict['id']}" in listed


def test_resolve_needs_a_choice_for_every_field(client, conflict):
    web_login(client)
    url = f"/review/conflicts/{conflict['id']}"
    token = csrf_of(client.get(url).text)
    r = client.post(
        url + "/resolve",
        data={"csrf": token, "pick:answers.book_volumes": "mine"},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "请为每个冲突字段选择" in r.text
    assert "待处理" in client.get(url).text


def test_photos_are_served_complete_and_only_to_supervisors(client, conflict):
    assert client.get(f"/review/photos/{PHOTO_SHA}", follow_redirects=False).status_code == 303
    web_login(client)
    r = client.get(f"/review/photos/{PHOTO_SHA}")
    assert r.status_code == 200 and r.content == PHOTO
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/review/photos/{NOT_UPLOADED}").status_code == 404
    assert client.get("/review/photos/not-a-hash").status_code == 404


def test_quarantine_shows_reason_and_raw_op(client, demo, engine):
    h = login(client, "inspector", "d-1")
    code, version = village(engine)
    bad = op(record(code, version, answers={"book_volumes": -3}))
    ack = sync(client, h, bad)["acks"][0]
    assert ack["status"] == "rejected"
    web_login(client)
    page = client.get("/review/quarantine").text
    assert ack["message_zh"] in html.unescape(page)
    assert "bad_value" in page and "answers.book_volumes" in page
    assert "检查项：图书册数" in page  # the field by its checklist label
    assert code in page and "d-1" in page and "宋瞾静" in page
    assert "<details>" in page
    assert '"book_volumes": -3' in html.unescape(page)  # pretty JSON, escaped in the page
    assert bad["op_id"] in page


def test_revoke_a_lost_phone(client, phones, engine):
    web_login(client)
    page = client.get("/review/devices").text
    assert "d-1" in page and "d-2" in page and "有效" in page
    confirm = client.get("/review/devices/d-2/revoke")
    assert confirm.status_code == 200 and "确认注销" in confirm.text
    url = "/review/devices/d-2/revoke"
    assert client.post(url, data={}, follow_redirects=False).status_code == 403
    r = client.post(url, data={"csrf": csrf_of(confirm.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review/devices?notice=revoked"
    assert "设备已注销" in client.get(r.headers["location"]).text
    gone = client.post(
        "/api/sync",
        headers=phones[1],
        json={"protocol": 1, "device_id": "d-2", "cursor": None, "ops": []},
    )
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "token_revoked"
    assert sync(client, phones[0])["acks"] == []  # the other phone carries on
    with session_scope(engine) as s:
        assert s.get(Device, "d-2").revoked_at is not None
        sup = s.exec(select(User.id).where(User.username == "supervisor")).one()
    (entry,) = _audit(engine, "auth.revoke")  # one entry, the same as through the API
    assert (entry.user_id, entry.target_id) == (sup, "d-2")
    assert entry.detail == {"owner": "inspector", "via": "web"}
    again = client.post(url, data={"csrf": csrf_of(confirm.text)}, follow_redirects=False)
    assert again.headers["location"] == "/review/devices?notice=already_revoked"


def test_township_supervisor_sees_only_their_subtree(app, client, conflict, engine):
    with session_scope(engine, write=True) as s:
        other = s.exec(
            select(Area)
            .where(Area.level == "township", Area.id != conflict["point"].township_id)
            .order_by(Area.code)
        ).first()
        s.add(
            User(
                username="town_sup",
                display_name="乡镇主管",
                role="supervisor",
                area_id=other.id,
                password_hash=hash_password(DEMO_PASSWORD),
            )
        )
    with TestClient(app) as town:
        assert web_login(town, "town_sup").status_code == 303
        assert "没有待处理的冲突" in town.get("/review/conflicts").text
        r = town.get(f"/review/conflicts/{conflict['id']}")
        assert r.status_code == 404 and "找不到该冲突记录" in r.text and "Traceback" not in r.text
        token = csrf_of(town.get("/review").text)
        r = town.post(
            f"/review/conflicts/{conflict['id']}/resolve",
            data={"csrf": token, "pick:answers.book_volumes": "server"},
        )
        assert r.status_code == 404
        assert "d-1" not in town.get("/review/devices").text
        assert town.get("/review/devices/d-1/revoke").status_code == 404
        r = town.post("/review/devices/d-1/revoke", data={"csrf": token})
        assert r.status_code == 404
    with session_scope(engine) as s:
        assert s.get(Device, "d-1").revoked_at is None


def test_errors_are_pages_not_traces(client, demo):
    web_login(client)
    for url in ("/review/conflicts/999999", "/review/conflicts/abc", "/review/devices/x/revoke"):
        r = client.get(url)
        assert r.status_code == 404 and "<h1>404</h1>" in r.text and "Traceback" not in r.text


def test_landing_page_links_to_review(client, demo):
    page = client.get("/").text
    assert 'href="/review"' in page and "审核" in page


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_speaks_one_language(client, conflict, phones, lang):
    sync(client, phones[0], op(record("999999999999", 1)))  # something in the quarantine
    anonymous = [("/", 200), ("/login", 200), ("/review/nowhere", 404)]
    for url, status in anonymous:
        r = client.get(url, params={"lang": lang})
        assert r.status_code == status, url
        assert_one_language(r.text, lang)
    web_login(client)
    pages = [
        "/",
        "/review",
        "/review/conflicts",
        "/review/conflicts?status=all",
        f"/review/conflicts/{conflict['id']}",
        "/review/quarantine",
        "/review/devices",
        "/review/devices/d-2/revoke",
        "/review/conflicts/999999",
    ]
    for url in pages:
        r = client.get(url)  # the language chosen above is kept in a cookie
        assert r.status_code in (200, 404), url
        assert_one_language(r.text, lang)
    if lang == "en":
        page = client.get(f"/review/conflicts/{conflict['id']}").text
        assert "Books (volumes)" in page and "1600 vols" in page and "Tue 09:00–12:00" in page
        assert "<p>Yes</p>" in page and "Take the server&#39;s version" in page


def test_language_switch_is_kept_on_the_account(app, client, demo, engine):
    web_login(client)
    page = client.get("/review").text
    assert 'name="lang" value="en"' in page  # the switch in the header
    r = client.post("/lang", data={"lang": "en", "next": "/review/devices"})
    assert r.status_code == 403  # a logged-in reader's choice is a change: CSRF applies
    r = client.post(
        "/lang",
        data={"lang": "en", "next": "/review/devices", "csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/review/devices"
    assert "Revoke a phone that is lost" in client.get("/review/devices").text
    with session_scope(engine) as s:
        assert s.exec(select(User).where(User.username == "supervisor")).one().lang == "en"
    with TestClient(app) as elsewhere:  # another browser: no cookie, the account decides
        web_login(elsewhere)
        assert '<html lang="en">' in elsewhere.get("/review").text
        assert '<html lang="zh-CN">' in elsewhere.get("/review?lang=zh-CN").text
        assert '<html lang="zh-CN">' in elsewhere.get("/review").text  # ?lang= is kept


ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def test_devices_are_named_by_model_browser_and_given_name(client, demo):
    headers = {"user-agent": ANDROID_CHROME, "sec-ch-ua-model": '"Redmi Note 12"'}
    body = {**login_body("inspector", "d-7"), "device_name": "老王的手机"}
    assert client.post("/api/auth/login", json=body, headers=headers).status_code == 200
    old_app = {**login_body("inspector2", "d-8"), "device_name": IPHONE}  # its UA as the name
    assert client.post("/api/auth/login", json=old_app).status_code == 200
    web_login(client)
    page = client.get("/review/devices").text
    assert "Redmi Note 12 · Chrome 120" in page and "名称：老王的手机" in page
    assert "iPhone · Safari 17" in page and "Mozilla" not in page
    english = client.get("/review/devices?lang=en").text
    assert "Redmi Note 12 · Chrome 120" in english and "Name: 老王的手机" in english
    confirm = client.get("/review/devices/d-8/revoke").text
    assert "iPhone · Safari 17" in confirm
