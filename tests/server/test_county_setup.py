"""The README's "set up your own county" section, run command by command on an empty
database for 礼泉县 (610425), not the demo's Qian County; then `xunjian serve` for real and an
inspector's phone (the reference sync client over HTTP) pulls the county. A township added
afterwards with `area add` reaches the phone on its next sync. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from sqlmodel import Session, select

from server.cli import main
from server.db import make_engine
from server.models import Area, AuditLog, Cycle, ServicePoint, TemplateVersion
from sync.client import Client
from sync.transport import HttpTransport
from tests.live import LiveServer, server_env

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## 为你的县建立巡检 · Set up your own county"


def readme_commands() -> list[list[str]]:
    """The `xunjian …` lines of the section's shell block, as argument lists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(HEADING, 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if line.startswith("xunjian "):
            commands.append(shlex.split(line)[1:])
    return commands


def run(db_url: str, args: list[str], capsys) -> str:
    argv = [a if not a.startswith("docs/") else str(ROOT / a) for a in args]
    code = main(["--database-url", db_url, *argv])
    out = capsys.readouterr()
    assert code == 0, f"xunjian {' '.join(args)} failed:\n{out.err}"
    return out.out


def test_readme_commands_set_up_a_county_that_a_phone_syncs(db_url, tmp_path, capsys):
    if db_url.startswith("sqlite"):
        db_url = f"sqlite:///{tmp_path / 'liquan.db'}"  # truly empty: not even migrated
    commands = readme_commands()
    assert [c[0] for c in commands[:2]] == ["db", "area"] and commands[-1][0] == "serve"
    passwords = {}
    for args in commands[:-1]:
        out = run(db_url, args, capsys)
        if args[:2] == ["user", "add"]:
            passwords[args[2]] = re.search(r"(?:密码|password)[:：]\s*(\S+)", out).group(1)
        if args[:2] == ["area", "list"]:
            assert "礼泉县" in out and "骏马镇" in out and "史德镇" in out
        if args[:2] == ["template", "list"]:
            assert "610425" not in out  # only the shipped defaults so far
    assert "610425 礼泉县" in run(db_url, ["template", "list"], capsys)

    engine = make_engine(db_url)
    with Session(engine) as s:
        areas = {a.code: a for a in s.exec(select(Area))}
        assert areas["610425"].level == "county" and areas["610400"].level == "city"
        assert areas["610425111"].parent_id == areas["610425"].id
        assert all(a.seq > 0 for a in areas.values()), "every area is stamped for sync"
        points = s.exec(select(ServicePoint)).all()
        assert len(points) == 6 and all(p.seq > 0 for p in points)
        assert {p.manager_phone for p in points} >= {"13891234568", "029-35621234"}
        assert s.exec(select(Cycle)).one().current
        actions = {a.action for a in s.exec(select(AuditLog))}
        assert {"area.import", "area.add", "points.import", "cycle.add", "user.add"} <= actions
        county_versions = s.exec(
            select(TemplateVersion).where(TemplateVersion.county_id == areas["610425"].id)
        ).all()
        assert [v.content["params"]["book_volumes_min"] for v in county_versions] == [2000]
    engine.dispose()

    env = server_env(db_url, tmp_path / "data", secret="test-secret-key-not-a-placeholder")
    with LiveServer(env, tmp_path / "serve.log") as srv:
        phone = Client(str(tmp_path / "phone.db"), HttpTransport(srv.url))
        try:
            phone.login("zhangwei", passwords["zhangwei"])
            phone.sync()
            pulled = phone.store.records("areas")
            assert {"610425", "610425101", "610425111"} <= set(pulled)
            assert len(phone.store.records("points")) == 6
            templates = phone.store.records("templates")
            assert any(t["county_code"] == "610425" for t in templates.values())
            assert any(c["county_code"] == "610425" for c in phone.store.records("cycles").values())

            run(db_url, ["area", "add", "610425112", "新时代镇"], capsys)
            phone.sync()
            assert phone.store.records("areas")["610425112"]["name"] == "新时代镇"
            run(db_url, ["area", "rename", "610425112", "新时镇"], capsys)
            phone.sync()
            assert phone.store.records("areas")["610425112"]["name"] == "新时镇"
        finally:
            phone.close()
