"""Validation of the rule DSL (architecture.md, "Rules"), for `templates.parse_template`.

Kept apart from the template structure because it is the part that must stay in step with
the two evaluators, rules.py and pwa/js/rules.js: an op or field accepted here must be
understood by both.
"""

from __future__ import annotations

import re
from typing import Any

from server.domain.numbers import real

ITEM_TYPES = ("number", "yesno", "choice", "multicheck", "weekly_hours", "text", "photo")
COMPARISONS = (">=", ">", "<=", "<", "==", "!=")
_SLUG = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
# Which ops may read an item of each type; "photos" counts photos and fits every type.
_OPS_BY_TYPE = {
    "number": {*COMPARISONS, "nonempty"},
    "yesno": {"==", "!=", "nonempty"},
    "choice": {"==", "!=", "nonempty", "includes_any"},
    "multicheck": {"nonempty", "includes_all", "includes_any"},
    "weekly_hours": {"nonempty", "weekly_hours"},
    "text": {"==", "!=", "nonempty", "matches"},
    "photo": {"nonempty"},
}
_RULE_FIELDS = {
    **{op: {"value", "param"} for op in COMPARISONS},
    "nonempty": set(),
    "matches": {"pattern"},
    "includes_all": {"values"},
    "includes_any": {"values"},
    "weekly_hours": {"min_hours", "min_days"},
    "photos": {"min"},
}


def is_slug(v: Any) -> bool:
    return isinstance(v, str) and _SLUG.fullmatch(v) is not None


def is_number(v: Any) -> bool:
    return real(v) and v >= 0


def unknown_fields(d: dict[str, Any], allowed: set[str], where: str, errors: list[str]) -> None:
    for k in d:
        if k not in allowed:
            errors.append(f"{where}: unknown field '{k}'")


def check_rule(
    rule: Any,
    item: dict[str, Any],
    where: str,
    raw_items: dict[str, dict[str, Any]],
    params: dict[str, float],
    errors: list[str],
) -> None:
    """Append to `errors` every problem of `rule`, attached to raw item dict `item`."""
    if not isinstance(rule, dict):
        errors.append(f"{where}: must be an object")
        return
    if "code" in rule and not is_slug(rule["code"]):
        errors.append(f"{where}: code must be a lowercase identifier, got {rule['code']!r}")
    heads = [k for k in ("op", "all", "any", "not") if k in rule]
    if len(heads) != 1:
        errors.append(f"{where}: needs exactly one of op, all, any, not")
        return
    head = heads[0]
    if head != "op":
        unknown_fields(rule, {head, "code"}, where, errors)
        children = rule[head] if head != "not" else [rule[head]]
        if not isinstance(children, list) or not children:
            errors.append(f"{where}: {head} needs a non-empty list of rules")
            return
        for n, child in enumerate(children):
            sub = f"{where}.not" if head == "not" else f"{where}.{head}[{n}]"
            check_rule(child, item, sub, raw_items, params, errors)
        return

    op = rule["op"]
    if op not in _RULE_FIELDS:
        errors.append(f"{where}: unknown op {op!r}")
        return
    unknown_fields(rule, {"op", "item", "code", "if_blank", *_RULE_FIELDS[op]}, where, errors)
    target = item
    if "item" in rule:
        found = raw_items.get(rule["item"]) if isinstance(rule["item"], str) else None
        if found is None:
            errors.append(f"{where}: unknown item {rule['item']!r}")
            return
        target = found
    _check_if_blank(rule, item, target, where, errors)
    ttype = target.get("type")
    if ttype not in ITEM_TYPES:
        return  # the item's own type error is already reported
    if op != "photos" and op not in _OPS_BY_TYPE[ttype]:
        errors.append(f"{where}: op '{op}' cannot read a {ttype} item ('{target.get('key')}')")
        return
    option_keys = {o.get("key") for o in target.get("options") or [] if isinstance(o, dict)}

    def amount(name: str, *, whole: bool = False, needed: bool = True) -> None:
        v = rule.get(name)
        if v is None:
            if needed:
                errors.append(f"{where}: {name} is required")
        elif isinstance(v, dict):
            if set(v) != {"param"} or v["param"] not in params:
                errors.append(f"{where}: {name}: unknown param {v.get('param')!r}")
        elif not is_number(v) or (whole and v != int(v)):
            errors.append(f"{where}: {name} must be a number >= 0, got {v!r}")

    if op in COMPARISONS:
        if ("value" in rule) == ("param" in rule):
            errors.append(f"{where}: comparison needs exactly one of value, param")
        elif "param" in rule:
            if rule["param"] not in params:
                errors.append(f"{where}: unknown param {rule['param']!r}")
            elif ttype != "number":
                errors.append(f"{where}: param thresholds only apply to number items")
        else:
            _check_value(rule["value"], ttype, option_keys, where, errors)
    elif op == "matches":
        pattern = rule.get("pattern")
        try:
            re.compile(pattern, re.ASCII) if isinstance(pattern, str) else None
        except re.error as exc:
            errors.append(f"{where}: bad pattern: {exc}")
        else:
            if not isinstance(pattern, str):
                errors.append(f"{where}: pattern must be a string")
    elif op in ("includes_all", "includes_any"):
        values = rule.get("values")  # omitted: every option
        if values is not None and (
            not isinstance(values, list)
            or not values
            or not all(isinstance(x, str) and x in option_keys for x in values)
        ):
            errors.append(f"{where}: values must be a non-empty list of option keys")
    elif op == "weekly_hours":
        amount("min_hours", needed=False)
        amount("min_days", needed=False)
        if "min_hours" not in rule and "min_days" not in rule:
            errors.append(f"{where}: weekly_hours needs min_hours or min_days")
    elif op == "photos":
        amount("min", whole=True)


def _check_if_blank(
    rule: dict[str, Any],
    item: dict[str, Any],
    target: dict[str, Any],
    where: str,
    errors: list[str],
) -> None:
    """A rule that reads another, optional item must say what that item's blank means: left
    unsaid, a blank the inspector was allowed to leave would silently fail this item. A
    required item's blank needs no word: the item is then not inspected ("needs_item")."""
    # photos counts pictures and nonempty is about the blank itself: both say what it means
    other = "item" in rule and target is not item and rule["op"] not in ("photos", "nonempty")
    optional = target.get("required") is not True
    if "if_blank" in rule:
        if rule["if_blank"] not in ("pass", "fail"):
            errors.append(f"{where}: if_blank must be 'pass' or 'fail', got {rule['if_blank']!r}")
        elif not (other and optional):
            errors.append(f"{where}: if_blank is only for a rule reading another, optional item")
    elif other and optional:
        errors.append(
            f"{where}: reads optional item '{target.get('key')}': make it required or "
            "say what its blank means (if_blank: 'pass' or 'fail')"
        )


def _check_value(v: Any, ttype: str, option_keys: set[Any], where: str, errors: list[str]) -> None:
    ok = {
        "number": is_number(v),
        "yesno": isinstance(v, bool),
        "choice": isinstance(v, str) and v in option_keys,
        "text": isinstance(v, str),
    }.get(ttype, False)
    if not ok:
        errors.append(f"{where}: value {v!r} does not fit a {ttype} item")
