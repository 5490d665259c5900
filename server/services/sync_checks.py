"""Domain checks on an incoming inspection op: does it refer to real, in-scope things, and
does every answer fit its checklist item? A failure is a Rejection: the op is quarantined
and acked `rejected` with the reason, never dropped and never half-applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from server.db import chunked
from server.domain.hours import Schedules, weekly_totals
from server.domain.numbers import real
from server.models import ChecklistTemplate, Cycle, ServicePoint, TemplateVersion
from server.services.inspections import template_for
from sync.errors import Rejection

if TYPE_CHECKING:
    from server.services.sync_prepare import Prepared

MAX_TEXT = 4000
# No count or measure on a checklist comes near this; 10**40 "books" is a broken client,
# and beyond 2**53 a phone's JavaScript could not even hold the number it sent.
MAX_NUMBER = 10**12
_REAL = (int, float)


@dataclass(frozen=True)
class Resolved:
    point_id: int
    version_id: int


@dataclass(frozen=True)
class PointRow:
    id: int
    township_id: int
    kind: str
    active: bool


class Checker:
    """One per request: caches points, versions and cycles across the batch's ops
    (`prefetch` loads every point a batch names in one query). `prepared`: what was worked
    out before the writer lock (sync_prepare): versions (immutable once stored) and whether
    each op's answers fit its checklist."""

    def __init__(
        self, session: Session, subtree: frozenset[int], prepared: Prepared | None = None
    ) -> None:
        self.session = session
        self.subtree = subtree
        self.prepared = prepared
        self._points: dict[str, PointRow | None] = {}
        self._versions: dict[tuple[str, int], tuple[int, str] | None] = {}
        if prepared is not None:
            self._versions.update(prepared.versions)
        self._cycles: dict[int, bool] = {}
        self._items: dict[int, dict[str, Any]] = {}

    def prefetch(self, codes: Iterable[str]) -> None:
        for part in chunked({c for c in codes if c not in self._points}):
            rows = self.session.connection().execute(
                select(
                    ServicePoint.code,
                    ServicePoint.id,
                    ServicePoint.township_id,
                    ServicePoint.kind,
                    ServicePoint.active,
                ).where(ServicePoint.code.in_(part))
            )
            found = {code: PointRow(*rest) for code, *rest in rows}
            # cached only once the query succeeded: the checker outlives a failed op
            self._points.update({code: found.get(code) for code in part})

    def point(self, code: str) -> PointRow | None:
        if code not in self._points:
            self.prefetch([code])
        return self._points[code]

    def version(self, key: str, number: int) -> tuple[int, str] | None:
        """(version id, kind of point it applies to)"""
        if (key, number) not in self._versions:
            row = (
                self.session.connection()
                .execute(
                    select(TemplateVersion.id, ChecklistTemplate.applies_to)
                    .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
                    .where(ChecklistTemplate.key == key, TemplateVersion.version == number)
                )
                .first()
            )
            self._versions[(key, number)] = (row[0], row[1]) if row else None
        return self._versions[(key, number)]

    def cycle_exists(self, cycle_id: int) -> bool:
        if cycle_id not in self._cycles:
            found = (
                self.session.connection()
                .execute(select(Cycle.id).where(Cycle.id == cycle_id))
                .first()
            )
            self._cycles[cycle_id] = found is not None
        return self._cycles[cycle_id]

    def check(self, data: dict, new: bool) -> Rejection | Resolved:
        """``new``: the server does not hold the record yet. A closed point takes no new
        inspection; one the server already holds was started before the point closed, so
        its edits are still accepted."""
        point = self.point(data["point_code"])
        if point is None:
            return Rejection.of("unknown_point", "point_code", point_code=data["point_code"])
        if point.township_id not in self.subtree:
            return Rejection.of("out_of_scope", "point_code", point_code=data["point_code"])
        if new and not point.active:
            return Rejection.of("point_inactive", "point_code", point_code=data["point_code"])
        key, number = data["template_key"], data["template_version"]
        found = self.version(key, number)
        if found is None:
            return Rejection.of(
                "unknown_template", "template_version", template_key=key, template_version=number
            )
        version_id, applies_to = found
        if applies_to != point.kind:
            return Rejection.of("template_mismatch", "template_key", template_key=key)
        cycle = data.get("cycle_id")
        if cycle is not None and not self.cycle_exists(cycle):
            return Rejection.of("unknown_cycle", "cycle_id", cycle_id=cycle)
        pre = self.prepared.op(data) if self.prepared is not None else None
        if pre is not None and pre.version_id == version_id:
            problem = pre.problem
        else:
            problem = fit_problem(self.items(version_id), data)
        if problem is not None:
            return problem
        return Resolved(point.id, version_id)

    def items(self, version_id: int) -> dict[str, Any]:
        items = self._items.get(version_id)
        if items is None:
            template = template_for(self.session, version_id)
            items = self._items[version_id] = {i.key: i for i in template.items}
        return items


def fit_problem(
    items: dict[str, Any], data: dict, schedules: Schedules | None = None
) -> Rejection | None:
    """The first answer or photo of `data` that does not fit the checklist's `items`.
    `schedules`: where the weekly totals read here are kept for the verdict (sync_prepare)."""
    for akey, value in (data.get("answers") or {}).items():
        why = answer_problem(items.get(akey), value, schedules)
        if why:
            return Rejection.of("bad_value", f"answers.{akey}", detail=why)
    for n, photo in enumerate(data.get("photos") or []):
        if photo["item"] not in items:
            return Rejection.of(
                "bad_value", f"photos[{n}].item", detail="not an item of this checklist"
            )
    return None


def answer_problem(item: Any, v: Any, schedules: Schedules | None = None) -> str | None:
    """Why ``v`` cannot be the answer to ``item``, or None. Mirrors rules._Context.read."""
    if item is None:
        return "not an item of this checklist"
    if v is None:
        return None
    t = item.type
    if t == "number":
        ok = real(v)
        if not (ok and 0 <= v <= MAX_NUMBER):
            return f"must be a number in [0, {MAX_NUMBER}]"
        return "must be a whole number" if item.integer and v != int(v) else None
    if t == "yesno":
        return None if isinstance(v, bool) else "must be true or false"
    if t == "choice":
        return None if isinstance(v, str) and v in item.option_keys else "must be one option key"
    if t == "multicheck":
        ok = isinstance(v, list) and all(isinstance(k, str) for k in v)
        ok = ok and set(v) <= set(item.option_keys) and len(set(v)) == len(v)
        return None if ok else "must be a list of distinct option keys"
    if t == "text":
        ok = isinstance(v, str) and len(v) <= MAX_TEXT
        return None if ok else f"must be text of at most {MAX_TEXT} characters"
    if t == "weekly_hours":
        totals = weekly_totals(v) if schedules is None else schedules.totals(v)
        return None if totals["invalid"] is None else "must be a weekly schedule"
    if t == "photo":
        return "a photo item is answered by photos, not a value"
    return f"unknown item type {t}"
