"""Scores in the county's own table (考核评分表): each item's 分值 and 扣分 come from the
checklist template (`"score": {"points", "deduct"}`), so another province's table is a
template file, not code. The rating (达标 / 基本达标 / 不达标) is not touched: a score is an
extra view of the same item results.

An item that passes earns its points; one that fails or was left unanswered loses its
deduction (never below 0); an item that does not apply (na) is left out of both the
points earned and the points possible, as assessors strike an item that does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from server.domain.templates import Template

# PointSummary.items keeps one letter per counted item: pass, fail, missing (na left out).
PASSED = "p"


@dataclass(frozen=True)
class SectionScore:
    key: str
    name_zh: str
    name_en: str
    earned: float
    possible: float


@dataclass(frozen=True)
class PointScore:
    earned: float
    possible: float
    sections: tuple[SectionScore, ...]
    items: dict[str, float] = field(hash=False)  # item key -> points earned (scored items)

    @property
    def share(self) -> float:
        return round(self.earned / self.possible, 4) if self.possible else 0.0


def has_scores(template: Template) -> bool:
    return any(i.score is not None for i in template.items)


def table_columns(template: Template) -> list[tuple[str, str, str, float]]:
    """(item key, 中文, English, 分值) of every scored item, in template order."""
    return [(i.key, i.label.zh, i.label.en, i.score.points) for i in template.items if i.score]


def score_point(template: Template, statuses: Mapping[str, str]) -> PointScore:
    """Score one inspection from its item statuses ({key: "p"|"f"|"m"}; absent = na)."""
    sections, items = [], {}
    earned_all = possible_all = 0.0
    for section in template.sections:
        earned = possible = 0.0
        for item in section.items:
            if item.score is None or item.key not in statuses:
                continue
            got = item.score.points
            if statuses[item.key] != PASSED:
                got = max(0.0, item.score.points - item.score.deduct)
            items[item.key] = got
            earned += got
            possible += item.score.points
        if possible:
            sections.append(
                SectionScore(section.key, section.name.zh, section.name.en, earned, possible)
            )
        earned_all += earned
        possible_all += possible
    return PointScore(earned_all, possible_all, tuple(sections), items)


def sum_scores(scores: Iterable[PointScore]) -> tuple[float, float, int]:
    """(points earned, points possible, points scored) over several points: a township's
    total. The average a county hands in is earned / scored."""
    earned = possible = 0.0
    n = 0
    for s in scores:
        earned += s.earned
        possible += s.possible
        n += 1
    return earned, possible, n
