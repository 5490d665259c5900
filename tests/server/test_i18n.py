"""The server's message catalogs (server/i18n): both languages hold the same keys with the
same placeholders, every key a template or the code names exists, every key is used, and a
page shows one language only."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest
from jinja2 import nodes

from server import i18n
from server.pages.render import TEMPLATE_DIR, build_environment
from sync.errors import MESSAGES as PROTOCOL_MESSAGES

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = {
    lang: json.loads((ROOT / f"server/i18n/{lang}.json").read_text()) for lang in i18n.LANGS
}
KEYS = set(CATALOGS[i18n.DEFAULT_LANG])
NAMESPACES = {k.split(".", 1)[0] for k in KEYS} | {"protocol"}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _forms(value) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def _placeholders(value) -> set[str]:
    return {
        name for form in _forms(value) for _, name, _, _ in string.Formatter().parse(form) if name
    }


def test_both_languages_hold_the_same_keys_and_placeholders():
    zh, en = CATALOGS["zh-CN"], CATALOGS["en"]
    assert sorted(set(zh) ^ set(en)) == []
    for key in zh:
        for form in _forms(zh[key]) + _forms(en[key]):
            assert isinstance(form, str) and form.strip(), key
        assert _placeholders(zh[key]) == _placeholders(en[key]), key
        for value in (zh[key], en[key]):
            if isinstance(value, dict):
                assert set(value) == {"one", "other"}, key
    assert not [k for k in en if CJK.search(" ".join(_forms(en[k]))) and k != "list.sep"]
    # AppError's own keywords cannot fill a placeholder of an error message
    clash = {k: _placeholders(zh[k]) & {"code", "status", "extra"} for k in zh}
    assert {k: v for k, v in clash.items() if v and k.startswith("error.")} == {}


def _template_keys() -> tuple[set[str], set[str]]:
    """(keys, prefixes) that the templates pass to `_`: `_("a.b")` and `_("a." ~ x)`."""
    env = build_environment()
    keys, prefixes = set(), set()
    for path in TEMPLATE_DIR.rglob("*.html"):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "_"):
                continue
            arg = call.args[0]
            if isinstance(arg, nodes.Const):
                keys.add(arg.value)
            elif isinstance(arg, nodes.Concat) and isinstance(arg.nodes[0], nodes.Const):
                prefixes.add(arg.nodes[0].value)
            else:
                pytest.fail(f"{path.name}: _() with a key that is neither literal nor a prefix")
    return keys, prefixes


def _code_keys() -> tuple[set[str], set[str]]:
    """(keys, prefixes) in the server's Python: every string literal shaped like a catalog
    key of a known namespace, f-string prefixes (`f"role.{x}"`), and `error.<code>` for an
    error raised with a code and no key (`Conflict(code="already_resolved")`)."""
    keys, prefixes = set(), set()
    for path in (ROOT / "server").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = {  # audit actions such as "review.resolve" are not messages
            id(call.args[1])
            for call in ast.walk(tree)
            if isinstance(call, ast.Call)
            and getattr(call.func, "attr", "") == "record"
            and len(call.args) > 1
        }
        skip |= {  # parts of f-strings count as prefixes, below
            id(part) for f in ast.walk(tree) if isinstance(f, ast.JoinedStr) for part in f.values
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in skip:
                    continue
                if node.value.endswith((".html", ".json")):  # template and file names
                    continue
                if KEY_RE.match(node.value) and node.value.split(".", 1)[0] in NAMESPACES:
                    keys.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                namespace = str(getattr(first, "value", "")).split(".", 1)
                if len(namespace) == 2 and namespace[0] in NAMESPACES:
                    prefixes.add(first.value)  # type: ignore[attr-defined]
            elif isinstance(node, ast.Call) and not node.args:
                code = next((k.value for k in node.keywords if k.arg == "code"), None)
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if isinstance(code, ast.Constant) and name in _ERROR_CLASSES:
                    keys.add(f"error.{code.value}")
            elif isinstance(node, ast.ClassDef) and node.name in _ERROR_CLASSES:
                for stmt in node.body:
                    target = stmt.targets[0] if isinstance(stmt, ast.Assign) else None
                    if isinstance(target, ast.Name) and target.id == "code":
                        keys.add(f"error.{ast.literal_eval(stmt.value)}")
    return keys, prefixes


_ERROR_CLASSES = {
    "AppError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict",
    "PayloadTooLarge",
}  # fmt: skip


def _known(key: str) -> bool:
    if key.startswith(i18n.PROTOCOL):
        return key[len(i18n.PROTOCOL) :] in PROTOCOL_MESSAGES
    return key in KEYS


def test_every_key_the_templates_and_code_use_exists():
    t_keys, t_prefixes = _template_keys()
    c_keys, c_prefixes = _code_keys()
    assert t_keys and c_keys
    assert sorted(k for k in t_keys | c_keys if not _known(k)) == []
    for prefix in t_prefixes | c_prefixes:
        assert any(k.startswith(prefix) for k in KEYS), f"no key starts with {prefix!r}"


def test_every_key_is_used():
    t_keys, t_prefixes = _template_keys()
    c_keys, c_prefixes = _code_keys()
    used = t_keys | c_keys
    prefixes = tuple(t_prefixes | c_prefixes)
    unused = sorted(k for k in KEYS if k not in used and not k.startswith(prefixes))
    assert unused == [], "catalog keys nothing uses: remove them or use them"


def test_a_missing_key_warns_and_shows_itself():
    with pytest.warns(i18n.MissingMessage):
        assert i18n.text("en", "no.such_key") == "no.such_key"


def test_params_plurals_and_protocol_messages():
    assert i18n.text("en", "cli.import_refused", n=1).startswith("Nothing imported: 1 row has")
    assert "2 rows have" in i18n.text("en", "cli.import_refused", n=2)
    assert i18n.text("zh-CN", "cli.import_refused", n=2).startswith("未导入任何数据：2 行")
    assert i18n.both("protocol.token_expired") == PROTOCOL_MESSAGES["token_expired"]
    assert i18n.text("en", "import.missing_columns", columns=["a", "b"]).endswith("a, b")
    assert i18n.text("zh-CN", "import.missing_columns", columns=["a", "b"]).endswith("a、b")
    assert i18n.text("en", "cli.error") == "Error: {message}"  # a missing param shows itself


@pytest.mark.parametrize(
    ("raw", "lang"),
    [("en", "en"), ("EN-us", "en"), ("zh", "zh-CN"), ("zh_CN", "zh-CN"), ("fr", None), (3, None)],
)
def test_language_names(raw, lang):
    assert i18n.normalize_lang(raw) == lang


# Words of one language that must never appear on a page in the other (UI words only; data
# such as a township's name is Chinese in both).
def _catalog_words(lang: str, min_len: int) -> set[str]:
    out = set()
    for value in CATALOGS[lang].values():
        for form in _forms(value):
            for part in re.split(r"\{[a-z_]+\}", form):
                part = part.strip(" ：:,，。.()（）←→…")
                if len(part) >= min_len and "`" not in part and "<" not in part:
                    out.add(part)
    return out


ZH_WORDS = {w for w in _catalog_words("zh-CN", 5) if CJK.search(w)}
EN_WORDS = {w for w in _catalog_words("en", 14) if " " in w}


def assert_one_language(html: str, lang: str) -> None:
    """A page in `lang` carries no UI sentence of the other language."""
    assert f'<html lang="{lang}">' in html
    body = html.split("<body>", 1)[1]
    foreign = ZH_WORDS if lang == "en" else EN_WORDS
    found = sorted(w for w in foreign if w in body)
    assert found == [], f"{lang} page shows the other language: {found[:5]}"


def test_every_audit_action_has_words():
    """The audit page shows actions in words: each action the code records is catalogued
    (the page falls back to the code, so only this test notices a new one)."""
    actions = set()
    for path in (ROOT / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "record"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                actions.add(node.args[1].value)
    assert len(actions) > 20
    assert sorted(a for a in actions if f"audit.action.{a}" not in KEYS) == []
