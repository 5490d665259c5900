"""Browser tests: the real server on a free 127.0.0.1 port with the Qian County demo, and
Debian's Chromium driven by Playwright, emulating a mid-range Android phone.

Each test gets a fresh Chromium profile (a persistent context in its own folder, so a test
can close the browser and start it again on the same profile). Screenshots go to
test-artifacts/screens/ at phone size. When a test fails, the server's log is printed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import LiveServer, server_env

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "test-artifacts" / "screens"
CHROMIUM = os.environ.get("XUNJIAN_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "demo-pass-2020"
PHOTO = Path(__file__).with_name("data") / "photo.jpg"
# Chromium flags known to work here (shared/notes/environment.md).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Near 薛录镇 (Qian County); tests move it around to provoke the distance warning.
GEO = {"latitude": 34.60, "longitude": 108.20, "accuracy": 18}


SERVE_COPY = (
    "import sys; from pathlib import Path; import server.routes.pwa as p; "
    "p.pwa_dir = lambda: Path(sys.argv[1]); from server.cli import main; "
    "sys.exit(main(sys.argv[2:]))"
)


class FieldServer(LiveServer):
    """The server for browser tests: its own SQLite demo, optionally serving a copied shell
    (the update test edits that copy between two starts)."""

    def __init__(self, tmp: Path, pwa_dir: Path | None = None):
        self.tmp = tmp
        self.pwa_dir = pwa_dir
        self.db = tmp / "demo.db"
        self.data = tmp / "data"
        super().__init__(server_env(f"sqlite:///{self.db}", self.data), tmp / "server.log")

    def command(self) -> list[str]:
        cmd = super().command()
        if self.pwa_dir:
            cmd = [sys.executable, "-c", SERVE_COPY, str(self.pwa_dir), *cmd[3:]]
        return cmd

    def build(self, demo: bool = True) -> None:
        cmd = (
            ["demo", "--db", str(self.db), "--force", "--password", PASSWORD]
            if demo
            else ["db", "upgrade"]
        )
        res = subprocess.run(
            [sys.executable, "-m", "server.cli", *cmd],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if res.returncode:
            raise RuntimeError(f"xunjian {cmd[0]} failed:\n{res.stdout}\n{res.stderr}")

    def requests_since(self, offset: int) -> list[str]:
        """Access-log lines written after byte offset (to prove what the phone sent)."""
        with self.log.open("rb") as f:
            f.seek(offset)
            return [ln for ln in f.read().decode(errors="replace").splitlines() if '"' in ln]

    def log_size(self) -> int:
        return self.log.stat().st_size

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        con = sqlite3.connect(self.db)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def execute(self, sql: str, args: tuple = ()) -> None:
        con = sqlite3.connect(self.db)
        try:
            con.execute(sql, args)
            con.commit()
        finally:
            con.close()


def _serve(tmp_path_factory, demo: bool, pwa_dir: Path | None = None):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)")
    server = FieldServer(tmp_path_factory.mktemp("live"), pwa_dir)
    server.build(demo)
    server.start()
    return server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The server with the Qian County demo (accounts: inspector, inspector2, ...)."""
    server = _serve(tmp_path_factory, demo=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bare_server(tmp_path_factory):
    """The server on an empty, migrated database: enough for the app shell."""
    server = _serve(tmp_path_factory, demo=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pw():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def phone(pw) -> dict:
    return phone_options(pw)


def phone_options(pw) -> dict:
    """Pixel 7 emulation (412x915, touch, mobile UA), in China, with a GPS fix."""
    dev = {k: v for k, v in pw.devices["Pixel 7"].items() if k != "default_browser_type"}
    return {
        **dev,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "geolocation": GEO,
        "permissions": ["geolocation", "background-sync"],
    }


class Phone:
    """A Chromium profile that can be closed and started again (a browser restart)."""

    def __init__(self, pw, profile: Path, phone: dict, server: LiveServer):
        self.pw, self.profile, self.opts, self.server = pw, profile, phone, server
        self.context = None
        self.page = None
        self.console: list[str] = []

    def launch(self):
        self.context = self.pw.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            service_workers="allow",
            **self.opts,
        )
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        return self.page

    def close(self):
        if self.context:
            self.context.close()
        self.context = self.page = None

    def goto(self, path: str = "/app/"):
        self.page.goto(self.server.url + path)
        return self.page

    def wait_sw_activated(self):
        self.page.wait_for_function(
            """async () => {
                const reg = await navigator.serviceWorker.getRegistration();
                return !!(reg && reg.active && reg.active.state === 'activated'
                          && navigator.serviceWorker.controller);
            }""",
            timeout=20_000,
        )

    def shot(self, name: str):
        SCREENS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENS / f"{name}.png"))

    def login(self, username: str = "inspector", password: str = PASSWORD):
        page = self.page
        page.wait_for_selector("#username")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("form button[type=submit]")
        page.wait_for_selector("a.point", timeout=30_000)


def _phones(pw, phone, server, tmp_path):
    made: list[Phone] = []

    def make(name: str = "profile", **overrides) -> Phone:
        p = Phone(pw, tmp_path / name, {**phone, **overrides}, server)
        made.append(p)
        p.launch()
        return p

    return make, made


@pytest.fixture
def make_phone(pw, phone, live_server, tmp_path):
    """make_phone(name) -> a launched Phone on a fresh profile, against the demo server."""
    make, made = _phones(pw, phone, live_server, tmp_path)
    yield make
    for p in made:
        p.close()


@pytest.fixture
def bare_phone(pw, phone, bare_server, tmp_path):
    make, made = _phones(pw, phone, bare_server, tmp_path)
    yield make()
    for p in made:
        p.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for name, value in item.funcargs.items():
            for server in value if isinstance(value, tuple) else (value,):
                if isinstance(server, LiveServer):
                    rep.sections.append((f"{name} log", server.log_tail()))
