"""The township, point and inspection pages and their photos (/area, /point, /inspection,
/photo), on SQLite and PostgreSQL, with inspections made through the real /api/sync by
phones in two counties (乾县 and 礼泉县).

An authorization matrix: each page and photo × admin, supervisor (county, township, city)
and inspector × in and out of scope; anonymous visitors get the login page, never data."""

from __future__ import annotations

import hashlib
import html
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import select

from server.db import session_scope
from server.models import Area, Cycle, PointSummary, ServicePoint, User
from server.services.auth import hash_password
from server.services.blobstore import write_complete
from server.services.changes import stamp
from server.services.photo_view import thumb_path
from tests.api.helpers import login, op, record, sync, village
from tests.demo_cycles import after_the_demo, demo_cycle
from tests.logins import DEMO_PASSWORD, web_login
from tests.server.counties import add_liquan
from tests.server.test_i18n import assert_one_language

QIAN_TOWN = "610424101"  # 薛录镇
NOTE = '<script>alert("x")</script> 复查：已整改'
# after the demo's own visits (dated from today): the synced inspection is its point's latest
SUBMITTED = after_the_demo().replace(minute=0, second=0, microsecond=0)
BEIJING_TIME = (SUBMITTED + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


def _image(fmt: str, color: tuple[int, int, int], size=(1200, 900)) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, color)
    img.paste((255, 255, 255), (100, 100, 500, 400))
    img.save(out, fmt, quality=90)
    return out.getvalue()


def _upload(client, headers, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    r = client.put(f"/api/blobs/{sha}", headers=headers, content=data)
    assert r.status_code == 200 and r.json()["complete"], r.text
    return sha


def _photo(sha: str, item: str, mime: str) -> dict:
    return {"sha256": sha, "item": item, "size": 1, "mime": mime, "taken_at": None}


def _submit(client, headers, code, version, photos, cycle, device="d-1") -> str:
    rec = record(
        code,
        version,
        answers={"book_volumes": 900, "reading_room": True},
        photos=photos,
        notes=NOTE,
        gps={"lat": 34.70, "lon": 108.10, "accuracy": 15, "at": SUBMITTED.isoformat()},
        status="submitted",
        submitted_at=SUBMITTED.isoformat(),
        device=device,
        cycle_id=cycle,
    )
    ack = sync(client, headers, op(rec), device=device)["acks"][0]
    assert ack["status"] == "applied", ack
    return rec["id"]


@pytest.fixture
def desk(client, engine, demo):
    """Two counties, each with a submitted inspection carrying photos; staff of both, of
    the city above them and of one Qian township."""
    liquan = add_liquan(engine)
    with session_scope(engine, write=True) as s:
        town = s.exec(select(Area).where(Area.code == QIAN_TOWN)).one()
        other_town = s.exec(select(Area).where(Area.code == "610424102")).one()
        s.add(
            User(
                username="town_sup",
                display_name="town_sup",
                role="supervisor",
                area_id=town.id,
                password_hash=hash_password(DEMO_PASSWORD),
            )
        )
        # 薛录镇's first village is registered ~1.6 km from where the phone stands
        point = s.exec(select(ServicePoint).where(ServicePoint.code == f"{QIAN_TOWN}201")).one()
        point.lat, point.lon = 34.71, 108.11
        stamp(s, point)
        far = s.exec(select(ServicePoint).where(ServicePoint.township_id == other_town.id))
        other_code = next(iter(far)).code
        qian_cycle = (
            s.exec(select(Cycle).where(Cycle.county_id == town.parent_id, Cycle.current)).one().id
        )
    qian_phone = login(client, "inspector", "d-1")
    code, version = f"{QIAN_TOWN}201", village(engine)[1]
    # a photo is uploaded after the record naming it (issue 11: nothing unnamed is stored)
    images = [_image("JPEG", (180, 40, 40)), _image("WEBP", (40, 90, 180))]
    jpeg, webp = (hashlib.sha256(b).hexdigest() for b in images)
    qian_id = _submit(
        client,
        qian_phone,
        code,
        version,
        [_photo(jpeg, "signboard", "image/jpeg"), _photo(webp, "reading_room", "image/webp")],
        qian_cycle,
    )
    for data in images:
        _upload(client, qian_phone, data)
    lq_phone = login(client, "lq_inspector", "d-9")
    lq_code = liquan["points"][1]
    lq_image = _image("JPEG", (30, 140, 60))
    lq_photo = hashlib.sha256(lq_image).hexdigest()
    lq_id = _submit(
        client,
        lq_phone,
        lq_code,
        version,
        [_photo(lq_photo, "signboard", "image/jpeg")],
        liquan["cycle_id"],
        "d-9",
    )
    _upload(client, lq_phone, lq_image)
    client.headers.pop("Authorization", None)
    return {
        "qian": {"area": QIAN_TOWN, "point": code, "inspection": qian_id, "photo": jpeg},
        "qian_other": {"area": "610424102", "point": other_code},
        "liquan": {
            "area": "610425100",
            "point": lq_code,
            "inspection": lq_id,
            "photo": lq_photo,
        },
        "webp": webp,
    }


def _pages(d: dict) -> list[str]:
    out = [f"/area/{d['area']}", f"/point/{d['point']}"]
    if "inspection" in d:
        out += [f"/inspection/{d['inspection']}", f"/photo/{d['photo']}"]
        out.append(f"/photo/{d['photo']}/thumb")
    return out


def _as(client, username: str):
    client.cookies.clear()
    assert web_login(client, username).status_code == 303
    return client


def test_anonymous_gets_the_login_page_never_data(client, desk):
    for d in (desk["qian"], desk["liquan"]):
        for url in _pages(d):
            r = client.get(url, follow_redirects=False)
            assert r.status_code == 303, url
            assert r.headers["location"].startswith("/login?next=" + url.split("?")[0])
            assert "周城镇" not in r.text and "礼泉" not in r.text


def test_inspectors_have_no_office_login(client, desk):
    for name in ("inspector", "lq_inspector", "city_inspector"):
        client.cookies.clear()
        assert web_login(client, name).status_code == 403
        for url in _pages(desk["qian"]) + _pages(desk["liquan"]):
            r = client.get(url, follow_redirects=False)
            assert r.status_code == 303 and "/login" in r.headers["location"], (name, url)
    # a phone's bearer token opens no office page either
    phone = login(client, "inspector", "d-1")
    r = client.get(f"/point/{desk['qian']['point']}", headers=phone, follow_redirects=False)
    assert r.status_code == 303


# who -> (sees, does not see)
MATRIX = {
    "admin": (["qian", "qian_other"], ["liquan"]),
    "supervisor": (["qian", "qian_other"], ["liquan"]),
    "lq_supervisor": (["liquan"], ["qian", "qian_other"]),
    "town_sup": (["qian"], ["qian_other", "liquan"]),
    "city_supervisor": (["qian", "qian_other", "liquan"], []),
}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_scope_decides_every_page_and_photo(client, desk, who):
    sees, hidden = MATRIX[who]
    _as(client, who)
    for key in sees:
        for url in _pages(desk[key]):
            r = client.get(url)
            assert r.status_code == 200, (who, url, r.text[:300])
            if url.startswith("/photo/"):
                assert r.headers["content-type"] == "image/jpeg"
            else:
                assert_one_language(r.text, "zh-CN")
    for key in hidden:
        for url in _pages(desk[key]):
            r = client.get(url)
            assert r.status_code == 404, (who, url)
            assert "image" not in r.headers["content-type"]
            for secret in ("史德", "东关", "西天堡", "薛录镇", "梁村镇"):
                assert secret not in r.text, (who, url, secret)


def test_township_page_lists_points_with_their_standing(client, desk, engine):
    _as(client, "supervisor")
    r = client.get(f"/area/{QIAN_TOWN}")
    assert r.status_code == 200
    page = html.unescape(r.text)
    with session_scope(engine) as s:
        town = s.exec(select(Area).where(Area.code == QIAN_TOWN)).one()
        points = s.exec(select(ServicePoint).where(ServicePoint.township_id == town.id)).all()
    for p in points:
        assert f'href="/point/{p.code}"' in r.text
    # the inspection just synced is the point's latest, with its failed items
    assert f'href="/inspection/{desk["qian"]["inspection"]}"' in r.text
    assert "图书册数" in page  # 900 volumes, under 1500
    assert "不达标" in page
    assert f'href="/followups?point={desk["qian"]["point"]}"' in r.text
    assert f'href="/followups?area={QIAN_TOWN}"' in r.text
    # readiness: the township's points inspected in this cycle (the demo's and this one)
    with session_scope(engine) as s:
        current = demo_cycle(s, "current")
        inspected = s.exec(
            select(PointSummary).where(
                PointSummary.cycle_id == current.id, PointSummary.township_id == town.id
            )
        ).all()
        codes = {s.get(ServicePoint, p.point_id).code for p in inspected}
    assert desk["qian"]["point"] in codes
    shown = f'<span class="n">{len(inspected)}</span><span class="l">已检查（覆盖率 '
    assert shown in page
    # last year's cycle is one choice away, and shows its own figures
    cycles = re.findall(r'<option value="(\d+)"', r.text)
    assert len(cycles) == 2
    old = client.get(f"/area/{QIAN_TOWN}?cycle={min(cycles, key=int)}")
    assert old.status_code == 200 and desk["qian"]["inspection"] not in old.text


def test_county_and_city_list_the_areas_below(client, desk):
    _as(client, "supervisor")
    r = client.get("/area/610424")
    assert r.status_code == 200
    assert len(re.findall(r'href="/area/610424\d{3}', r.text)) == 16  # 15 towns, 城关街道
    _as(client, "city_supervisor")
    r = client.get("/area/610400")
    assert r.status_code == 200
    assert 'href="/area/610424?cycle=' in r.text and 'href="/area/610425?cycle=' in r.text


def test_point_page_history_followups_and_distance(client, desk):
    _as(client, "supervisor")
    r = client.get(f"/point/{desk['qian']['point']}")
    page = html.unescape(r.text)
    assert f'href="/inspection/{desk["qian"]["inspection"]}"' in r.text
    assert "宋瞾静" in page  # the demo inspector who synced it
    # 34.70,108.10 against 34.71,108.11: about 1.4 km
    metres = int(re.search(r"(\d+) 米", page).group(1))
    assert 1300 < metres < 1500
    assert "期限" in page  # the follow-ups the failed items opened


def test_inspection_is_readable_and_notes_are_escaped(client, desk):
    _as(client, "supervisor")
    r = client.get(f"/inspection/{desk['qian']['inspection']}")
    assert r.status_code == 200
    assert "<script>alert" not in r.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in r.text
    page = html.unescape(r.text)
    assert "900 册" in page  # answers with their units
    assert "是" in page  # yes/no answers
    assert "低于标准 1500" in page  # the reason an item failed
    # items left blank are listed as not inspected, never among the failures
    failed = int(re.search(r"不合格项（(\d+) 项）", page).group(1))
    assert 1 <= failed <= 2  # the 900 books (and the reading room's photo, if not sent)
    assert re.search(r"未检查的项目（\d+ 项）", page) and "不开整改单" in page
    blank = page.split("未检查的项目", 1)[1].split("</p>", 2)[1]
    assert "阅览座位" in blank and "图书册数" not in blank
    assert "宋瞾静" in page and BEIJING_TIME in page  # who, and when (Beijing time)
    # the small map: its data, and the scripts served from here
    assert 'class="gps-map"' in r.text and 'data-plat="34.71"' in r.text
    assert '<script src="/static/leaflet/leaflet.js"' in r.text
    assert "<script>" not in r.text  # no inline script
    for sha in (desk["qian"]["photo"], desk["webp"]):
        assert f'src="/photo/{sha}/thumb"' in r.text and f'href="/photo/{sha}"' in r.text
    en = client.get(f"/inspection/{desk['qian']['inspection']}?lang=en")
    assert_one_language(en.text, "en")
    assert "900 volumes" in html.unescape(en.text) or "900 " in en.text


@pytest.mark.parametrize("kind", ["jpeg", "webp"])
def test_thumbnails_are_made_once_and_small(client, desk, settings, kind):
    sha = desk["qian"]["photo"] if kind == "jpeg" else desk["webp"]
    _as(client, "supervisor")
    path = thumb_path(settings.data_path, sha)
    assert not path.exists()
    r = client.get(f"/photo/{sha}/thumb")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(r.content))
    assert thumb.format == "JPEG" and max(thumb.size) == 320
    assert thumb.size == (320, 240)  # 4:3 kept
    assert path.exists() and path.read_bytes() == r.content  # cached on disk
    full = client.get(f"/photo/{sha}")
    assert full.headers["content-type"] == f"image/{kind}"
    assert Image.open(io.BytesIO(full.content)).size == (1200, 900)


def test_a_photo_no_inspection_lists_is_not_shown(client, desk, settings):
    # no phone can upload one any more (issue 11); one stored before that is still hidden
    phone = login(client, "inspector", "d-1")
    data = _image("JPEG", (1, 2, 3), (64, 48))
    stray = hashlib.sha256(data).hexdigest()
    assert client.put(f"/api/blobs/{stray}", headers=phone, content=data).status_code == 403
    assert write_complete(settings.data_path, data) == stray
    client.headers.pop("Authorization", None)
    _as(client, "admin")
    assert client.get(f"/photo/{stray}").status_code == 404
    assert client.get(f"/photo/{stray}/thumb").status_code == 404
    assert client.get("/photo/not-a-hash").status_code == 404


def test_unknown_codes_are_not_found_pages(client, desk):
    _as(client, "supervisor")
    for url in ("/area/999999", "/point/nope", "/inspection/nope", "/area/610424?cycle=x"):
        r = client.get(url)
        assert r.status_code in (200, 404), url
        assert "Traceback" not in r.text
    assert client.get("/area/610424?cycle=999999").status_code == 200


def test_static_leaflet_is_served_locally(client):
    r = client.get("/static/leaflet/leaflet.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert b"Leaflet" in r.content[:400]
    again = client.get("/static/leaflet/leaflet.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/static/gps_map.js").status_code == 200
    assert client.get("/static/nothing.js").status_code == 404
