"""Building a report: the area and cycle it is about, then one builder per kind
(`report_kinds.py`, `report_records.py`) fills the content model (`server/reports/model.py`)
that every format renders. Called alike by the CLI (`xunjian report`) and the download
buttons (`routes/reports.py`), so both give the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from server.errors import BadRequest, NotFound
from server.i18n import text
from server.models import Area
from server.reports.model import FORMATS_OF, KINDS, Labels, Report
from server.services import report_data

Progress = Callable[[int, int], None]


@dataclass
class Request:
    """What was asked: one kind, one format, an area (None: the cycle's county)."""

    kind: str
    fmt: str
    cycle_id: int | None
    area: Area | None
    lang: str
    today: date
    data_dir: Path


def check_kind(kind: str, fmt: str) -> None:
    if kind not in KINDS:
        raise BadRequest("error.report_kind", code="report_kind", field="kind", kind=kind)
    if fmt not in FORMATS_OF[kind]:
        raise BadRequest(
            "error.report_format",
            code="report_format",
            field="format",
            kind=kind,
            format=fmt,
            formats=", ".join(FORMATS_OF[kind]),
        )


def area_by_code(session: Session, code: str) -> Area:
    area = session.exec(select(Area).where(Area.code == code.strip())).first()
    if area is None:
        raise NotFound("error.report_area", code="report_area", field="area", area=code)
    return area


def build(session: Session, req: Request, progress: Progress | None = None) -> Report:
    """The report's content (reads the database; no layout yet)."""
    from server.models import Cycle
    from server.services import report_kinds, report_records

    check_kind(req.kind, req.fmt)
    area = req.area
    if area is None:
        cycle = session.get(Cycle, req.cycle_id) if req.cycle_id is not None else None
        if cycle is None:
            raise NotFound("error.report_cycle", code="report_cycle", cycle=req.cycle_id)
        area = session.get(Area, cycle.county_id)
        assert area is not None
    scope = report_data.resolve(session, area, req.cycle_id)
    report = _frame(req, scope)
    builder = {
        "readiness": report_kinds.readiness,
        "followups": report_kinds.followups,
        "scores": report_kinds.scores,
        "book-needs": report_kinds.book_needs,
        "answers": report_records.answers,
        "ledger": report_records.ledger,
    }[req.kind]
    builder(session, scope, report, req, progress or (lambda done, total: None))
    return report


def _frame(req: Request, scope: report_data.ReportScope) -> Report:
    lang = req.lang

    def t(key: str, **params) -> str:
        return text(lang, key, **params)

    area = scope.area
    unit_key = "report.unit_township" if area.level == "township" else "report.unit"
    cycles = (
        "、".join(c.name for _, c in scope.cycles)
        if lang == "zh-CN"
        else "; ".join(c.name for _, c in scope.cycles)
    )
    return Report(
        kind=req.kind,
        lang=lang,
        title=t(f"report.title.{req.kind}", area=area.name),
        unit=t(unit_key, area=area.name),
        date=req.today.isoformat(),
        subtitle=cycles,
        labels=Labels(
            unit=t("report.label.unit"),
            date=t("report.label.date"),
            seq=t("report.label.seq"),
            total=t("report.label.total"),
            maker=t("report.label.maker"),
            checker=t("report.label.checker"),
            page=t("report.label.page"),
            contents=t("report.label.contents"),
        ),
    )
