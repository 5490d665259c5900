"""Everything under server/ that is not Python must ship in the package: `./scripts/demo`
does `pip install .`, and a page template left out answers 500 (TemplateNotFound) there
while every test, run on the editable checkout, still passes."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _shipped(package: str, patterns: list[str]) -> set[Path]:
    base = ROOT / package
    return {p for pattern in patterns for p in base.glob(pattern) if p.is_file()}


def test_every_data_file_under_server_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["server"]
    data = {
        p
        for p in (ROOT / "server").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    missing = sorted(str(p.relative_to(ROOT)) for p in data - _shipped("server", patterns))
    assert missing == [], f"add to [tool.setuptools.package-data] server: {missing}"
    templates = {p for p in data if "templates" in p.parts}
    assert len(templates) > 10  # the check above looked at the page templates
