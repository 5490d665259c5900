"""Evaluate a template's rules against one inspection's answers and photos.

`pwa/js/rules.js` is this module's twin: the phone shows the same verdict offline that the
server records, so every status, code and param here must be produced there identically
(tests/cases/rule_cases.json is run through both). Keep arithmetic to operations that IEEE
doubles do the same way in both languages; see `round2`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.domain.rating import rate
from server.domain.templates import COMPARISONS, Item, Template

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
# Python's str.strip() and JS trim() disagree on a few exotic characters; strip only these.
_BLANK = " \t\n\r\u3000"

Result = tuple[bool, str, dict[str, Any]]


def round2(x: float) -> int | float:
    """Round half up to 2 decimals exactly as JS `Math.floor(x * 100 + 0.5) / 100` does."""
    return _num(math.floor(x * 100 + 0.5) / 100)


def _num(x: Any) -> Any:
    # JSON.stringify(2.0) is "2": give integral floats back as ints so both sides print alike.
    return int(x) if isinstance(x, float) and x.is_integer() else x


def weekly_totals(hours: Any) -> dict[str, Any]:
    """Weekly opening totals; overlapping ranges on a day are merged, never counted twice.

    Returns {"minutes", "hours", "days", "by_day": {day: hours}, "invalid": None | {code,
    params}}. A malformed schedule gives zeros and `invalid`, so the caller can fail the item.
    """
    empty = {"minutes": 0, "hours": 0, "days": 0, "by_day": {d: 0 for d in DAYS}}
    if not isinstance(hours, dict) or any(k not in DAYS for k in hours):
        return {**empty, "invalid": {"code": "invalid_value", "params": {}}}
    by_day, total, days = {}, 0, 0
    for day in DAYS:
        ranges = hours.get(day, [])
        if not isinstance(ranges, list):
            return {**empty, "invalid": {"code": "invalid_value", "params": {}}}
        spans = []
        for r in ranges:
            if not (isinstance(r, list) and len(r) == 2 and all(isinstance(t, str) for t in r)):
                return {**empty, "invalid": {"code": "invalid_value", "params": {}}}
            for t in r:
                if not _TIME.fullmatch(t):
                    return {**empty, "invalid": _bad_hours(day, t)}
            start, end = _minutes(r[0]), _minutes(r[1])
            if start >= end:
                return {**empty, "invalid": _bad_hours(day, f"{r[0]}-{r[1]}")}
            spans.append((start, end))
        minutes, reach = 0, -1
        for start, end in sorted(spans):
            if end > reach:
                minutes += end - max(start, reach)
                reach = end
        by_day[day] = round2(minutes / 60)
        total += minutes
        days += minutes > 0
    return {
        "minutes": total,
        "hours": round2(total / 60),
        "days": days,
        "by_day": by_day,
        "invalid": None,
    }


def _bad_hours(day: str, value: str) -> dict[str, Any]:
    return {"code": "invalid_hours", "params": {"day": day, "value": value}}


def _minutes(t: str) -> int:
    return int(t[:2]) * 60 + int(t[3:])


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


@dataclass(frozen=True)
class _Read:
    state: str  # "ok" | "none" (not answered) | "invalid"
    value: Any = None
    code: str = ""
    params: dict[str, Any] | None = None


class _Context:
    def __init__(self, template: Template, answers: Any, photos: Any) -> None:
        self.template = template
        self.items = {i.key: i for i in template.items}
        self.answers = answers if isinstance(answers, dict) else {}
        self.counts = count_photos(photos)
        self._reads: dict[str, _Read] = {}

    def read(self, item: Item) -> _Read:
        # an item is read by its own rule, by rules of other items and for warnings: once is
        # enough (a weekly schedule costs more to read than most whole items to evaluate)
        found = self._reads.get(item.key)
        if found is None:
            found = self._reads[item.key] = self._read(item)
        return found

    def _read(self, item: Item) -> _Read:
        if item.type == "photo":
            n = self.counts.get(item.key, 0)
            return _Read("ok", n) if n else _Read("none")
        v = self.answers.get(item.key)
        if v is None or (isinstance(v, str) and not v.strip(_BLANK)):
            return _Read("none")
        t, ok = item.type, False
        if t == "number":
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if ok and v < 0:
                return _Read("invalid", None, "negative", {})
            if ok and item.integer and v != int(v):
                return _Read("invalid", None, "not_integer", {})
        elif t == "yesno":
            ok = isinstance(v, bool)
        elif t == "choice":
            ok = isinstance(v, str) and v in item.option_keys
        elif t == "multicheck":
            ok = isinstance(v, list) and all(isinstance(k, str) for k in v)
            ok = ok and set(v) <= set(item.option_keys)
            v = [k for k in item.option_keys if ok and k in v]
        elif t == "text":
            ok = isinstance(v, str)
            v = v.strip(_BLANK) if ok else v
        elif t == "weekly_hours":
            totals = weekly_totals(v)
            bad = totals["invalid"]
            if bad:
                return _Read("invalid", None, bad["code"], bad["params"])
            return _Read("ok", totals)
        return _Read("ok", v) if ok else _Read("invalid", None, "invalid_value", {})

    def amount(self, v: Any) -> Any:
        return self.template.params[v["param"]] if isinstance(v, dict) else v


def evaluate_item(template: Template, key: str, answers: Any, photos: Any) -> dict[str, Any]:
    """Evaluate one item: {"status": pass|fail|missing|na, "code", "params"}.

    "missing" means not inspected: a required item left blank, or an answered item whose
    rule needs another required item that was left blank ("needs_item"). Neither can fail.
    """
    return _evaluate_item(_Context(template, answers, photos), template.item(key))


def evaluate(template: Template, answers: Any, photos: Any) -> dict[str, Any]:
    """Evaluate a whole inspection. JSON-ready: {"items": {key: result}, "rating": {...},
    "warnings": [...]}.

    `answers` maps item key to value (architecture.md, "Item types"); `photos` is the
    inspection's photo list, each with the "item" it is evidence for. A warning is a value
    to check, never a failure: {"item", "code": "implausible", "params": {value, max}}.
    """
    ctx = _Context(template, answers, photos)
    items = {i.key: _evaluate_item(ctx, i) for i in template.items}
    return {"items": items, "rating": rate(template, items), "warnings": _warnings(ctx)}


def _warnings(ctx: _Context) -> list[dict[str, Any]]:
    out = []
    for item in ctx.template.items:
        if item.plausible_max is None:
            continue
        r = ctx.read(item)
        if r.state == "ok" and r.value > item.plausible_max:
            p = {"value": _num(r.value), "max": _num(item.plausible_max)}
            out.append({"item": item.key, "code": "implausible", "params": p})
    return out


def _evaluate_item(ctx: _Context, item: Item) -> dict[str, Any]:
    r = ctx.read(item)
    if r.state == "none":
        if item.required:
            return _out("missing", "missing_answer", {})
        return _out("na", "not_answered", {})
    if r.state == "invalid":
        return _out("fail", r.code, r.params or {})
    params: dict[str, Any] = {}
    if item.rule is not None:
        blank = _blank_dependency(ctx, item.rule, item)
        if blank is not None:
            return _out("missing", "needs_item", {"item": blank})
        ok, code, params = _rule(ctx, item.rule, item)
        if not ok:
            return _out("fail", code, params)
    have = ctx.counts.get(item.key, 0)
    if have < item.evidence_photos:
        return _out("fail", "photos_short", {"have": have, "need": item.evidence_photos})
    return _out("pass", "ok", params)


def _blank_dependency(ctx: _Context, rule: dict[str, Any], item: Item) -> str | None:
    """The first required item, other than `item`, that the rule reads and that was left
    blank: the verdict waits for it (an optional one declares `if_blank` instead)."""
    for child in rule.get("all") or rule.get("any") or ([rule["not"]] if "not" in rule else []):
        found = _blank_dependency(ctx, child, item)
        if found is not None:
            return found
    key = rule.get("item")
    if "op" not in rule or key is None or key == item.key or rule["op"] == "photos":
        return None
    target = ctx.items[key]
    return key if target.required and ctx.read(target).state == "none" else None


def _out(status: str, code: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"status": status, "code": code, "params": params}


def _rule(ctx: _Context, rule: dict[str, Any], item: Item) -> Result:
    if "all" in rule:
        for child in rule["all"]:
            res = _rule(ctx, child, item)
            if not res[0]:
                return _coded(rule, res)
        return (True, "ok", {})
    if "any" in rule:
        first: Result | None = None
        for child in rule["any"]:
            res = _rule(ctx, child, item)
            if res[0]:
                return (True, "ok", {})
            first = first or res
        assert first is not None
        return _coded(rule, first)
    if "not" in rule:
        ok, _code, params = _rule(ctx, rule["not"], item)
        return (True, "ok", {}) if not ok else _coded(rule, (False, "forbidden", params))
    target = ctx.items[rule["item"]] if "item" in rule else item
    ok, code, params = _leaf(ctx, rule, target)
    if "item" in rule:
        params = {**params, "item": target.key}
    return _coded(rule, (ok, code, params))


def _coded(rule: dict[str, Any], res: Result) -> Result:
    if not res[0] and "code" in rule:
        return (False, rule["code"], res[2])
    return res


def _leaf(ctx: _Context, rule: dict[str, Any], target: Item) -> Result:
    op = rule["op"]
    if op == "photos":
        have, need = ctx.counts.get(target.key, 0), _num(ctx.amount(rule["min"]))
        ok = have >= need
        return (ok, "ok" if ok else "photos_short", {"have": have, "need": need})
    r = ctx.read(target)
    if r.state == "invalid":
        return (False, r.code, dict(r.params or {}))
    if r.state == "none" and "if_blank" in rule:
        # an optional item another rule reads: the template says what its blank means
        return (True, "ok", {}) if rule["if_blank"] == "pass" else (False, "missing_answer", {})
    if op == "nonempty":
        v = r.value
        full = r.state == "ok" and (
            (target.type != "multicheck" or len(v) > 0)
            and (target.type != "weekly_hours" or v["minutes"] > 0)
        )
        return (True, "ok", {}) if full else (False, "empty", {})
    if r.state == "none":
        return (False, "missing_answer", {})
    v = r.value
    if op in COMPARISONS:
        limit = ctx.amount({"param": rule["param"]} if "param" in rule else rule["value"])
        return _compare(op, v, limit)
    if op == "matches":
        ok = _regex(rule["pattern"]).search(v) is not None
        return (ok, "ok" if ok else "no_match", {})
    if op == "includes_all":
        wanted = rule.get("values") or list(target.option_keys)
        missing = [k for k in wanted if k not in v]
        return (True, "ok", {}) if not missing else (False, "missing_options", {"missing": missing})
    if op == "includes_any":
        wanted = rule.get("values") or list(target.option_keys)
        chosen = v if isinstance(v, list) else [v]
        hit = any(k in chosen for k in wanted)
        return (True, "ok", {}) if hit else (False, "none_selected", {"values": list(wanted)})
    if op == "weekly_hours":
        min_hours = _num(ctx.amount(rule.get("min_hours", 0)))
        min_days = _num(ctx.amount(rule.get("min_days", 0)))
        p = {"hours": v["hours"], "days": v["days"], "min_hours": min_hours, "min_days": min_days}
        if v["minutes"] < min_hours * 60:
            return (False, "hours_short", p)
        if v["days"] < min_days:
            return (False, "days_short", p)
        return (True, "ok", p)
    raise ValueError(f"unknown op {op!r}")  # parse_template refuses these


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
    key = "min" if op in (">=", ">") else "max"
    p = {"value": _num(v), key: _num(limit)}
    ok = {">=": v >= limit, ">": v > limit, "<=": v <= limit, "<": v < limit}[op]
    fail_code = {">=": "below_min", ">": "not_above", "<=": "above_max", "<": "not_below"}[op]
    return (True, "ok", p) if ok else (False, fail_code, p)


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    # re.ASCII: JS \d and \w are ASCII-only; a full-width digit must not pass here alone.
    return re.compile(pattern, re.ASCII)
