"""A real Xunjian server in a subprocess on a free 127.0.0.1 port, for the tests (and bench
scripts) where the network matters. It is started the way a county runs it, through
`xunjian serve`, and waits until /healthz says the database is reachable and current."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.logins import DEMO_PASSWORD, held, login_body

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, data_dir: str | Path, secret: str = "") -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XUNJIAN_DATABASE_URL": database_url,
        "XUNJIAN_DATA_DIR": str(data_dir),
    }
    if secret:
        env["XUNJIAN_SECRET_KEY"] = secret
    return env


class LiveServer:
    """`start` again after `kill` or `stop` brings the same server back on the same port."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]

    def start(self, timeout: float = 30) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log_tail())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if json.load(r).get("status") == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start:\n" + self.log_tail())

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def post(
        self, path: str, body: dict, token: str | None = None, headers: dict | None = None
    ) -> dict:
        """POST JSON to the API, as a second phone would; returns the decoded answer."""
        headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(
            self.url + path, json.dumps(body).encode(), headers, method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read())

    def login(
        self,
        username: str = "inspector",
        device: str = "d-1",
        password: str = DEMO_PASSWORD,
        headers: dict | None = None,
    ) -> str:
        """Log a phone in (tests/logins.py's body); its bearer token."""
        body = login_body(username, device, password)
        return held(device, self.post("/api/auth/login", body, None, headers)["token"])

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
