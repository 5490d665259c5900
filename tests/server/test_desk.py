"""The director's desk (issue 9 parts 1 and 2): the overview agrees with the full roll-up,
every number on it opens a list of exactly that many points, and an authorization matrix
(anonymous, inspector, supervisor and admin, in and out of scope, two counties of one city)
for every desk page and the map's GeoJSON."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from server.db import session_scope
from server.domain.summary import RATING_CODES
from server.models import Area, Cycle, PointSummary, ServicePoint, User
from server.services.admin_rights import rights_of
from server.services.boundaries import upload_boundaries
from server.services.changes import stamp
from server.services.compliance_map import BANDS, NO_DATA, RATING_COLORS, band_of
from server.services.overview import overview
from server.services.rollups import cycle_rollup
from server.services.scope import scope_of
from tests.demo_cycles import demo_cycle
from tests.logins import api_login, web_login
from tests.server.demo_boundaries import demo_boundaries
from tests.server.test_i18n import assert_one_language
from tests.server.test_summaries import World

PAGES = ["/", "/points", "/map", "/map/data.geojson"]
COUNT = re.compile(r"(?:共 |^)(\d+) ?(?:个服务点|service points?)", re.M)


def _as(client, username):
    client.cookies.clear()
    assert web_login(client, username).status_code == 303
    return client


def _count(page: str) -> int:
    m = re.search(r"<p>共 (\d+) 个服务点</p>", page)
    assert m, page[:2000]
    return int(m.group(1))


@pytest.fixture
def world(client, engine, demo, tmp_path):
    """礼泉县 beside 乾县 (tests/server/counties.py), with inspections of both counties in
    their current cycles synced by the city's inspector."""
    w = World(client, engine, tmp_path)
    # cycle pick 1: 乾县's current cycle and 礼泉县's only one
    w.push([("new", p, 1, True, p, 100 + p) for p in range(8)])
    return w


@pytest.mark.parametrize("role", ["previous", "current"])
def test_overview_agrees_with_the_full_rollup(engine, demo, role):
    with session_scope(engine) as s:
        cycle = demo_cycle(s, role)
        county = s.get(Area, cycle.county_id)
        view = overview(s, county, str(cycle.id), cycle.end_date)
        ref = cycle_rollup(s, cycle)
    total = view.total.now
    assert (total.points, total.inspected) == (
        ref["county"]["active_points"],
        ref["county"]["inspected_points"],
    )
    for rating in RATING_CODES:
        assert getattr(total, rating) == ref["county"]["ratings"].get(rating, 0), rating
    rows = {r.area.code: r.now for r in view.rows}
    assert len(rows) == 16
    for t in ref["townships"]:
        assert (rows[t["code"]].points, rows[t["code"]].inspected) == (
            t["active_points"],
            t["inspected_points"],
        )
    items = {i.item_key: 0 for i in view.items}
    for i in view.items:
        items[i.item_key] += i.counted
    assert items == {k: v["counted"] for k, v in ref["county"]["items"].items()}
    assert view.choice.single and view.choice.selected == cycle.id


def test_every_number_opens_a_list_of_that_many_points(office):
    page = office.get("/").text
    links = re.findall(r'<a href="(/points\?[^"]+)">(\d+)</a>', page)
    assert len(links) > 60
    assert any("rating=none" in href for href, _ in links)
    assert any("item=" in href for href, _ in links)
    assert any("critical=1" in href for href, _ in links)
    for href, shown in sorted(set(links))[:80]:
        listed = office.get(html.unescape(href))
        assert listed.status_code == 200, href
        assert _count(listed.text) == int(shown), href
    followups = re.findall(r'<a href="(/followups\?[^"]+)">(\d+)</a>', page)
    assert followups and all("status=" in h for h, _ in followups)


def test_change_since_the_previous_cycle_and_days_left(office, engine, world):
    with session_scope(engine, write=True) as s:
        qian = s.exec(select(Area).where(Area.code == "610424")).one()
        cycle = demo_cycle(s, "current")
        cycle.assessment_date = date(2099, 1, 1)
        previous = demo_cycle(s, "previous")
    page = office.get("/?area=610424").text
    assert cycle.name in page
    assert "天后考核（2099-01-01）" in page
    with session_scope(engine) as s:
        view = overview(s, qian, None, date(2098, 12, 22))
    assert view.choice.selected == cycle.id  # the latest cycle with inspections
    assert view.deadlines[0].days_left == 10
    assert view.choice.previous[qian.id].id == previous.id
    town = next(r for r in view.rows if r.area.code == "610424001")
    assert town.before is not None and town.before.inspected == 3
    assert town.change is not None
    assert view.inspectors and view.inspectors[0].user.username == "city_inspector"


def test_a_city_sees_its_counties_by_year(client, engine, world):
    with session_scope(engine) as s:
        current = demo_cycle(s, "current")
    _as(client, "city_supervisor")
    page = client.get("/").text
    assert "咸阳市" in page and "乾县" in page and "礼泉县" in page
    assert '<option value="' in page and f"{current.year} 年度" in page
    # drilling into a county passes that county's own cycle
    m = re.search(r'href="/\?area=610425&amp;cycle=(\d+)"', page)
    assert m, page
    county_page = client.get(f"/?area=610425&cycle={m.group(1)}").text
    assert "城关镇" in county_page and "史德镇" in county_page
    assert f"{current.name}（礼泉）" in county_page


def test_anonymous_and_inspectors_get_the_login_page_never_data(client, world):
    phone = api_login(client, "inspector", "d-9")
    for url in PAGES:
        client.cookies.clear()
        r = client.get(url, params={"area": "610424"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url
        # an inspector cannot log in to the office pages, and a phone's token opens none
        assert web_login(client, "inspector").status_code != 303
        r = client.get(url, headers=phone, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url


@pytest.mark.parametrize(
    "who, asks, sees, never",
    [
        ("supervisor", "610424", "城关街道", "史德镇"),
        ("admin", "610424", "城关街道", "史德镇"),
        ("supervisor", "610425", "城关街道", "史德镇"),  # out of scope: their own county
        ("lq_supervisor", "610424", "史德镇", "城关街道"),  # out of scope: their own county
        ("lq_supervisor", "610425", "史德镇", "城关街道"),
        ("city_supervisor", "610425", "史德镇", "城关街道"),
    ],
)
def test_scope_decides_what_each_page_shows(client, world, who, asks, sees, never):
    _as(client, who)
    for url in PAGES:
        r = client.get(url, params={"area": asks})
        assert r.status_code == 200, url
        assert sees in r.text and never not in r.text, url


def test_names_are_escaped(office, engine):
    with session_scope(engine, write=True) as s:
        town = s.exec(select(Area).where(Area.code == "610424101")).one()
        town.name = "<script>alert(1)</script>镇"
        point = s.exec(select(ServicePoint).where(ServicePoint.township_id == town.id)).first()
        point.name = "<script>alert(2)</script>村"
    for url in ("/", "/points?area=610424", "/points?area=610424&rating=none", "/map"):
        page = office.get(url).text
        assert "<script>alert" not in page, url
        assert "&lt;script&gt;alert(" in page, url


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_desk_pages_speak_one_language(office, lang):
    for url in ("/", "/points", "/map", "/points?rating=fail", "/points?item=rules_posted"):
        r = office.get(url, params={"lang": lang})
        assert r.status_code == 200
        assert_one_language(r.text, lang)
    features = office.get("/map/data.geojson", params={"lang": lang}).json()["features"]
    shown = {f["properties"]["word"] for f in features}
    words = {"达标", "未检查"} if lang == "zh-CN" else {"Meets standard", "Not inspected"}
    assert words <= shown


def _load_boundaries(engine) -> None:
    with session_scope(engine, write=True) as s:
        admin = s.exec(select(User).where(User.username == "admin")).one()
        doc = demo_boundaries(engine)
        report = upload_boundaries(s, rights_of(s, scope_of(s, admin)), json.dumps(doc).encode())
        assert not report.problems and len(report.stored) == 16


def _points(data: dict) -> list[dict]:
    """The map's point groups (one MultiPoint per rating) as one dict per point."""
    out = []
    for f in data["features"]:
        p = f["properties"]
        if p["kind"] != "points":
            continue
        for i, (lon, lat) in enumerate(f["geometry"]["coordinates"]):
            out.append(
                {
                    "code": p["codes"][i],
                    "township": data["township_names"][p["townships"][i]],
                    "rating": p["rating"],
                    "color": p["color"],
                    "href": p["href"].replace("{code}", p["codes"][i]),
                    "at": (lon, lat),
                }
            )
    return out


def test_map_data_colours_townships_and_points(office, engine):
    data = office.get("/map/data.geojson").json()
    assert {f["properties"]["kind"] for f in data["features"]} == {"points"}  # no boundaries
    _load_boundaries(engine)
    r = office.get("/map/data.geojson?area=610424")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    features = r.json()["features"]
    towns = [f for f in features if f["properties"]["kind"] == "township"]
    points = _points(r.json())
    with session_scope(engine, write=True) as s:
        cycle = demo_cycle(s, "current")  # the overview's default: the latest with data
        later = Cycle(
            name="下一年度",
            year=cycle.year + 1,
            start_date=cycle.end_date + timedelta(days=1),
            end_date=cycle.end_date + timedelta(days=365),
            county_id=cycle.county_id,
        )
        stamp(s, later)
        s.flush()
        later_id = later.id
    with session_scope(engine) as s:
        view = overview(
            s, s.exec(select(Area).where(Area.code == "610424")).one(), None, date.today()
        )
        rated = {
            p.code: ps.rating
            for p, ps in s.exec(
                select(ServicePoint, PointSummary)
                .join(PointSummary, PointSummary.point_id == ServicePoint.id)
                .where(PointSummary.cycle_id == cycle.id)
            )
        }
        placed = s.exec(select(ServicePoint).where(ServicePoint.lat.is_not(None))).all()
    assert len(towns) == 16 and len(points) == len(placed) == 53
    rows = {r.area.code: r.now for r in view.rows}
    for f in towns:
        p = f["properties"]
        assert p["fill"] == band_of(rows[p["code"]].compliance).color
        assert p["href"] == f"/area/{p['code']}?cycle={cycle.id}"
    assert {f["properties"]["band"] for f in towns} >= {"high", "low"}
    placed_at = {p.code: (p.lon, p.lat) for p in placed}
    for p in points:
        assert p["rating"] == rated.get(p["code"], "none")
        assert p["color"] == RATING_COLORS[p["rating"]] and p["href"] == f"/point/{p['code']}"
        assert p["at"] == pytest.approx(placed_at[p["code"]])
        assert p["township"] in {t["properties"]["name"] for t in towns}
    assert sum(p["rating"] == "none" for p in points) == 14
    # in a cycle nobody inspected yet every township has the no-data colour
    empty = office.get(f"/map/data.geojson?area=610424&cycle={later_id}").json()
    fills = {f["properties"].get("fill") for f in empty["features"]}
    assert fills == {NO_DATA.color, None}  # townships grey; None: the points group
    assert {p["rating"] for p in _points(empty)} == {"none"}


def test_map_page_has_a_legend_a_table_and_no_inline_script(office, engine):
    _load_boundaries(engine)
    with session_scope(engine) as s:
        cycle = demo_cycle(s, "current")
    page = office.get("/map").text
    for band in BANDS:
        assert band.color in page
    assert NO_DATA.color in page and "无数据" in page and "未检查" in page
    assert f'data-src="/map/data.geojson?area=610424&amp;cycle={cycle.id}"' in page
    assert 'data-tiles=""' in page  # no tile server unless one is set
    assert "城关街道" in page and "乾县合计" in page
    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/static/leaflet/leaflet.js" defer>',
        '<script src="/static/map.js" defer>',
    ]
    assert "<script></script>" not in page
    for asset in ("/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css", "/static/map.js"):
        assert office.get(asset).status_code == 200, asset
    assert office.get("/static/leaflet/images/marker-icon.png").status_code == 200
    assert office.get("/static/nothing.js").status_code == 404


def test_a_tile_server_is_a_setting(client, demo, settings):
    from starlette.testclient import TestClient

    from server.app import create_app

    tiles = "http://t0.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY"
    app = create_app(dataclasses.replace(settings, map_tiles=tiles, map_attribution="天地图"))
    with TestClient(app) as c:
        assert web_login(c).status_code == 303
        page = c.get("/map").text
    assert f'data-tiles="{html.escape(tiles)}"' in page and 'data-attribution="天地图"' in page


def test_open_and_overdue_follow_ups_are_those_of_the_list(engine, demo):
    """The overview's follow-up counts come from the summaries, and the closed points'
    (which the summaries do not count) are added: the numbers equal the follow-up rows
    the list behind them shows, for a county and for the city above it."""
    from server.models import FollowUp
    from server.services.summaries import refresh_points

    with session_scope(engine, write=True) as s:
        qian = s.exec(select(Area).where(Area.code == "610424")).one()
        towns = [a.id for a in s.exec(select(Area).where(Area.parent_id == qian.id))]
        opened = s.exec(
            select(FollowUp.point_id)
            .join(ServicePoint, ServicePoint.id == FollowUp.point_id)
            .where(FollowUp.status == "open", ServicePoint.township_id.in_(towns))
        ).first()
        assert opened is not None, "the demo leaves open follow-ups"
        point = s.get(ServicePoint, opened)
        point.active = False
        s.add(point)
        s.flush()
        refresh_points(s, [point.id])
    with session_scope(engine) as s:
        rows = s.exec(
            select(FollowUp.due_date, Area.parent_id)
            .join(ServicePoint, ServicePoint.id == FollowUp.point_id)
            .join(Area, Area.id == ServicePoint.township_id)
            .where(FollowUp.status == "open")
        ).all()
        qian = s.exec(select(Area).where(Area.code == "610424")).one()
        city = s.get(Area, qian.parent_id)
        days = sorted({d for d, _ in rows})
        day = days[len(days) // 2]
        county_view = overview(s, qian, None, day)
        city_view = overview(s, city, None, day)
    mine = [d for d, c in rows if c == qian.id]
    assert (county_view.total.now.followups_open, county_view.total.now.followups_overdue) == (
        len(mine),
        sum(d < day for d in mine),
    )
    by_county = {r.area.id: r.now for r in city_view.rows}
    assert by_county[qian.id].followups_open == len(mine)
    assert city_view.total.now.followups_open == len(rows)
    assert 0 < city_view.total.now.followups_overdue < len(rows)


def test_map_data_is_kept_until_something_it_shows_changes(office, engine):
    """The map's data is cached per database while the change counter stands still: the
    same bytes again, and a stamped change to a point (as every writer makes) shows at once."""
    from server.services.changes import stamp

    first = office.get("/map/data.geojson?area=610424")
    assert office.get("/map/data.geojson?area=610424").content == first.content
    code = _points(first.json())[0]["code"]
    with session_scope(engine, write=True) as s:
        point = s.exec(select(ServicePoint).where(ServicePoint.code == code)).one()
        point.name = "改名后的服务点"
        stamp(s, point)
    again = office.get("/map/data.geojson?area=610424").json()
    names = {n for f in again["features"] for n in f["properties"].get("names", [])}
    assert "改名后的服务点" in names


def test_a_citys_overview_is_kept_until_a_stamped_change(engine, demo):
    """A city's overview is kept (services/desk_cache.py) while the change counter stands
    still; a follow-up marked fixed, stamped as every writer does, shows at once."""
    from server.models import FollowUp
    from server.services.changes import stamp
    from server.services.summaries import refresh_points

    day = date(2026, 12, 1)
    with session_scope(engine) as s:
        city = s.exec(select(Area).where(Area.code == "610400")).one()
        first = overview(s, city, None, day)
        assert overview(s, city, None, day) is first
    with session_scope(engine, write=True) as s:
        f = s.exec(select(FollowUp).where(FollowUp.status == "open")).first()
        assert f is not None
        f.status = "fixed"
        stamp(s, f)
        refresh_points(s, {f.point_id})
    with session_scope(engine) as s:
        city = s.exec(select(Area).where(Area.code == "610400")).one()
        again = overview(s, city, None, day)
    assert again.total.now.followups_open == first.total.now.followups_open - 1


def test_map_points_are_encoded_again_when_a_point_moves(office, engine):
    """The encoded points (kept across inspections: only the ratings are read again) are
    rebuilt when a point changes (a stamped move)."""
    from server.services.changes import stamp

    first = _points(office.get("/map/data.geojson?area=610424").json())
    moved = first[0]["code"]
    with session_scope(engine, write=True) as s:
        point = s.exec(select(ServicePoint).where(ServicePoint.code == moved)).one()
        point.lat, point.lon = 34.5, 108.25
        stamp(s, point)
    again = {p["code"]: p for p in _points(office.get("/map/data.geojson?area=610424").json())}
    assert again[moved]["at"] == pytest.approx((108.25, 34.5))
    assert len(again) == len(first)


def test_map_points_outlive_the_age_bound(office, engine, monkeypatch):
    """The encoded points have no age bound (every point or area edit is stamped): two
    minutes on, the whole map is built again, but from the kept layer of points."""
    from server.services import compliance_map, desk_cache

    built = []
    real = compliance_map._point_layer
    monkeypatch.setattr(compliance_map, "_point_layer", lambda *a: built.append(1) or real(*a))
    desk_cache.clear()
    first = office.get("/map/data.geojson?area=610424").content
    later = desk_cache.monotonic() + 120
    monkeypatch.setattr(desk_cache, "monotonic", lambda: later)
    real_build = compliance_map.build_map_data
    maps = []
    monkeypatch.setattr(
        compliance_map, "build_map_data", lambda *a: maps.append(1) or real_build(*a)
    )
    assert office.get("/map/data.geojson?area=610424").content == first
    assert (built, maps) == ([1], [1])
