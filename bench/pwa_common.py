"""Shared by the bench/pwa_*.py scripts: the demo server on a free port (the same one the
browser tests use) and a phone-emulating Chromium profile."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import ARGS, CHROMIUM, PASSWORD, FieldServer, phone_options  # noqa: E402


@contextlib.contextmanager
def demo_server():
    with tempfile.TemporaryDirectory(prefix="xj-bench-") as tmp:
        server = FieldServer(Path(tmp))
        server.build(demo=True)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def launch(pw, profile: Path):
    ctx = pw.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=ARGS,
        service_workers="allow",
        **phone_options(pw),
    )
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    return ctx, page


def wait_sw(page):
    page.wait_for_function(
        """async () => {
            const reg = await navigator.serviceWorker.getRegistration();
            return !!(reg && reg.active && reg.active.state === 'activated'
                      && navigator.serviceWorker.controller);
        }""",
        timeout=30_000,
    )


def login(page, username="inspector"):
    page.wait_for_selector("#username")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("a.point", timeout=30_000)
