"""What a report says, before it is laid out: titled tables (a summary, then one per
township) and, for the evidence ledger, each point's items with their photos.

Cells hold plain values (str, int, float, None); a column's `kind` says how to show them,
and `total` whether the 合计 row sums it. Every word is already in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("readiness", "followups", "scores", "ledger", "book-needs", "answers")
FORMATS = ("xlsx", "pdf", "html", "csv")
# The ledger is photos: a table or a CSV of it would say nothing the other kinds do not.
FORMATS_OF = {kind: FORMATS for kind in KINDS} | {"ledger": ("pdf", "html")}
CELL_KINDS = ("text", "int", "num", "percent")


@dataclass
class Column:
    header: str
    kind: str = "text"
    total: bool = False  # summed in the 合计 row
    wide: bool = False  # long text that may wrap; other cells keep to one line in print

    def __post_init__(self) -> None:
        if self.kind not in CELL_KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Table:
    """One sheet: the summary, or one township's."""

    name: str  # sheet name (≤ 31 characters in Excel; trimmed there)
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    numbered: bool = True  # a first column of 序号
    notes: list[str] = field(default_factory=list)
    # A 合计 row the builder worked out (shares are not sums); else the summed columns.
    total_row: list[Any] | None = None
    # Rows made while they are written, for a table too big to hold (a province's raw
    # answers); only the CSV renders such a table, and reads it inside the session.
    stream: Callable[[], Iterable[list[Any]]] | None = None

    def totals(self) -> list[Any] | None:
        """The 合计 row's cells (None where a column is not summed), or None for no row."""
        if self.total_row is not None:
            return self.total_row
        if not self.rows or not any(c.total for c in self.columns):
            return None
        out: list[Any] = []
        for n, col in enumerate(self.columns):
            if not col.total:
                out.append(None)
                continue
            values = [r[n] for r in self.rows if isinstance(r[n], int | float)]
            total = sum(values)
            out.append(round(total, 2) if isinstance(total, float) else total)
        return out


@dataclass
class Photo:
    path: Path
    mime: str
    caption: str = ""


@dataclass
class LedgerItem:
    label: str
    answer: str
    status: str  # shown word: 合格 / 不合格 / 未填 / 不适用
    passed: bool | None
    photos: list[Photo] = field(default_factory=list)


@dataclass
class LedgerEntry:
    """One point's latest inspection in the 台账."""

    township: str
    point: str
    facts: list[tuple[str, str]]  # (label, value): inspector, date, rating, …
    items: list[LedgerItem] = field(default_factory=list)


@dataclass
class Labels:
    """The fixed words of a hand-in table, in the report's language."""

    unit: str  # 填报单位
    date: str  # 填报日期
    seq: str  # 序号
    total: str  # 合计
    maker: str  # 制表人
    checker: str  # 审核人
    page: str  # 第 {page} 页 / 共 {pages} 页, with CSS counters put in by the HTML
    contents: str


@dataclass
class Report:
    kind: str
    lang: str
    title: str
    unit: str  # 填报单位: the county library (or the township) that hands it in
    date: str  # 填报日期, YYYY-MM-DD
    subtitle: str  # the cycle(s)
    labels: Labels
    facts: list[tuple[str, str]] = field(default_factory=list)  # the cover's key figures
    tables: list[Table] = field(default_factory=list)  # the summary first
    ledger: list[LedgerEntry] = field(default_factory=list)

    def filename(self, fmt: str) -> str:
        return f"{self.kind}-{self.date}.{fmt}"
