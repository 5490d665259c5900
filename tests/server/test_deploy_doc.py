"""docs/deploy.md is run, not just read: its `xj` commands in order on both databases, its env
files are the ones shipped in deploy/, the unit files pass `systemd-analyze verify`, and the
unit's ExecStart really starts a server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
DEPLOY = ROOT / "deploy"
XUNJIAN = Path(shutil.which("xunjian") or ROOT / ".venv" / "bin" / "xunjian")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def shell_lines() -> list[str]:
    return [line.strip() for b in blocks("sh") for line in b.splitlines() if line.strip()]


def xj_definition(env_file: Path) -> str:
    [line] = [x for x in shell_lines() if x.startswith("xj()")]
    assert "sudo -u xunjian " in line and "/opt/xunjian/bin/xunjian" in line
    return (
        line.replace("sudo -u xunjian ", "")
        .replace("/etc/xunjian/xunjian.env", str(env_file))
        .replace("/opt/xunjian/bin/xunjian", str(XUNJIAN))
    )


def test_the_env_files_shown_are_the_ones_shipped():
    shown = [b.strip() for b in blocks("ini")]
    for name in ("county.env", "province.env"):
        assert (DEPLOY / name).read_text(encoding="utf-8").strip() in shown, name


def test_every_xj_command_runs_in_order(db_url, tmp_path):
    """The commands as the doc gives them, through its own `xj` function, with
    /var/lib/xunjian moved under tmp_path and the env file the shipped one."""
    var = tmp_path / "var-lib-xunjian"
    var.mkdir()
    shipped = "county.env" if db_url.startswith("sqlite") else "province.env"
    env_text = (DEPLOY / shipped).read_text(encoding="utf-8")
    env_text = env_text.replace("/var/lib/xunjian", str(var))
    if not db_url.startswith("sqlite"):  # the run's emptied database stands in for `xunjian`
        env_text = re.sub(
            r"^XUNJIAN_DATABASE_URL=.*$", f"XUNJIAN_DATABASE_URL={db_url}", env_text, flags=re.M
        )
    env_file = tmp_path / "xunjian.env"
    env_file.write_text(env_text, encoding="utf-8")
    (tmp_path / "xunjian").symlink_to(ROOT)  # "a checkout of this repository"
    commands = [x for x in shell_lines() if x.startswith("xj ")]
    assert len(commands) >= 10
    assert any(c.startswith("xj backup") for c in commands)
    assert any(c.startswith("xj restore") for c in commands)
    for command in commands:
        script = xj_definition(env_file) + "\n" + command.replace("/var/lib/xunjian", str(var))
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    assert list((var / "backups").glob("xunjian-*.tar"))
    assert (var / "backups" / "before-upgrade.tar").is_file()


def _units(tmp_path: Path) -> Path:
    """The shipped units with the program's path pointing at this checkout's."""
    folder = tmp_path / "units"
    (folder / "xunjian.service.d").mkdir(parents=True)
    for name in ("xunjian.service", "xunjian-backup.service", "xunjian-backup.timer"):
        text = (DEPLOY / name).read_text().replace("/opt/xunjian/bin/xunjian", str(XUNJIAN))
        (folder / name).write_text(text)
    dropin = (
        (DEPLOY / "province.conf").read_text().replace("/opt/xunjian/bin/xunjian", str(XUNJIAN))
    )
    (folder / "xunjian.service.d" / "province.conf").write_text(dropin)
    return folder


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_unit_files_pass_systemd_analyze_verify(tmp_path):
    folder = _units(tmp_path)
    names = ["xunjian.service", "xunjian-backup.service", "xunjian-backup.timer"]
    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(folder / n) for n in names)],
        capture_output=True,
        text=True,
        check=False,
        env={"SYSTEMD_UNIT_PATH": f"{folder}:", "PATH": "/usr/bin:/bin"},
    )
    # verify exits 0 on unknown keys and bad values, and only warns: any output is a fault
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_units_exec_start_serves(tmp_path, sqlite_template):
    """ExecStart of the unit and of the province drop-in, with the port moved, answer
    /healthz on a database at the head."""
    db = tmp_path / "xunjian.db"
    shutil.copy(sqlite_template, db)
    folder = _units(tmp_path)
    unit = (folder / "xunjian.service").read_text()
    dropin = (folder / "xunjian.service.d" / "province.conf").read_text()
    starts = [re.findall(r"^ExecStart=(.+)$", text, re.M)[-1] for text in (unit, dropin)]
    assert "--workers 4" in starts[1]
    for start in starts:
        port = free_port()
        argv = start.replace("--port 8000", f"--port {port}").split()
        env = {
            "PATH": "/usr/bin:/bin",
            "XUNJIAN_DATABASE_URL": f"sqlite:///{db}",
            "XUNJIAN_DATA_DIR": str(tmp_path / "data"),
        }
        proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
        try:
            status = None
            for _ in range(300):
                try:
                    url = f"http://127.0.0.1:{port}/healthz"
                    with urllib.request.urlopen(url, timeout=2) as r:
                        status = json.load(r)["status"]
                        break
                except OSError:
                    if proc.poll() is not None:
                        break
                    subprocess.run(["sleep", "0.1"], check=False)
            assert status == "ok", start
        finally:
            proc.terminate()
            proc.wait(20)
