"""What the server sends of the field app's JavaScript: whole-line comments blanked and
indentation dropped, every line where it was (stack traces from phones match the source), and
nothing else changed, so every module still parses; catalogs as compact JSON. The one case
where this would change code, a multi-line template literal, is kept out of the source."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from server.routes.pwa import MOUNT, build_assets, pwa_dir, served

ROOT = pwa_dir()
SOURCES = sorted(ROOT.rglob("*.js"))


def test_comment_lines_are_blanked_and_lines_keep_their_numbers():
    src = b"// why\nconst a = 'x // y'; // kept: not a whole line\n  // indented\n  f(a);\n"
    out = served(Path("m.js"), src)
    assert out == b"\nconst a = 'x // y'; // kept: not a whole line\n\nf(a);\n"
    assert served(Path("a.css"), b"// not js") == b"// not js"
    assert served(Path("c.json"), '{\n  "k": "中"\n}\n'.encode()) == '{"k":"中"}'.encode()
    assets = build_assets(ROOT)
    for path in SOURCES:
        rel = path.relative_to(ROOT)
        body = assets[MOUNT + rel.as_posix()].body
        source = path.read_bytes()
        assert body.count(b"\n") == source.count(b"\n"), rel
        kept = [ln for ln in body.decode().splitlines() if ln.lstrip().startswith("//")]
        assert kept == [], rel


def test_no_multiline_template_literal_in_the_source():
    for path in SOURCES:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert line.count("`") % 2 == 0, f"{path.name}:{n} opens a multi-line template"


def test_every_served_module_parses(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    assets = build_assets(ROOT)
    for url, asset in assets.items():
        if not url.endswith(".js"):
            continue
        out = tmp_path / (url.replace("/", "_") + ".mjs")
        out.write_bytes(asset.body)
        res = subprocess.run([node, "--check", str(out)], capture_output=True, text=True)
        assert res.returncode == 0, f"{url}: {res.stderr}"
