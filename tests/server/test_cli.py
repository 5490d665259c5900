"""The `xunjian` command, run in-process and, for `serve`, as a real server."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from server.cli import main
from server.db import make_engine
from server.models import (
    Area,
    FollowUp,
    Inspection,
    ServicePoint,
    TemplateVersion,
    User,
)
from server.services.auth import verify_password
from tests.live import LiveServer, server_env


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    os.environ["XUNJIAN_DATA_DIR"] = str(folder / "data")
    try:
        code = main(["demo", "--db", str(folder / "demo.db"), "--password", "pw-123456"])
    finally:
        del os.environ["XUNJIAN_DATA_DIR"]
    assert code == 0
    return folder


def _url(folder: Path) -> str:
    return f"sqlite:///{folder / 'demo.db'}"


def test_demo_holds_qian_county(demo_db):
    engine = make_engine(_url(demo_db))
    with Session(engine) as s:
        townships = s.exec(select(Area).where(Area.level == "township")).all()
        assert len(townships) == 16
        assert {t.code for t in townships} >= {"610424001", "610424101", "610424115"}
        points = s.exec(select(ServicePoint)).all()
        names = {p.name for p in points}
        for village in (
            "董城村服务点",
            "上旦村服务点",
            "任家洼村服务点",
            "善化寺村服务点",
            "北仁村分馆",
        ):
            assert village in names
        assert sum(p.kind == "branch" for p in points) == 17
        assert all(34.40 <= p.lat <= 34.72 and 108.05 <= p.lon <= 108.45 for p in points)
        assert all(p.coords_approx for p in points)
        users = {u.username: u for u in s.exec(select(User))}
        assert {"admin", "supervisor", "inspector", "inspector2"} <= set(users)
        assert verify_password(users["inspector"].password_hash, "pw-123456")
        submitted = s.exec(select(Inspection).where(Inspection.status == "submitted")).all()
        assert len(submitted) >= 40
        assert all(i.result and i.rating in {"good", "basic", "fail"} for i in submitted)
        assert {i.rating for i in submitted} == {"good", "basic", "fail"}
        assert not any(i.result["rating"]["not_inspected"] for i in submitted)
        assert all(i.evidence_complete for i in submitted)
        follow = s.exec(select(FollowUp)).all()
        assert any(f.status == "open" for f in follow)
        assert any(f.status == "closed" for f in follow), "re-checks should close follow-ups"
    for insp in submitted:
        for photo in insp.photos:
            path = demo_db / "data" / "blobs" / photo["sha256"][:2] / photo["sha256"]
            assert path.exists()
    engine.dispose()


def test_demo_run_again_keeps_its_data_and_says_where_the_passwords_are(demo_db, capsys):
    """./scripts/demo run a second time serves the same demo: nothing is wiped, no new
    passwords; it names the file that holds them (written, owner-only, at the first run)."""
    accounts = demo_db / "demo.db.accounts.txt"
    assert "inspector2  pw-123456" in accounts.read_text(encoding="utf-8").splitlines()
    assert accounts.stat().st_mode & 0o077 == 0
    before = (demo_db / "demo.db").stat().st_mtime_ns
    assert main(["demo", "--db", str(demo_db / "demo.db")]) == 0
    out = capsys.readouterr().out
    assert "保留原有数据" in out and "--force" in out and str(accounts) in out
    assert (demo_db / "demo.db").stat().st_mtime_ns == before
    engine = make_engine(_url(demo_db))
    with Session(engine) as s:
        assert len(s.exec(select(Inspection)).all()) >= 40
    engine.dispose()


def test_demo_run_again_after_an_update_brings_its_schema_up_to_date(demo_db, tmp_path, capsys):
    """A demo built by an older version, run again after a `git pull` that brought a
    migration: it is kept and migrated, so `serve` does not refuse it (it said "run
    `xunjian demo`", which kept the old schema)."""
    import shutil

    from alembic import command

    from server.migrate import alembic_config, current_revisions, head_revisions

    db = tmp_path / "demo.db"
    shutil.copy(demo_db / "demo.db", db)
    url = f"sqlite:///{db}"
    command.downgrade(alembic_config(url), "0015_point_cycle_latest")
    engine = make_engine(url)
    with Session(engine) as s:
        count = s.exec(select(func.count()).select_from(Inspection)).one()
    assert current_revisions(engine) == {"0015_point_cycle_latest"}
    engine.dispose()
    assert main(["demo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "保留原有数据" in out and "已升级到本版本" in out
    engine = make_engine(url)
    assert current_revisions(engine) == head_revisions(url)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Inspection)).one() == count >= 40
    engine.dispose()
    assert main(["demo", "--db", str(db)]) == 0  # current already: nothing more to say
    assert "已升级到本版本" not in capsys.readouterr().out


def test_the_demo_and_the_tests_install_into_separate_venvs():
    """Both README commands in one clone: the demo's `pip install .` and the tests' editable
    install must not replace each other (the demo's pages answered 500, TemplateNotFound)."""
    root = Path(__file__).resolve().parents[2]
    demo, test = (root / "scripts" / n for n in ("demo", "test"))
    demo_text, test_text = demo.read_text(encoding="utf-8"), test.read_text(encoding="utf-8")
    run = [ln for ln in demo_text.splitlines() if ln.startswith(".venv-demo/bin/xunjian demo")]
    assert ".venv-demo/bin/pip install --quiet ." in demo_text and ".venv/" not in demo_text
    assert len(run) == 1 and "--force" not in run[0]  # a second run keeps the demo
    assert ".venv/bin/pip install --quiet -e" in test_text and ".venv-demo" not in test_text


def test_user_add(demo_db, capsys):
    args = ["--database-url", _url(demo_db), "user", "add"]
    assert main([*args, "wang", "--name", "王建国", "--area", "610424112"]) == 0
    out = capsys.readouterr().out
    assert "wang" in out and "梁山镇" in out
    assert main([*args, "wang", "--name", "王建国", "--area", "610424112"]) == 1
    assert main([*args, "li", "--name", "李", "--area", "999999"]) == 1
    assert "999999" in capsys.readouterr().err


def test_template_load_refuses_a_bad_file_whole(demo_db, tmp_path, capsys):
    from server.domain.templates import load_builtin_templates

    content = load_builtin_templates()["village_point"]
    items = content["sections"][0]["items"]
    items[0] = {**items[0], "type": "numbr"}
    items[1] = {**items[1], "rule": {"op": "≥", "value": 3}}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    engine = make_engine(_url(demo_db))
    with Session(engine) as s:
        before = s.exec(select(func.count()).select_from(TemplateVersion)).one()
    assert main(["--database-url", _url(demo_db), "template", "load", str(path)]) == 1
    err = capsys.readouterr().err
    assert items[0]["key"] in err and items[1]["key"] in err
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(TemplateVersion)).one() == before
    engine.dispose()


def test_template_params_make_a_county_version(demo_db, capsys):
    url = _url(demo_db)

    def set_param(assignment: str) -> int:
        args = ["template", "params", "village_point", assignment, "--county", "610424"]
        return main(["--database-url", url, *args])

    assert set_param("book_volumes_min=2000") == 0
    engine = make_engine(url)
    with Session(engine) as s:
        latest = s.exec(select(TemplateVersion).order_by(TemplateVersion.id.desc())).first()
        assert latest.county_id is not None
        assert latest.content["params"]["book_volumes_min"] == 2000
    engine.dispose()
    assert set_param("no_such_param=1") == 1
    assert "no_such_param" in capsys.readouterr().err


def test_import_points_exit_codes(demo_db, tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text(
        "编码,名称,类型,乡镇代码\n610424109201,注泔村服务点,村服务点,610424109\n"
        "610424109202,某村,村服务点,000\n",
        encoding="utf-8",
    )
    args = ["--database-url", _url(demo_db), "import", "points", str(path)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "第 3 行 township_code" in err and "未导入任何数据" in err
    assert main(["--lang", "en", *args]) == 1
    assert "Row 3, township_code" in capsys.readouterr().err
    assert main([*args, "--skip-bad"]) == 0
    assert "新增 1" in capsys.readouterr().out


def test_cli_refuses_a_database_behind_head(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["--database-url", url, "user", "add", "x", "--name", "x", "--area", "1"]) == 1
    assert "db upgrade" in capsys.readouterr().err
    assert main(["--database-url", url, "db", "upgrade"]) == 0


def test_serve_answers_over_real_http(demo_db):
    env = server_env(_url(demo_db), demo_db / "data")
    with LiveServer(env, demo_db / "serve.log") as srv:
        with urllib.request.urlopen(srv.url + "/healthz") as r:
            assert json.load(r)["status"] == "ok"
        with urllib.request.urlopen(srv.url + "/") as r:  # anonymous: the login page
            page = r.read().decode()
            assert r.url.startswith(srv.url + "/login")
    assert 'name="password"' in page and "梁山镇" not in page
