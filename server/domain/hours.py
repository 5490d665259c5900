"""Weekly opening hours: the totals a schedule answer is judged by.

A schedule is {day: [["HH:MM", "HH:MM"], ...]}; `pwa/js/rules.js` works out the same totals
(tests/cases/rule_cases.json). Kept apart from the rules because the office pages (format.py)
and the answer checks (sync_checks) read them too.
"""

from __future__ import annotations

from typing import Any

from server.domain.numbers import round2

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_SET = frozenset(DAYS)
_NO_RANGES: list[Any] = []


# Every time a schedule may hold, "00:00" to "23:59" and "24:00" (what the regex
# (?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00 matches in full), with its minutes since midnight:
# one dict lookup checks and reads a time (a schedule is read for every op synced).
_MINUTES = {f"{h:02d}:{m:02d}": h * 60 + m for h in range(24) for m in range(60)}
_MINUTES["24:00"] = 24 * 60
# round2(minutes / 60) for every total one day can have
_DAY_HOURS = [round2(m / 60) for m in range(24 * 60 + 1)]


def weekly_totals(hours: Any) -> dict[str, Any]:
    """Weekly opening totals; overlapping ranges on a day are merged, never counted twice.

    Returns {"minutes", "hours", "days", "by_day": {day: hours}, "invalid": None | {code,
    params}}. A malformed schedule gives zeros and `invalid`, so the caller can fail the item.
    """
    if not isinstance(hours, dict) or not _DAY_SET.issuperset(hours):
        return _invalid_week({"code": "invalid_value", "params": {}})
    by_day, total, days = {}, 0, 0
    for day in DAYS:
        ranges = hours.get(day, _NO_RANGES)
        if not isinstance(ranges, list):
            return _invalid_week({"code": "invalid_value", "params": {}})
        spans = []
        for r in ranges:
            if not (isinstance(r, list) and len(r) == 2):
                return _invalid_week({"code": "invalid_value", "params": {}})
            first, last = r
            try:
                start, end = _MINUTES[first], _MINUTES[last]
            except (KeyError, TypeError):  # not a time, or not even a string
                return _invalid_week(_bad_range(day, first, last))
            if start >= end:
                return _invalid_week(_bad_hours(day, f"{first}-{last}"))
            spans.append((start, end))
        if len(spans) == 2:
            # the union of two ranges, exactly as merging them does
            (s1, e1), (s2, e2) = spans
            minutes = e1 - s1 + e2 - s2 - max(0, min(e1, e2) - max(s1, s2))
        elif spans:
            spans.sort()
            minutes, reach = 0, -1
            for start, end in spans:
                if end > reach:
                    minutes += end - max(start, reach)
                    reach = end
        else:
            minutes = 0
        by_day[day] = _DAY_HOURS[minutes]
        total += minutes
        days += minutes > 0
    return {
        "minutes": total,
        "hours": round2(total / 60),
        "days": days,
        "by_day": by_day,
        "invalid": None,
    }


class Schedules:
    """`weekly_totals` of the schedules one op holds, each worked out once: a sync op's
    schedule is read by the checklist fit (sync_checks) and again by the verdict, and it is
    the dearest answer to read. Keyed by identity, so use one only while the answers it saw
    are neither changed nor dropped (one op's checks, start to end)."""

    def __init__(self) -> None:
        self._found: dict[int, tuple[Any, dict[str, Any]]] = {}

    def totals(self, hours: Any) -> dict[str, Any]:
        found = self._found.get(id(hours))
        if found is not None and found[0] is hours:
            return found[1]
        totals = weekly_totals(hours)
        # the schedule is held with its totals, so its id cannot name another in the meantime
        self._found[id(hours)] = (hours, totals)
        return totals


def _invalid_week(invalid: dict[str, Any]) -> dict[str, Any]:
    by_day = {d: 0 for d in DAYS}
    return {"minutes": 0, "hours": 0, "days": 0, "by_day": by_day, "invalid": invalid}


def _bad_range(day: str, first: Any, last: Any) -> dict[str, Any]:
    if not (isinstance(first, str) and isinstance(last, str)):
        return {"code": "invalid_value", "params": {}}
    return _bad_hours(day, last if first in _MINUTES else first)


def _bad_hours(day: str, value: str) -> dict[str, Any]:
    return {"code": "invalid_hours", "params": {"day": day, "value": value}}
