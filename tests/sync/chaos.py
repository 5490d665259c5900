"""Pieces of the fault test: a uvicorn subprocess that can be SIGKILLed and restarted, and
a TCP proxy that cuts connections mid-request and mid-response."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, settings, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "XUNJIAN_DATABASE_URL": settings.database_url,
            "XUNJIAN_DATA_DIR": settings.data_dir,
            "XUNJIAN_SECRET_KEY": settings.secret_key,
        }
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - handed to the child for its lifetime
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "server.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=out,
        )
        out.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log.read_text()[-3000:])

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


class CuttingProxy:
    """Each connection either passes, is cut after a few request bytes, or is cut after a few
    response bytes. ``on_request`` may be set to act (e.g. kill the server) mid-batch."""

    def __init__(self, target: int, seed: int, cut_rate: float = 0.35) -> None:
        self.target = target
        self.port = free_port()
        self.rng = random.Random(seed)
        self.cut_rate = cut_rate
        self.cuts = {"request": 0, "response": 0, "pass": 0}
        self.on_request = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> None:
        self.thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop)
        self.thread.join(5)
        self.loop.close()

    async def _handle(self, reader, writer) -> None:
        roll = self.rng.random()
        mode = "pass"
        if roll < self.cut_rate / 2:
            mode = "request"
        elif roll < self.cut_rate:
            mode = "response"
        limit = self.rng.randint(1, 4000)
        self.cuts[mode] += 1
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return

        async def pipe(src, dst, cut: int | None, upstream: bool) -> None:
            sent = 0
            try:
                while True:
                    data = await src.read(4096)
                    if not data:
                        break
                    if cut is not None and sent + len(data) >= cut:
                        dst.write(data[: max(0, cut - sent)])
                        await dst.drain()
                        writer.transport.abort()
                        up_w.transport.abort()
                        return
                    dst.write(data)
                    await dst.drain()
                    sent += len(data)
                    if upstream and self.on_request is not None:
                        self.on_request(data)
                dst.write_eof()
            except (OSError, RuntimeError):
                writer.transport.abort()
                up_w.transport.abort()

        await asyncio.gather(
            pipe(reader, up_w, limit if mode == "request" else None, True),
            pipe(up_r, writer, limit if mode == "response" else None, False),
        )
        writer.close()
        up_w.close()
