"""The field app's module graph and catalogs, read from the source: no import circle (the
screens share state through state.js and widgets through widgets.js, never through app.js or
each other), and every UI string key the code names exists in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "pwa" / "js"
I18N = JS.parent / "i18n"
IMPORT = re.compile(r"""(?:^|\n)\s*import\s[^'"]*?from\s+['"](\.[^'"]+)['"]""")
DYNAMIC = re.compile(r"""import\(\s*['"](\.[^'"]+)['"]\s*\)""")
KEY = re.compile(r"""\bt\(\s*'([a-z_]+\.[a-z0-9_.]+)'""")


def _modules() -> dict[str, set[str]]:
    """module -> the modules it imports statically (paths relative to pwa/js)."""
    graph = {}
    for path in JS.rglob("*.js"):
        name = path.relative_to(JS).as_posix()
        deps = {
            (path.parent / dep).resolve().relative_to(JS).as_posix()
            for dep in IMPORT.findall(path.read_text(encoding="utf-8"))
        }
        graph[name] = deps
    return graph


def test_no_import_circle():
    graph = _modules()
    assert "app.js" in graph and "state.js" in graph
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        assert node not in path, "import circle: " + " -> ".join([*path, node])
        if node in done:
            return
        for dep in sorted(graph.get(node, ())):
            visit(dep, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])


def test_screens_import_neither_app_nor_each_other():
    graph = _modules()
    screens = {m for m in graph if m.startswith("views/")}
    assert len(screens) >= 6
    for screen in sorted(screens):
        bad = sorted(d for d in graph[screen] if d == "app.js" or d in screens)
        assert not bad, f"{screen} imports {bad}"
    # app.js reaches the screens by dynamic import only, and every one of them exists
    loaded = DYNAMIC.findall((JS / "app.js").read_text(encoding="utf-8"))
    assert {str(Path("views") / Path(p).name) for p in loaded} == screens


def test_catalogs_have_the_same_keys_and_every_key_the_code_names():
    zh = json.loads((I18N / "zh-CN.json").read_text(encoding="utf-8"))
    en = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
    assert sorted(set(zh) ^ set(en)) == []
    used = set()
    for path in JS.rglob("*.js"):
        used |= set(KEY.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 100
    assert sorted(used - set(zh)) == []
