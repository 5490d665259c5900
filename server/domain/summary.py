"""What one point's standing in a cycle adds to its township's and county's figures.

The director's pages read per-point and per-area summaries instead of every inspection of
the cycle (services/summaries.py keeps them in the writing transaction). Both the incremental
upkeep and a full recompute go through these two functions, so "what a point counts for" is
defined once; the roll-up in `rollup.py` stays as the independent reference the tests hold
the summaries against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# A point's rating is one of these; "not inspected" is the active points minus the
# inspected ones. Unknown codes are refused (a new rating needs a new column).
RATING_CODES = ("good", "basic", "fail", "incomplete")
COUNTERS = ("inspected", *RATING_CODES, "critical", "evidence_pending")
# Item outcomes kept per point. Pass rates count p and f; m (not inspected) is kept to be
# shown, never counted (Tally.add), and na is not kept at all.
COUNTED = {"pass": "p", "fail": "f", "missing": "m"}


def point_facts(result: dict[str, Any]) -> dict[str, Any]:
    """The parts of an evaluation (`rules.evaluate`) that the pages show and the areas sum:
    rating, critical failures, failed and unanswered items with their reasons, and the
    status of every counted item (one letter each, to keep the row small)."""
    rating = result["rating"]["code"]
    if rating not in RATING_CODES:
        raise ValueError(f"unknown rating {rating!r}")
    items = result["items"]
    critical = list(result["rating"].get("critical_failed", []))
    failed = [
        {"item": key, "status": r["status"], "code": r.get("code", ""), "params": r["params"]}
        for key, r in items.items()
        if r["status"] in ("fail", "missing")
    ]
    return {
        "rating": rating,
        "critical_count": len(critical),
        "failed_count": len(failed),
        "critical_failed": critical,
        "failed": failed,
        "items": {key: COUNTED[r["status"]] for key, r in items.items() if r["status"] in COUNTED},
    }


@dataclass
class Tally:
    """Sums for one area and cycle: the counters and, per (template, item), passed/counted."""

    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    items: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add(self, summary: Any, sign: int = 1) -> None:
        """Add (or with sign -1 take away) what one point summary counts for."""
        if not summary.counted:
            return
        c = self.counters
        c["inspected"] += sign
        c[summary.rating] += sign
        c["critical"] += sign * bool(summary.critical_failed)
        c["evidence_pending"] += sign * (not summary.evidence_complete)
        for key, status in summary.items.items():
            if status == "m":
                continue  # not inspected: neither passed nor failed, out of the pass rate
            stat = self.items.setdefault((summary.template_key, key), [0, 0])
            stat[0] += sign * (status == "p")
            stat[1] += sign

    def is_zero(self) -> bool:
        return not any(self.counters.values()) and not any(p or n for p, n in self.items.values())


def tally(summaries: Iterable[Any], area_of: Any) -> dict[Any, Tally]:
    """Sum summaries into the areas `area_of(summary)` names (an iterable of area keys)."""
    out: dict[Any, Tally] = {}
    for s in summaries:
        for area in area_of(s):
            out.setdefault(area, Tally()).add(s)
    return out
