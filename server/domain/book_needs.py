"""Book needs: how far each point's latest counts fall short of its county's thresholds.

This answers the question the seed's library counted by hand in November 2020 (which of its
6 branches and 64 points need books next year, 统计2021年需配发图书的分馆及村服务点). A
threshold is the param of the item's `>=` rule in the template version the point was
inspected with (the county's own figures: overrides are versions), so a county that asks
2000 volumes gets 2000 here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.domain.templates import Template

# The stock items a county buys for, in the order of the hand-in table. Only those the
# template has, with a `>=` threshold, are counted.
BOOK_ITEMS = ("book_volumes", "book_titles", "periodicals")


@dataclass(frozen=True)
class Need:
    item: str
    have: float | None  # None: not counted (left blank)
    threshold: float
    shortfall: float | None  # None: unknown (not counted)


def threshold(template: Template, key: str) -> float | None:
    """The `>=` threshold of an item (a param or a literal), None when it has none."""
    try:
        item = template.item(key)
    except KeyError:
        return None
    rule = item.rule or {}
    if rule.get("op") not in (">=", ">"):
        return None
    value = template.params.get(rule["param"]) if "param" in rule else rule.get("value")
    if not isinstance(value, int | float):
        return None
    return float(value) + (1 if rule["op"] == ">" else 0)


def needs(template: Template, answers: Mapping[str, Any]) -> dict[str, Need]:
    """Each book item the template thresholds: what the point has and what it lacks."""
    out = {}
    for key in BOOK_ITEMS:
        limit = threshold(template, key)
        if limit is None:
            continue
        value = answers.get(key)
        have = (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )
        short = None if have is None else max(0.0, limit - have)
        out[key] = Need(key, have, limit, short)
    return out
