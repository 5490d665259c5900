"""Evaluate a template's rules against one inspection's answers and photos.

`pwa/js/rules.js` is this module's twin: the phone shows the same verdict offline that the
server records, so every status, code and param here must be produced there identically
(tests/cases/rule_cases.json is run through both). Keep arithmetic to operations that IEEE
doubles do the same way in both languages; see `numbers.round2`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from server.domain.hours import Schedules, weekly_totals
from server.domain.numbers import num as _num
from server.domain.numbers import real
from server.domain.rating import rate
from server.domain.templates import COMPARISONS, Item, Template

# Python's str.strip() and JS trim() disagree on a few exotic characters; strip only these.
_BLANK = " \t\n\r\u3000"

Result = tuple[bool, str, dict[str, Any]]


def count_photos(photos: Any) -> dict[str, int]:
    """Photos per item key; the same file (sha256) attached twice to an item counts once."""
    counts: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for p in photos or []:
        if not isinstance(p, dict) or not isinstance(p.get("item"), str):
            continue
        sha = p.get("sha256")
        if isinstance(sha, str) and sha:
            if (p["item"], sha) in seen:
                continue
            seen.add((p["item"], sha))
        counts[p["item"]] = counts.get(p["item"], 0) + 1
    return counts


# What an item's answer reads as: (state, value, code, params), state "ok" | "none" (not
# answered) | "invalid" (code and params say why). Plain tuples: a sync op reads ~20 items.
_Read = tuple[str, Any, str, Any]
_NONE: _Read = ("none", None, "", None)
_Reads = dict[str, _Read]
# A compiled rule: (reads, photo counts, template params) -> Result
_RuleFn = Callable[[_Reads, dict[str, int], dict[str, Any]], Result]
_Week = Callable[[Any], dict[str, Any]]  # weekly_totals, or a Schedules' totals


def _reader(item: Item) -> Callable[[Any, dict[str, int], _Week], _Read]:
    """How `item` reads from (answers, photo counts, weekly_totals): the checks of its type,
    picked once."""
    key, t = item.key, item.type
    if t == "photo":

        def photos(answers: Any, counts: dict[str, int], week: _Week) -> _Read:
            n = counts.get(key, 0)
            return ("ok", n, "", None) if n else _NONE

        return photos
    check = _value_check(item)

    def read(answers: Any, counts: dict[str, int], week: _Week) -> _Read:
        v = answers.get(key)
        if v is None or (isinstance(v, str) and not v.strip(_BLANK)):
            return _NONE
        return check(v, week)

    return read


def _value_check(item: Item) -> Callable[[Any, _Week], _Read]:
    t, integer, options = item.type, item.integer, item.option_keys
    chosen_from = frozenset(options)

    def invalid(v: Any, week: _Week) -> _Read:
        return ("invalid", None, "invalid_value", {})

    def number(v: Any, week: _Week) -> _Read:
        if not real(v):
            return ("invalid", None, "invalid_value", {})
        if v < 0:
            return ("invalid", None, "negative", {})
        if integer and v != int(v):
            return ("invalid", None, "not_integer", {})
        return ("ok", v, "", None)

    def yesno(v: Any, week: _Week) -> _Read:
        return ("ok", v, "", None) if isinstance(v, bool) else invalid(v, week)

    def choice(v: Any, week: _Week) -> _Read:
        return ("ok", v, "", None) if isinstance(v, str) and v in chosen_from else invalid(v, week)

    def multicheck(v: Any, week: _Week) -> _Read:
        if not (isinstance(v, list) and all(isinstance(k, str) for k in v)):
            return invalid(v, week)
        picked = set(v)
        if not picked <= chosen_from:
            return invalid(v, week)
        return ("ok", [k for k in options if k in picked], "", None)

    def text(v: Any, week: _Week) -> _Read:
        return ("ok", v.strip(_BLANK), "", None) if isinstance(v, str) else invalid(v, week)

    def weekly(v: Any, week: _Week) -> _Read:
        totals = week(v)
        bad = totals["invalid"]
        if bad:
            return ("invalid", None, bad["code"], bad["params"])
        return ("ok", totals, "", None)

    checks = {
        "number": number,
        "yesno": yesno,
        "choice": choice,
        "multicheck": multicheck,
        "text": text,
        "weekly_hours": weekly,
    }
    return checks.get(t, invalid)


class _Plan:
    """A template's items and rules, turned once into functions that only look values up:
    evaluation runs for every op synced, and walking the rule dicts again each time cost
    more than the reading. A Template is never changed once parsed, so neither is its plan.
    """

    def __init__(self, template: Template) -> None:
        self.template = template
        self.items = template.items
        self.by_key = {i.key: i for i in self.items}
        self.readers = {i.key: _reader(i) for i in self.items}
        self.checks = [(i.key, self._item_check(i)) for i in self.items]
        self.check_of = dict(self.checks)
        self.plausible = [
            (i.key, i.plausible_max, _num(i.plausible_max))
            for i in self.items
            if i.plausible_max is not None
        ]

    def _item_check(self, item: Item) -> Callable[[_Reads, dict[str, int], Any], dict]:
        key, required, need = item.key, item.required, item.evidence_photos
        rule = _compile(self.by_key, item.rule, item) if item.rule is not None else None
        # required items, other than this one, that the rule reads: left blank, the verdict
        # waits for the first of them (an optional one declares `if_blank` instead)
        waits = _dependencies(self.by_key, item.rule, item) if item.rule is not None else []

        def check(reads: _Reads, counts: dict[str, int], params: Any) -> dict[str, Any]:
            r = reads[key]
            state = r[0]
            if state == "none":
                if required:
                    return {"status": "missing", "code": "missing_answer", "params": {}}
                return {"status": "na", "code": "not_answered", "params": {}}
            if state == "invalid":
                return {"status": "fail", "code": r[2], "params": r[3] or {}}
            p: dict[str, Any] = {}
            if rule is not None:
                for other in waits:
                    if reads[other][0] == "none":
                        return _out("missing", "needs_item", {"item": other})
                ok, code, p = rule(reads, counts, params)
                if not ok:
                    return {"status": "fail", "code": code, "params": p}
            have = counts.get(key, 0)
            if have < need:
                return {
                    "status": "fail",
                    "code": "photos_short",
                    "params": {"have": have, "need": need},
                }
            return {"status": "pass", "code": "ok", "params": p}

        return check


def _plan(template: Template) -> _Plan:
    found: _Plan | None = template.__dict__.get("_rules_plan")
    if found is None or found.template is not template:
        found = _Plan(template)
        # kept on the (frozen) template itself: it lives exactly as long as the template
        object.__setattr__(template, "_rules_plan", found)
    return found


class _LazyReads(dict[str, _Read]):
    """Reads made on first use: evaluating one item reads only what its rule needs."""

    def __init__(self, plan: _Plan, answers: Any, counts: dict[str, int]) -> None:
        super().__init__()
        self.plan, self.answers, self.counts = plan, answers, counts

    def __missing__(self, key: str) -> _Read:
        found = self[key] = self.plan.readers[key](self.answers, self.counts, weekly_totals)
        return found


def evaluate_item(template: Template, key: str, answers: Any, photos: Any) -> dict[str, Any]:
    """Evaluate one item: {"status": pass|fail|missing|na, "code", "params"}.

    "missing" means not inspected: a required item left blank, or an answered item whose
    rule needs another required item that was left blank ("needs_item"). Neither can fail.
    """
    plan = _plan(template)
    template.item(key)  # KeyError for an unknown key
    counts = count_photos(photos)
    reads = _LazyReads(plan, answers if isinstance(answers, dict) else {}, counts)
    return plan.check_of[key](reads, counts, template.params)


def evaluate(
    template: Template, answers: Any, photos: Any, schedules: Schedules | None = None
) -> dict[str, Any]:
    """Evaluate a whole inspection. JSON-ready: {"items": {key: result}, "rating": {...},
    "warnings": [...]}.

    `answers` maps item key to value (architecture.md, "Item types"); `photos` is the
    inspection's photo list, each with the "item" it is evidence for. A warning is a value
    to check, never a failure: {"item", "code": "implausible", "params": {value, max}}.
    `schedules`: weekly totals already worked out for these answers (sync_prepare).
    """
    plan = _plan(template)
    if not isinstance(answers, dict):
        answers = {}
    counts = count_photos(photos)
    # every item is evaluated, so every item is read: all at once, in template order
    week = weekly_totals if schedules is None else schedules.totals
    reads = {key: read(answers, counts, week) for key, read in plan.readers.items()}
    params = template.params
    items = {key: check(reads, counts, params) for key, check in plan.checks}
    return {"items": items, "rating": rate(template, items), "warnings": _warnings(plan, reads)}


def _warnings(plan: _Plan, reads: _Reads) -> list[dict[str, Any]]:
    out = []
    for key, most, shown in plan.plausible:
        r = reads[key]
        if r[0] == "ok" and r[1] > most:
            p = {"value": _num(r[1]), "max": shown}
            out.append({"item": key, "code": "implausible", "params": p})
    return out


def _out(status: str, code: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"status": status, "code": code, "params": params}


def _dependencies(items: dict[str, Item], rule: dict[str, Any], item: Item) -> list[str]:
    """Keys of the required items, other than `item`, that `rule` reads, in the order the
    verdict looks for a blank one."""
    out: list[str] = []
    for child in rule.get("all") or rule.get("any") or ([rule["not"]] if "not" in rule else []):
        out += _dependencies(items, child, item)
    key = rule.get("item")
    if "op" not in rule or key is None or key == item.key or rule["op"] == "photos":
        return out
    if items[key].required:
        out.append(key)
    return out


def _compile(items: dict[str, Item], rule: dict[str, Any], item: Item) -> _RuleFn:
    """`rule` of `item` as a function; `code`, where given, replaces a failure's code."""
    fn = _compile_head(items, rule, item)
    if "code" not in rule:
        return fn
    code = rule["code"]

    def coded(reads: _Reads, counts: dict[str, int], params: Any) -> Result:
        res = fn(reads, counts, params)
        return res if res[0] else (False, code, res[2])

    return coded


def _compile_head(items: dict[str, Item], rule: dict[str, Any], item: Item) -> _RuleFn:
    if "all" in rule:
        every = [_compile(items, child, item) for child in rule["all"]]

        def all_(reads: _Reads, counts: dict[str, int], params: Any) -> Result:
            for child in every:
                res = child(reads, counts, params)
                if not res[0]:
                    return res
            return (True, "ok", {})

        return all_
    if "any" in rule:
        options = [_compile(items, child, item) for child in rule["any"]]

        def any_(reads: _Reads, counts: dict[str, int], params: Any) -> Result:
            first: Result | None = None
            for child in options:
                res = child(reads, counts, params)
                if res[0]:
                    return (True, "ok", {})
                first = first or res
            assert first is not None
            return first

        return any_
    if "not" in rule:
        inner = _compile(items, rule["not"], item)

        def not_(reads: _Reads, counts: dict[str, int], params: Any) -> Result:
            ok, _code, p = inner(reads, counts, params)
            return (True, "ok", {}) if not ok else (False, "forbidden", p)

        return not_
    if "item" not in rule:
        return _compile_leaf(rule, item)
    target = items[rule["item"]]
    leaf = _compile_leaf(rule, target)
    name = target.key

    def other(reads: _Reads, counts: dict[str, int], params: Any) -> Result:
        ok, code, p = leaf(reads, counts, params)
        return (ok, code, {**p, "item": name})

    return other


def _amount(v: Any) -> Callable[[Any], Any]:
    """A rule's number: a literal, or {"param": name} read from the version's params."""
    if isinstance(v, dict):
        name = v["param"]
        return lambda params: params[name]
    return lambda params: v


def _compile_leaf(rule: dict[str, Any], target: Item) -> _RuleFn:
    op, key, ttype = rule["op"], target.key, target.type
    if op == "photos":
        need_of = _amount(rule["min"])

        def photos(reads: _Reads, counts: dict[str, int], params: Any) -> Result:
            have, need = counts.get(key, 0), _num(need_of(params))
            ok = have >= need
            return (ok, "ok" if ok else "photos_short", {"have": have, "need": need})

        return photos
    test = _compile_test(rule, target)
    if_blank = rule.get("if_blank")
    blank_ok = "if_blank" in rule
    nonempty = op == "nonempty"

    def leaf(reads: _Reads, counts: dict[str, int], params: Any) -> Result:
        r = reads[key]
        state = r[0]
        if state == "invalid":
            return (False, r[2], dict(r[3] or {}))
        if state == "none" and blank_ok:
            # an optional item another rule reads: the template says what its blank means
            return (True, "ok", {}) if if_blank == "pass" else (False, "missing_answer", {})
        if nonempty:
            v = r[1]
            full = state == "ok" and (
                (ttype != "multicheck" or len(v) > 0)
                and (ttype != "weekly_hours" or v["minutes"] > 0)
            )
            return (True, "ok", {}) if full else (False, "empty", {})
        if state == "none":
            return (False, "missing_answer", {})
        return test(r[1], params)

    return leaf


def _compile_test(rule: dict[str, Any], target: Item) -> Callable[[Any, Any], Result]:
    """The op of a leaf rule on an answered value."""
    op = rule["op"]
    if op in COMPARISONS:
        return _compile_compare(op, {"param": rule["param"]} if "param" in rule else rule["value"])
    if op == "matches":
        pattern = rule["pattern"]

        def matches(v: Any, params: Any) -> Result:
            ok = _regex(pattern).search(v) is not None
            return (ok, "ok" if ok else "no_match", {})

        return matches
    if op == "includes_all":
        wanted = rule.get("values") or list(target.option_keys)

        def includes_all(v: Any, params: Any) -> Result:
            missing = [k for k in wanted if k not in v]
            if not missing:
                return (True, "ok", {})
            return (False, "missing_options", {"missing": missing})

        return includes_all
    if op == "includes_any":
        wanted = rule.get("values") or list(target.option_keys)

        def includes_any(v: Any, params: Any) -> Result:
            chosen = v if isinstance(v, list) else [v]
            hit = any(k in chosen for k in wanted)
            return (True, "ok", {}) if hit else (False, "none_selected", {"values": list(wanted)})

        return includes_any
    if op == "weekly_hours":
        hours_of, days_of = _amount(rule.get("min_hours", 0)), _amount(rule.get("min_days", 0))

        def weekly(v: Any, params: Any) -> Result:
            min_hours, min_days = _num(hours_of(params)), _num(days_of(params))
            p = {
                "hours": v["hours"],
                "days": v["days"],
                "min_hours": min_hours,
                "min_days": min_days,
            }
            if v["minutes"] < min_hours * 60:
                return (False, "hours_short", p)
            if v["days"] < min_days:
                return (False, "days_short", p)
            return (True, "ok", p)

        return weekly

    def unknown(v: Any, params: Any) -> Result:
        raise ValueError(f"unknown op {op!r}")  # parse_template refuses these

    return unknown


# op: (holds, the param naming the limit, the code when it does not)
_ORDERED: dict[str, tuple[Callable[[Any, Any], bool], str, str]] = {
    ">=": (operator.ge, "min", "below_min"),
    ">": (operator.gt, "min", "not_above"),
    "<=": (operator.le, "max", "above_max"),
    "<": (operator.lt, "max", "not_below"),
}


def _compile_compare(op: str, amount: Any) -> Callable[[Any, Any], Result]:
    """`_compare` with what the rule fixes worked out once: the most common rules are
    "yes" (== true) and a threshold param (>=)."""
    if op in _ORDERED:
        holds, side, fail_code = _ORDERED[op]
        limit_of = _amount(amount)

        def ordered(v: Any, params: Any) -> Result:
            limit = limit_of(params)
            p = {"value": _num(v), side: _num(limit)}
            return (True, "ok", p) if holds(v, limit) else (False, fail_code, p)

        return ordered
    if isinstance(amount, bool):
        same = operator.eq if op == "==" else operator.ne
        fail_code = ("not_yes" if amount else "not_no") if op == "==" else "equal_forbidden"

        def flag(v: Any, params: Any) -> Result:
            return (True, "ok", {}) if same(v, amount) else (False, fail_code, {})

        return flag
    limit_of = _amount(amount)
    return lambda v, params: _compare(op, v, limit_of(params))


def _compare(op: str, v: Any, limit: Any) -> Result:
    if op in ("==", "!="):
        if isinstance(limit, bool):
            p: dict[str, Any] = {}
            fail_code = ("not_yes" if limit else "not_no") if op == "==" else "equal_forbidden"
        else:
            p = {"value": _num(v), "expected": _num(limit)}
            fail_code = "not_equal" if op == "==" else "equal_forbidden"
        ok = v == limit if op == "==" else v != limit
        return (True, "ok", p) if ok else (False, fail_code, p)
    holds, key, fail_code = _ORDERED[op]
    p = {"value": _num(v), key: _num(limit)}
    return (True, "ok", p) if holds(v, limit) else (False, fail_code, p)


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    # re.ASCII: JS \d and \w are ASCII-only; a full-width digit must not pass here alone.
    return re.compile(pattern, re.ASCII)
