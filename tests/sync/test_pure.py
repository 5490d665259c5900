"""tests/sync/ holds the protocol's own tests: they run without a server or a database
(tests/api/ has those). A server import here would quietly make the protocol depend on the
server again, so this fails on one."""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).parent
SERVER_SIDE = ("server", "starlette", "sqlmodel", "sqlalchemy", "tests.api", "tests.live")


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_protocol_tests_import_nothing_server_side():
    found = {
        (path.name, name)
        for path in HERE.glob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in SERVER_SIDE or name.startswith(SERVER_SIDE)
    }
    assert found == set(), "move these tests to tests/api/"


def test_no_test_here_asks_for_the_app_or_a_database():
    used = {
        arg.arg
        for path in HERE.glob("test_*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        for arg in node.args.args
    }
    server_side = {"engine", "app", "demo"}
    assert used.isdisjoint(server_side), used & server_side
