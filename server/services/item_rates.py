"""The pass rate of each checklist item in an area and cycle, summed from
`area_item_summary`: what the overview lists under 各检查项."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, select

from server.models import AreaItemSummary
from server.services.area_tree import AreaTree
from server.services.checklist_labels import Checklist, checklist
from server.services.cycle_choice import CycleChoice


@dataclass
class ItemRate:
    template_key: str
    item_key: str
    label: object  # a template Text, or None when the item left the template
    critical: bool
    passed: int
    counted: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.counted if self.counted else None

    @property
    def failing(self) -> int:
        return self.counted - self.passed


def templates_for(
    session: Session, tree: AreaTree, choice: CycleChoice, keys: set[str]
) -> dict[str, Checklist]:
    """The checklist each template key reads as here: the county's own version for one
    county, the shipped default above (labels only: thresholds do not show)."""
    county = tree.counties()[0].id if choice.single and tree.counties() else None
    out = {}
    for key in sorted(keys):
        template = checklist(session, key, county)
        if template is not None:
            out[key] = template
    return out


def item_sums(
    session: Session, tree: AreaTree, choice: CycleChoice
) -> dict[tuple[str, str], list[int]]:
    """{(template key, item key): [passed, counted]} of the area in the chosen cycles."""
    if not choice.ids:
        return {}
    # (cycle, area) pairs, not two IN lists: a province's 100 cycles times 100 counties
    # made SQLite probe 10,000 keys for the 100 that exist (20 ms)
    pairs: list[tuple[Any, Any]]
    if tree.root.level == "township":
        pairs = [(cycle_id, tree.root.id) for cycle_id in choice.ids]
    else:
        pairs = [
            (choice.by_county[c.id].id, c.id)
            for c in tree.counties()
            if c.id is not None and c.id in choice.by_county
        ]
    sums: dict[tuple[str, str], list[int]] = {}
    for tpl, item, passed, counted in session.exec(
        select(
            AreaItemSummary.template_key,
            AreaItemSummary.item_key,
            func.sum(AreaItemSummary.passed),
            func.sum(AreaItemSummary.counted),
        )
        .where(_pairs_in(pairs))
        .group_by(AreaItemSummary.template_key, AreaItemSummary.item_key)
    ):
        sums[(tpl, item)] = [int(passed or 0), int(counted or 0)]
    return sums


def _pairs_in(pairs: list[tuple[Any, Any]]) -> Any:
    """WHERE (cycle_id, area_id) is one of `pairs`, as ORed equalities: SQLite answers a row
    value IN list by reading the whole table, and building 100 ORed expressions costs
    SQLAlchemy 10 ms, so the SQL is written here (ids are integers read from the database:
    nothing is quoted)."""
    if not pairs:
        return text("1 = 0")
    return text(" OR ".join(f"(cycle_id = {int(c)} AND area_id = {int(a)})" for c, a in pairs))


def item_rates(
    sums: dict[tuple[str, str], list[int]], templates: dict[str, Checklist]
) -> list[ItemRate]:
    out = []
    for tpl_key in sorted({k[0] for k in sums}):
        template = templates.get(tpl_key)
        order = [i.key for i in template.items] if template else []
        keys = sorted(
            (k for t, k in sums if t == tpl_key),
            key=lambda k: (order.index(k) if k in order else len(order), k),
        )
        for key in keys:
            item = next((i for i in template.items if i.key == key), None) if template else None
            passed, counted = sums[(tpl_key, key)]
            if counted:
                out.append(
                    ItemRate(
                        tpl_key,
                        key,
                        item.label if item else None,
                        bool(item and item.critical),
                        passed,
                        counted,
                    )
                )
    return out
