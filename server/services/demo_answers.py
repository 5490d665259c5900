"""Plausible answers for a template, for the demo: read the rules, then answer each item on
the passing or the failing side of its threshold."""

from __future__ import annotations

import random
from collections.abc import Iterator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_WEEK = {d: ([["09:00", "12:00"], ["14:30", "17:30"]] if d != "mon" else []) for d in DAYS}
SHORT_WEEK = {d: ([["14:00", "17:00"]] if d in ("sat", "sun") else []) for d in DAYS}
PHOTO_KIND = {
    "signboard": "sign",
    "branch_signboard": "sign",
    "rules_posted": "rules",
    "hours_posted": "rules",
    "shelving": "shelves",
    "catalog_register": "register",
    "loan_register": "register",
    "activities_12m": "activity",
}


def _items(content: dict) -> Iterator[dict]:
    for section in content.get("sections", []):
        yield from section.get("items", [])


def _leaves(rule: dict | None, item: str) -> Iterator[tuple[str, dict]]:
    if not rule:
        return
    for combinator in ("all", "any"):
        if combinator in rule:
            for sub in rule[combinator]:
                yield from _leaves(sub, rule.get("item", item))
            return
    if "not" in rule:
        return
    yield rule.get("item", item), rule


def _threshold(leaf: dict, params: dict, name: str = "value"):
    spec = leaf.get(name)
    if name == "value" and "param" in leaf:
        return params.get(leaf["param"])
    if isinstance(spec, dict):
        return params.get(spec.get("param"))
    return spec


def answers_for(
    content: dict,
    quality: float,
    rng: random.Random,
    photos: dict[str, list[str]],
    sizes: dict[str, int] | None = None,
):
    """Answers and photo references; higher quality means more items pass. `sizes` (bytes by
    hash) completes each reference as the protocol requires (sync/records.py)."""
    params = content.get("params", {})
    leaves: dict[str, list[dict]] = {}
    for item in _items(content):
        for target, leaf in _leaves(item.get("rule"), item["key"]):
            leaves.setdefault(target, []).append(leaf)
    answers: dict = {}
    item_photos: list[dict] = []
    for item in _items(content):
        key = item["key"]
        # Critical items fail rarely; others fail as often as quality says.
        fail_chance = (1 - quality) * (0.35 if item.get("critical") else 0.9)
        passing = rng.random() >= fail_chance
        value = _value(item, leaves.get(key, []), params, passing, rng)
        if value is not None:
            answers[key] = value
        wanted = max(item.get("evidence", {}).get("photos", 0), 1 if item["type"] == "photo" else 0)
        # A photo item without its photo was not inspected (rating 未完成), not failed: the
        # demo's inspectors take it; a missing evidence photo is a failure they do make.
        if wanted and (passing or item["type"] == "photo" or rng.random() < 0.5):
            pool = photos.get(PHOTO_KIND.get(key, "shelves"), []) or [
                s for v in photos.values() for s in v
            ]
            for sha in rng.sample(pool, min(wanted, len(pool))):
                ref = {"sha256": sha, "item": key, "mime": "image/jpeg"}
                if sizes and sha in sizes:
                    ref["size"] = sizes[sha]
                item_photos.append(ref)
    return answers, item_photos


def _value(item: dict, leaves: list[dict], params: dict, passing: bool, rng):
    kind = item["type"]
    if kind == "number":
        floor = 0
        for leaf in leaves:
            if leaf.get("op") in (">=", ">"):
                floor = max(floor, _threshold(leaf, params) or 0)
        if not floor:
            return rng.randrange(2, 40)
        factor = rng.uniform(1.05, 1.8) if passing else rng.uniform(0.4, 0.9)
        return round(floor * factor) + (1 if passing else 0)
    if kind == "yesno":
        return passing
    if kind == "choice":
        options = [o["key"] for o in item.get("options", [])]
        return options[0] if passing or len(options) < 2 else options[-1]
    if kind == "multicheck":
        options = [o["key"] for o in item.get("options", [])]
        return options if passing else options[: max(0, len(options) - 1)]
    if kind == "weekly_hours":
        return FULL_WEEK if passing else SHORT_WEEK
    if kind == "text":
        if any(leaf.get("op") == "matches" for leaf in leaves):
            digits = 9 if passing else 5  # a failing phone is one written down wrong
            tail = "".join(rng.choice("0123456789") for _ in range(digits))
            return "1" + rng.choice("3589") + tail
        # a blank is not a failure but an item not inspected: the demo's inspectors answer
        return rng.choice(["王建国", "李秀英", "张卫东", "刘海燕"])
    return None
