"""A city on one server: an inspector of 咸阳市 works in two counties, 乾县 (610424) and 礼泉县
(610425), each with its own thresholds. The field app must start each point's checklist from
the version that applies to the point's county (its own latest override, else the latest
default: services/templates.active_version), not the highest version of any county."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlmodel import select

from server.db import make_engine, session_scope
from server.models import Area, ServicePoint
from server.services.changes import stamp
from tests.e2e.conftest import PASSWORD, ROOT, _serve
from tests.e2e.test_field_app import open_point, start_inspection

pytestmark = pytest.mark.browser

LIQUAN = "610425"
LIQUAN_POINT = ("610425101201", "烟霞村服务点")


@pytest.fixture(scope="module")
def city_server(tmp_path_factory):
    """The demo plus a second county with one township and one village point, an inspector
    for the whole city, and a threshold override in each county (礼泉县's is the newest)."""
    server = _serve(tmp_path_factory, demo=True)
    engine = make_engine(f"sqlite:///{server.db}")
    with session_scope(engine, write=True) as s:
        city = s.exec(select(Area).where(Area.code == "610400")).one()
        county = Area(code=LIQUAN, name="礼泉县", level="county", parent_id=city.id)
        stamp(s, county)
        s.flush()
        town = Area(code="610425101", name="烟霞镇", level="township", parent_id=county.id)
        stamp(s, town)
        s.flush()
        assert town.id is not None
        point = ServicePoint(
            code=LIQUAN_POINT[0], name=LIQUAN_POINT[1], kind="village", township_id=town.id
        )
        stamp(s, point)
    engine.dispose()

    def cli(*args: str) -> None:
        cmd = [sys.executable, "-m", "server.cli", *args]
        res = subprocess.run(cmd, cwd=ROOT, env=server.env, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr

    cli("user", "add", "city", "--name", "王城", "--area", "610400", "--password", PASSWORD)
    cli("template", "params", "village_point", "--county", "610424", "book_volumes_min=1800")
    cli("template", "params", "village_point", "--county", LIQUAN, "book_volumes_min=2000")
    yield server
    server.stop()


def _version(server, county: str | None) -> int:
    where = "a.code = ?" if county else "v.county_id IS NULL"
    rows = server.query(
        "SELECT MAX(v.version) FROM template_version v "
        "JOIN checklist_template t ON t.id = v.template_id LEFT JOIN area a ON a.id = v.county_id "
        f"WHERE t.key = 'village_point' AND {where}",
        (county,) if county else (),
    )
    return rows[0][0]


def test_each_point_gets_its_countys_checklist(pw, phone, city_server, tmp_path):
    from tests.e2e.conftest import Phone

    qian, liquan, default = (
        _version(city_server, "610424"),
        _version(city_server, LIQUAN),
        _version(city_server, None),
    )
    assert default < qian < liquan  # the highest version is the other county's
    p = Phone(pw, tmp_path / "city", phone, city_server)
    p.launch()
    try:
        page = p.goto()
        p.login("city")
        for name, version, threshold in (
            ("巨州村服务点", qian, "1,800"),
            (LIQUAN_POINT[1], liquan, "2,000"),
        ):
            open_point(page, name)
            rid = start_inspection(page)
            rec = page.evaluate(
                "async (id) => (await import('/app/js/db.js')).get('inspections', id)", rid
            )
            assert rec["template_version"] == version, name
            page.fill("#item-book_volumes input", "1700")
            assert f"低于标准 {threshold}" in page.inner_text("#item-book_volumes .status")
            # the help says the county's own figure, from the same param as the rule
            minimum = threshold.replace(",", "")
            help_ = page.inner_text("#item-book_volumes .help")
            assert help_ == f"按台账清点，不少于 {minimum} 册。", help_
        p.shot("35-form-second-county")
    finally:
        p.close()
