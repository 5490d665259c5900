"""Checklist templates: parse and validate a template dict into frozen dataclasses.

A template is edited by county staff and shipped to phones that evaluate it offline, so a
mistake must be refused here, all at once, before it reaches the field. Every problem is
reported with the item (or section) and the field it concerns.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from server.domain.rule_schema import (
    COMPARISONS,
    ITEM_TYPES,
    check_rule,
    is_number,
    is_slug,
    unknown_fields,
)

__all__ = [
    "COMPARISONS",
    "ITEM_TYPES",
    "Item",
    "ItemScore",
    "Option",
    "Section",
    "Template",
    "TemplateError",
    "Text",
    "apply_params",
    "content_hash",
    "load_builtin_templates",
    "parse_template",
]

KINDS = ("village", "branch")
# "{book_volumes_min}" in a help text: the template param, filled with the version's value.
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
CHECKLIST_DIR = Path(__file__).resolve().parent.parent / "checklists"

_TOP_FIELDS = {
    "key", "applies_to", "name", "params", "rating", "sections", "version", "description",
}  # fmt: skip
_SECTION_FIELDS = {"key", "name", "items"}
_ITEM_FIELDS = {
    "key", "type", "label", "help", "unit", "required", "critical", "scored",
    "evidence", "options", "rule", "integer", "plausible_max", "score",
}  # fmt: skip


class TemplateError(ValueError):
    """A template (or a param override) was refused; `.errors` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid template: " + "; ".join(self.errors))


@dataclass(frozen=True)
class Text:
    """A label in both languages; `text["zh"]` works too, as on the JSON it came from."""

    zh: str
    en: str

    def __getitem__(self, lang: str) -> str:
        if lang not in ("zh", "en"):
            raise KeyError(lang)
        return getattr(self, lang)


@dataclass(frozen=True)
class Option:
    key: str
    label: Text


@dataclass(frozen=True)
class ItemScore:
    """What an item weighs in the county's 考核评分表: `points` (分值) and what a failed or
    unanswered item loses (`deduct`, 扣分; at most `points`)."""

    points: float
    deduct: float


@dataclass(frozen=True)
class Item:
    key: str
    type: str
    label: Text
    help: Text | None = None
    unit: Text | None = None
    required: bool = False
    critical: bool = False
    scored: bool = True
    evidence_photos: int = 0
    options: tuple[Option, ...] = ()
    rule: dict[str, Any] | None = field(default=None, hash=False)
    integer: bool = False
    plausible_max: float | None = None
    score: ItemScore | None = None

    @cached_property
    def option_keys(self) -> tuple[str, ...]:
        # cached (an item never changes): every answer synced is checked against it
        return tuple(o.key for o in self.options)


@dataclass(frozen=True)
class Section:
    key: str
    name: Text
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Template:
    """A validated template. `source` is the dict it was parsed from (what phones receive)."""

    key: str
    applies_to: str
    name: Text
    params: dict[str, float] = field(hash=False)
    good_ratio: float
    sections: tuple[Section, ...]
    source: dict[str, Any] = field(hash=False, compare=False, repr=False)

    @cached_property
    def items(self) -> tuple[Item, ...]:
        # cached (a template never changes): the rules and the rating walk it for every op
        return tuple(i for s in self.sections for i in s.items)

    def item(self, key: str) -> Item:
        for i in self.items:
            if i.key == key:
                return i
        raise KeyError(key)

    def help_text(self, key: str, lang: str) -> str | None:
        """An item's help with its `{param}` placeholders filled from this version's params
        (county overrides included), so the help an inspector reads states the threshold the
        rule applies: it cannot drift. pwa/js/rules.js `fillParams` does the same."""
        item = self.item(key)
        return fill_params(item.help[lang], self.params) if item.help else None


def fill_params(text: str, params: dict[str, Any]) -> str:
    """Put each `{name}` of `params` into `text` (integral numbers without ".0", as in JS)."""

    def value(m: re.Match[str]) -> str:
        v = params.get(m.group(1))
        if v is None:
            return m.group(0)
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)

    return _PLACEHOLDER.sub(value, text)


def parse_template(d: Any) -> Template:
    """Validate `d` and return a `Template`; raise `TemplateError` listing every problem."""
    errors: list[str] = []
    if not isinstance(d, dict):
        raise TemplateError(["template: must be an object"])
    unknown_fields(d, _TOP_FIELDS, "template", errors)
    key = d.get("key")
    if not is_slug(key):
        errors.append(f"template: key must be a lowercase identifier, got {key!r}")
    if d.get("applies_to") not in KINDS:
        errors.append(f"template: applies_to must be one of {list(KINDS)}")
    name = _text(d.get("name"), "template: name", errors, required=True)
    _text(d.get("description"), "template: description", errors)
    params = _params(d.get("params", {}), errors)
    good_ratio = _rating(d.get("rating", {"good_ratio": 0.8}), errors)
    raw_sections = d.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        errors.append("template: sections must be a non-empty list")
        raw_sections = []

    raw_items: dict[str, dict[str, Any]] = {}
    for s in raw_sections:
        for it in (s.get("items") if isinstance(s, dict) else None) or []:
            if isinstance(it, dict) and isinstance(it.get("key"), str):
                raw_items.setdefault(it["key"], it)

    sections: list[Section] = []
    seen_sections: set[str] = set()
    seen_items: set[str] = set()
    for n, s in enumerate(raw_sections):
        where = f"section #{n + 1}"
        if not isinstance(s, dict):
            errors.append(f"{where}: must be an object")
            continue
        if is_slug(s.get("key")):
            where = f"section '{s['key']}'"
            if s["key"] in seen_sections:
                errors.append(f"{where}: duplicate section key")
            seen_sections.add(s["key"])
        else:
            errors.append(f"{where}: key must be a lowercase identifier, got {s.get('key')!r}")
        unknown_fields(s, _SECTION_FIELDS, where, errors)
        sname = _text(s.get("name"), f"{where}: name", errors, required=True)
        items_in = s.get("items")
        if not isinstance(items_in, list) or not items_in:
            errors.append(f"{where}: items must be a non-empty list")
            items_in = []
        items = []
        for m, it in enumerate(items_in):
            item = _item(it, f"{where} item #{m + 1}", raw_items, params, seen_items, errors)
            if item is not None:
                items.append(item)
        sections.append(
            Section(key=s.get("key", ""), name=sname or Text("", ""), items=tuple(items))
        )

    if errors:
        raise TemplateError(errors)
    # Past this point every check passed, so the optional values are all present.
    assert isinstance(key, str) and name is not None
    return Template(
        key=key,
        applies_to=d["applies_to"],
        name=name,
        params=params,
        good_ratio=good_ratio,
        sections=tuple(sections),
        source=copy.deepcopy(d),
    )


def apply_params(template_dict: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `template_dict` with county threshold overrides applied.

    Only params the template declares may be overridden: a misspelt name would otherwise
    silently leave the default threshold in force.
    """
    known = template_dict.get("params", {})
    errors = []
    for name, value in overrides.items():
        if name not in known:
            errors.append(f"params: unknown param '{name}'")
        elif not is_number(value):
            errors.append(f"params: '{name}' must be a number >= 0, got {value!r}")
    if errors:
        raise TemplateError(errors)
    out = copy.deepcopy(template_dict)
    out["params"] = {**known, **overrides}
    return out


def content_hash(d: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no spaces, UTF-8): equal content, equal hash."""
    text = json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_builtin_templates() -> dict[str, dict[str, Any]]:
    """The shipped checklists (server/checklists/*.json) by template key, as dicts."""
    out = {}
    for path in sorted(CHECKLIST_DIR.glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        out[d["key"]] = d
    return out


# -- validation helpers -------------------------------------------------------------------


def _text(v: Any, where: str, errors: list[str], *, required: bool = False) -> Text | None:
    if v is None and not required:
        return None
    ok = isinstance(v, dict) and set(v) == {"zh", "en"}
    if not ok or not all(isinstance(v[k], str) and v[k].strip() for k in ("zh", "en")):
        errors.append(f"{where} must be {{'zh': ..., 'en': ...}} with non-empty strings")
        return None
    return Text(zh=v["zh"], en=v["en"])


def _params(v: Any, errors: list[str]) -> dict[str, float]:
    if not isinstance(v, dict):
        errors.append("params: must be an object")
        return {}
    for name, value in v.items():
        if not is_slug(name):
            errors.append(f"params: name {name!r} must be a lowercase identifier")
        if not is_number(value):
            errors.append(f"params: '{name}' must be a number >= 0, got {value!r}")
    return dict(v)


def _rating(v: Any, errors: list[str]) -> float:
    ratio = v.get("good_ratio") if isinstance(v, dict) else None
    if not isinstance(v, dict) or set(v) != {"good_ratio"}:
        errors.append("rating: must be {'good_ratio': number}")
    elif not is_number(ratio) or not 0 < ratio <= 1:  # type: ignore[operator]
        errors.append(f"rating: good_ratio must be in (0, 1], got {ratio!r}")
    return float(ratio) if is_number(ratio) else 0.8  # type: ignore[arg-type]


def _item(
    it: Any,
    where: str,
    raw_items: dict[str, dict[str, Any]],
    params: dict[str, float],
    seen: set[str],
    errors: list[str],
) -> Item | None:
    if not isinstance(it, dict):
        errors.append(f"{where}: must be an object")
        return None
    key = it.get("key")
    if is_slug(key):
        where = f"item '{key}'"
        if key in seen:
            errors.append(f"{where}: duplicate item key")
        seen.add(str(key))
    else:
        errors.append(f"{where}: key must be a lowercase identifier, got {key!r}")
    unknown_fields(it, _ITEM_FIELDS, where, errors)
    typ = it.get("type")
    if typ not in ITEM_TYPES:
        errors.append(f"{where}: unknown type {typ!r}")
    label = _text(it.get("label"), f"{where}: label", errors, required=True)
    help_ = _text(it.get("help"), f"{where}: help", errors)
    for text in (help_.zh, help_.en) if help_ else ():
        for name in _PLACEHOLDER.findall(text):
            if name not in params:
                errors.append(f"{where}: help: unknown param {{{name}}}")
    unit = _text(it.get("unit"), f"{where}: unit", errors)
    flags = {}
    for flag, default in (("required", False), ("critical", False), ("scored", True)):
        flags[flag] = it.get(flag, default)
        if not isinstance(flags[flag], bool):
            errors.append(f"{where}: {flag} must be true or false")
    if flags["critical"] is True and not (flags["required"] is True and flags["scored"] is True):
        errors.append(f"{where}: critical items must be required and scored")
    evidence = 0
    if "evidence" in it:
        ev = it["evidence"]
        n = ev.get("photos") if isinstance(ev, dict) else None
        if not isinstance(ev, dict) or set(ev) != {"photos"} or type(n) is not int or n < 1:
            errors.append(f"{where}: evidence must be {{'photos': integer >= 1}}, got {ev!r}")
        else:
            evidence = n
    options = _options(it, typ, where, errors)
    integer, plausible_max = _number_bounds(it, typ, where, errors)
    score = _score(it.get("score"), where, errors) if "score" in it else None
    rule = it.get("rule")
    if rule is not None:
        check_rule(rule, it, where + ": rule", raw_items, params, errors)
    if not isinstance(key, str) or not isinstance(typ, str) or label is None:
        return None
    return Item(
        key=key,
        type=typ,
        label=label,
        help=help_,
        unit=unit,
        required=flags["required"] is True,
        critical=flags["critical"] is True,
        scored=flags["scored"] is not False,
        evidence_photos=evidence,
        options=options,
        rule=copy.deepcopy(rule),
        integer=integer,
        plausible_max=plausible_max,
        score=score,
    )


def _number_bounds(
    it: dict[str, Any], typ: Any, where: str, errors: list[str]
) -> tuple[bool, float | None]:
    """`integer`: a count (books, seats) takes whole numbers only. `plausible_max`: above it a
    value is most likely a typo (99,999,999 seats); the phone asks before submitting, and
    the value is kept as typed (a warning, never a failure)."""
    integer, bound = it.get("integer", False), it.get("plausible_max")
    if ("integer" in it or bound is not None) and typ != "number":
        errors.append(f"{where}: integer and plausible_max are only for number items")
        return False, None
    if not isinstance(integer, bool):
        errors.append(f"{where}: integer must be true or false")
    if bound is not None and (not is_number(bound) or bound <= 0):
        errors.append(f"{where}: plausible_max must be a number > 0, got {bound!r}")
        bound = None
    return integer is True, bound


def _score(v: Any, where: str, errors: list[str]) -> ItemScore | None:
    """`{"points": 分值, "deduct": 扣分}`; deduct defaults to all the points."""
    ok = isinstance(v, dict) and "points" in v and set(v) <= {"points", "deduct"}
    points = v.get("points") if ok else None
    deduct = v.get("deduct", points) if ok else None
    if not ok or not is_number(points) or not is_number(deduct):
        errors.append(f"{where}: score must be {{'points': number >= 0, 'deduct': number >= 0}}")
        return None
    assert isinstance(points, int | float) and isinstance(deduct, int | float)
    if deduct > points:
        errors.append(f"{where}: score deduct ({deduct}) must not exceed points ({points})")
        return None
    return ItemScore(points=float(points), deduct=float(deduct))


def _options(it: dict[str, Any], typ: Any, where: str, errors: list[str]) -> tuple[Option, ...]:
    raw = it.get("options")
    if typ not in ("choice", "multicheck"):
        if raw is not None:
            errors.append(f"{where}: options are only for choice and multicheck items")
        return ()
    if not isinstance(raw, list) or not raw:
        errors.append(f"{where}: {typ} item needs a non-empty options list")
        return ()
    out, keys = [], set()
    for n, o in enumerate(raw):
        ok = is_slug(o.get("key")) if isinstance(o, dict) else False
        if not ok or set(o) != {"key", "label"}:
            errors.append(f"{where}: option #{n + 1} must be {{'key': identifier, 'label': ...}}")
            continue
        if o["key"] in keys:
            errors.append(f"{where}: duplicate option '{o['key']}'")
        keys.add(o["key"])
        label = _text(o["label"], f"{where}: option '{o['key']}' label", errors, required=True)
        if label is not None:
            out.append(Option(key=o["key"], label=label))
    return tuple(out)
