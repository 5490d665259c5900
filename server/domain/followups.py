"""Follow-ups (限期整改): what state one is in on a given day, and how long a county gives.

One definition for the web lists, the reports, the summaries and the phone (pwa/js/data.js
mirrors `state_on`), so "overdue" never means two things. Overdue is not stored: it follows
from the due date and the day you look, so nothing has to run at midnight to keep it true.
"""

from __future__ import annotations

from datetime import date

# Stored statuses. "fixed": the township says it is fixed; only a re-inspection that passes
# the item (or a supervisor, on photo evidence) closes it.
OPEN, FIXED, CLOSED = "open", "fixed", "closed"
STORED = (OPEN, FIXED, CLOSED)
PENDING = frozenset({OPEN, FIXED})  # still waiting for a re-inspection
# Shown states: the stored ones plus "overdue" (open past its due date).
OVERDUE = "overdue"
STATES = (OVERDUE, OPEN, FIXED, CLOSED)  # also the order lists show them in

# The template param a county sets (on its thresholds page) to give more or fewer days.
DAYS_PARAM = "followup_days"
DEFAULT_DAYS = 30


def state_on(status: str, due: date, today: date) -> str:
    """The state shown on `today`: an open follow-up past its due date is overdue. A fixed
    one is not: the township did its part, the re-inspection is the county's to make."""
    if status == OPEN and due < today:
        return OVERDUE
    return status


def days_given(params: dict) -> int:
    """Days from the inspection to the due date, from the template's params (a county's
    version may override the default's)."""
    raw = params.get(DAYS_PARAM, DEFAULT_DAYS)
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days > 0 else DEFAULT_DAYS
