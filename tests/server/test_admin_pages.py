"""The /admin pages: an authorization matrix (anonymous, supervisor and admin, each in and
out of scope), every change audited and stamped, and the page flows (create a user, reset a
password, import a register through its preview, plan visits and see them missed)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from sqlmodel import select

from server.db import session_scope
from server.models import Area, Assignment, AuditLog, Cycle, ServicePoint, User
from server.services.auth import hash_password
from server.services.changes import stamp
from tests.logins import DEMO_PASSWORD, csrf_of, web_login
from tests.server.test_i18n import assert_one_language

GET_PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/areas",
    "/admin/points",
    "/admin/checklists",
    "/admin/cycles",
    "/admin/plans",
    "/admin/audit",
]


@pytest.fixture
def two_counties(engine, demo):
    """礼泉县 beside the demo's 乾县, with its own township, point, staff and cycle."""
    with session_scope(engine, write=True) as s:
        city = s.exec(select(Area).where(Area.code == "610400")).one()
        county = Area(code="610425", name="礼泉县", level="county", parent_id=city.id)
        stamp(s, county)
        s.flush()
        town = Area(code="610425101", name="史德镇", level="township", parent_id=county.id)
        stamp(s, town)
        s.flush()
        point = ServicePoint(
            code="610425101201", name="史德村服务点", kind="village", township_id=town.id
        )
        stamp(s, point)
        cycle = Cycle(
            name="2027年度考核",
            year=2027,
            start_date=date(2027, 1, 1),
            end_date=date(2027, 12, 31),
            county_id=county.id,
            current=True,
        )
        stamp(s, cycle)
        pw = hash_password(DEMO_PASSWORD)
        qian_town = s.exec(select(Area).where(Area.code == "610424101")).one()
        for username, role, area in (
            ("lq_admin", "admin", county),
            ("lq_sup", "supervisor", county),
            ("lq_inspector", "inspector", county),
            ("town_sup", "supervisor", qian_town),
        ):
            s.add(
                User(
                    username=username,
                    display_name=username,
                    role=role,
                    area_id=area.id,
                    password_hash=pw,
                )
            )
    with session_scope(engine) as s:
        return {u.username: u.id for u in s.exec(select(User))}


def _as(client, username):
    client.cookies.clear()
    assert web_login(client, username).status_code == 303
    return client


def _post(client, url, data, page=None, **kw):
    csrf = csrf_of(client.get(page or "/admin/users").text)
    return client.post(url, data={"csrf": csrf, **data}, follow_redirects=False, **kw)


def test_anonymous_gets_the_login_page_never_data(client, two_counties):
    for url in GET_PAGES:
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = client.post("/admin/users/new", data={"username": "x"}, follow_redirects=False)
    assert r.status_code in (303, 403)


@pytest.mark.parametrize("who", ["admin", "supervisor", "lq_admin", "lq_sup", "town_sup"])
def test_every_page_opens_for_office_roles_in_one_language(client, two_counties, who):
    _as(client, who)
    for url in GET_PAGES:
        r = client.get(url)
        assert r.status_code == 200, (who, url, r.text[:300])
        assert_one_language(r.text, "zh-CN")


def test_scope_decides_what_is_seen_and_changed(client, two_counties, engine):
    ids = two_counties
    qian_user = ids["inspector"]
    # 礼泉's admin and supervisor see no 乾县 person, point or township, and cannot touch one
    for who in ("lq_admin", "lq_sup"):
        _as(client, who)
        assert "宋瞾静" not in client.get("/admin/users").text
        assert "乾县" not in client.get("/admin/areas").text
        assert "史德村服务点" in client.get("/admin/points").text
        assert "巨州" not in client.get("/admin/points").text
        assert client.get(f"/admin/users/{qian_user}").status_code == 404
        assert client.get("/admin/points/610424001201").status_code == 404
        r = _post(client, f"/admin/users/{qian_user}/active", {"active": "0"})
        assert r.status_code == 404
        r = _post(client, "/admin/areas/610424101/rename", {"name": "改名镇"})
        assert r.status_code == 404
        r = _post(
            client,
            "/admin/users/new",
            {"username": "x1", "display_name": "X", "role": "inspector", "area": "610424"},
        )
        assert r.status_code == 404
    # a township supervisor sees only their township
    _as(client, "town_sup")
    assert "巨州" not in client.get("/admin/points").text
    assert client.get("/admin/points/610424001201").status_code == 404
    with session_scope(engine) as s:
        assert s.get(User, qian_user).active
        assert s.exec(select(Area).where(Area.code == "610424101")).one().name == "薛录镇"


def test_supervisors_manage_people_and_places_but_not_setup(client, two_counties, engine):
    _as(client, "supervisor")
    r = _post(
        client,
        "/admin/users/new",
        {"username": "newadmin", "display_name": "X", "role": "admin", "area": "610424"},
    )
    assert r.status_code == 400 and "不能授予" in r.text
    r = _post(client, f"/admin/users/{two_counties['admin']}/active", {"active": "0"})
    assert r.status_code == 403
    r = _post(client, f"/admin/users/{two_counties['supervisor']}/active", {"active": "0"})
    assert r.status_code == 403  # not oneself
    r = _post(
        client,
        "/admin/cycles",
        {"county": "610424", "name": "x", "start_date": "2027-01-01", "end_date": "2027-12-31"},
    )
    assert r.status_code == 403
    r = _post(client, "/admin/checklists/village_point/610424", {"book_volumes_min": "2500"})
    assert r.status_code == 403 and "不能做这项修改" in r.text
    r = _post(client, "/admin/areas", {"code": "610424116", "name": "新镇"})
    assert r.status_code == 303
    with session_scope(engine) as s:
        area = s.exec(select(Area).where(Area.code == "610424116")).one()
        assert area.seq > 0
        entry = s.exec(select(AuditLog).where(AuditLog.action == "area.add")).one()
        assert entry.area_id == area.id and entry.user_id == two_counties["supervisor"]


def test_create_user_reset_password_disable_and_revoke(client, two_counties, engine):
    _as(client, "admin")
    r = _post(
        client,
        "/admin/users/new",
        {"username": "wangjg", "display_name": "王建国", "role": "inspector", "area": "610424101"},
    )
    assert r.status_code == 200
    password = re.search(r"密码：(\S+?)（", r.text).group(1)
    api = client.post(
        "/api/auth/login",
        json={
            "username": "wangjg",
            "password": password,
            "device_id": "d-wang",
            "device_name": "Redmi",
        },
    )
    assert api.status_code == 200
    with session_scope(engine) as s:
        uid = s.exec(select(User).where(User.username == "wangjg")).one().id
    page = client.get(f"/admin/users/{uid}")
    assert "d-wang" in page.text
    r = _post(client, f"/admin/users/{uid}/devices/d-wang/revoke", {}, page=f"/admin/users/{uid}")
    assert r.status_code == 303
    r = _post(client, f"/admin/users/{uid}/password", {}, page=f"/admin/users/{uid}")
    new_pw = re.search(r"新密码：(\S+?)（", r.text).group(1)
    assert new_pw != password
    r = _post(
        client,
        f"/admin/users/{uid}",
        {"display_name": "王建国", "role": "supervisor", "area": "610424"},
        page=f"/admin/users/{uid}",
    )
    assert r.status_code == 303
    r = _post(client, f"/admin/users/{uid}/active", {"active": "0"}, page=f"/admin/users/{uid}")
    assert r.status_code == 303
    bad = client.post(
        "/api/auth/login",
        json={"username": "wangjg", "password": new_pw, "device_id": "d-wang2", "device_name": ""},
    )
    assert bad.status_code == 401
    with session_scope(engine) as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.target_id == str(uid)))]
    assert {"user.add", "user.passwd", "user.update", "user.disable"} <= set(actions)
    audit = client.get("/admin/audit", params={"action": "user.disable"})
    assert "<td>停用用户</td>" in audit.text  # the action in words, not its code
    assert "<td>新建用户</td>" not in audit.text
    by_area = client.get("/admin/audit", params={"area": "610424101", "action": "user.add"}).text
    assert "<td>新建用户</td>" in by_area
    other_town = client.get("/admin/audit", params={"area": "610424102", "action": "user.add"})
    assert "<td>新建用户</td>" not in other_town.text
    by_user = client.get("/admin/audit", params={"user": "admin", "action": "user.passwd"}).text
    assert "<td>重设密码</td>" in by_user
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    later = client.get("/admin/audit", params={"since": tomorrow}).text
    assert "<td>新建用户</td>" not in later and "<td>重设密码</td>" not in later
    assert client.get("/admin/audit", params={"area": "610425"}).status_code == 404


def _register() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["编码", "名称", "类型", "乡镇代码", "纬度（°）", "经度（°）", "管理员电话"])
    ws.append(
        ["610424101299", "新村服务点", "村服务点", "610424101", 34.56, 108.33, "+86 139 1234 5678"]
    )
    ws.append(["610424101298", "杨洪村服务点", "村服务点", "610424101", 108.33, 34.56, ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_register_import_previews_every_row_before_writing(client, two_counties, engine):
    _as(client, "supervisor")
    csrf = csrf_of(client.get("/admin/points").text)
    files = {"file": ("名册.xlsx", _register(), "application/octet-stream")}
    r = client.post("/admin/points/import", data={"csrf": csrf}, files=files)
    assert r.status_code == 200 and "似乎填反了" in r.text and "新村服务点" in r.text
    with session_scope(engine) as s:
        assert (
            s.exec(select(ServicePoint).where(ServicePoint.code == "610424101299")).first() is None
        )
    token = re.search(r'name="token" value="([0-9a-f]{64})"', r.text).group(1)
    r = client.post(
        "/admin/points/import/confirm",
        data={"csrf": csrf, "token": token, "skip_bad": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with session_scope(engine) as s:
        point = s.exec(select(ServicePoint).where(ServicePoint.code == "610424101299")).one()
        assert point.manager_phone == "13912345678" and point.seq > 0
        assert (
            s.exec(select(ServicePoint).where(ServicePoint.code == "610424101298")).first() is None
        )
    r = _post(client, "/admin/points/610424101299/active", {"active": "0"}, page="/admin/points")
    assert r.status_code == 303
    r = _post(
        client,
        "/admin/points/610424101299",
        {
            "name": "新村服务点",
            "kind": "village",
            "township": "610424101",
            "lat": "34.57",
            "lon": "108.33",
            "manager_name": "",
            "manager_phone": "029-8888 8888",
        },
        page="/admin/points",
    )
    assert r.status_code == 303
    with session_scope(engine) as s:
        point = s.exec(select(ServicePoint).where(ServicePoint.code == "610424101299")).one()
        assert not point.active and point.lat == 34.57 and point.manager_phone == "029-88888888"


def test_plans_are_made_synced_and_missed(client, two_counties, engine, login):
    _as(client, "supervisor")
    with session_scope(engine) as s:
        cycle = s.exec(
            select(Cycle).where(
                Cycle.current,
                Cycle.county_id == s.exec(select(Area.id).where(Area.code == "610424")).one(),
            )
        ).one()
    today = date.today()
    r = _post(
        client,
        "/admin/plans",
        {
            "cycle": str(cycle.id),
            "inspector": str(two_counties["inspector"]),
            "start_date": today.isoformat(),
            "due_date": (today + timedelta(days=3)).isoformat(),
            "points": "610424001201, 610424001202",
        },
        page="/admin/plans",
    )
    assert r.status_code == 303, r.text
    with session_scope(engine, write=True) as s:
        made = s.exec(select(Assignment).where(Assignment.start_date == today)).all()
        assert len(made) == 2
        # one window that ended yesterday with no inspection: missed
        old = Assignment(
            cycle_id=cycle.id,
            point_id=made[0].point_id,
            inspector_id=made[0].inspector_id,
            start_date=today - timedelta(days=5),
            due_date=today - timedelta(days=1),
        )
        stamp(s, old)
    page = client.get("/admin/plans", params={"state": "missed"})
    assert "已错过" in page.text and "巨州" in page.text
    headers = login("inspector", "d-plan")
    rows = client.post(
        "/api/sync",
        headers=headers,
        json={"protocol": 1, "device_id": "d-plan", "cursor": None, "ops": []},
    ).json()["changes"]["assignments"]
    mine = [a for a in rows if a["start_date"] == today.isoformat()]
    assert {a["point_code"] for a in mine} == {"610424001201", "610424001202"}
    assert all(a["due_date"] == (today + timedelta(days=3)).isoformat() for a in mine)


def _square(lon, lat, d=0.05):
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_township_boundaries_are_validated_then_stored(client, two_counties, engine):
    import json

    from server.models import AreaBoundary

    _as(client, "supervisor")
    good = {
        "type": "Feature",
        "properties": {"code": "610424101000"},
        "geometry": _square(108.33, 34.56),
    }
    bad = [
        {"type": "Feature", "properties": {"name": "无代码"}, "geometry": _square(108.3, 34.5)},
        {
            "type": "Feature",
            "properties": {"adcode": "610425101"},
            "geometry": _square(108.4, 34.6),
        },
        {
            "type": "Feature",
            "properties": {"code": "610424102"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[108.1, 34.1], [108.2, 34.1], [108.2, 34.2]]],
            },
        },
        {"type": "Feature", "properties": {"code": "610424103"}, "geometry": _square(34.5, 108.3)},
        {  # a coordinate beyond a double: JSON allows it, and it crashed the check
            "type": "Feature",
            "properties": {"code": "610424104"},
            "geometry": {"type": "Polygon", "coordinates": [[[10**400, 34.1]] * 4]},
        },
    ]
    csrf = csrf_of(client.get("/admin/areas").text)
    doc = {"type": "FeatureCollection", "features": [good, *bad]}
    files = {"file": ("towns.geojson", json.dumps(doc).encode(), "application/geo+json")}
    r = client.post("/admin/areas/boundaries", data={"csrf": csrf}, files=files)
    assert r.status_code == 400
    for words in (
        "没有区划代码",
        "不是您范围内的乡镇",
        "至少要 4 个点",
        "不在中国境内",
        "坐标不是",
    ):
        assert words in r.text
    with session_scope(engine) as s:
        assert s.exec(select(AreaBoundary)).all() == []
    doc = {"type": "FeatureCollection", "features": [good]}
    files = {"file": ("towns.geojson", json.dumps(doc).encode(), "application/geo+json")}
    r = client.post(
        "/admin/areas/boundaries", data={"csrf": csrf}, files=files, follow_redirects=False
    )
    assert r.status_code == 303
    with session_scope(engine) as s:
        stored = s.exec(select(AreaBoundary)).one()
        assert (stored.min_lon, stored.max_lat) == (108.28, 34.61)
    assert "已上传" in client.get("/admin/areas").text
