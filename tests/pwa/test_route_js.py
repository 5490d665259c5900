"""pwa/js/route.js (the day's route: nearest neighbour, then 2-opt) under node: known
orders, the crossing nearest neighbour leaves and 2-opt removes, 40 random days against the
brute-force best path, and stops without coordinates."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

DRIVER = Path(__file__).resolve().parent / "run_route_cases.mjs"


def test_route_cases_pass_under_node():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, str(DRIVER)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["failures"] == []
    assert out["checked"] >= 43
