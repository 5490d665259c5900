"""The figure reports: readiness, follow-ups (整改清单), scores (考核评分表) and book needs.
Each fills a summary table (one row per township, 合计 below) and one table per township
(one row per point, or per follow-up)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from itertools import groupby
from typing import Any

from sqlmodel import Session

from server.domain import book_needs as books
from server.domain import readiness as ready
from server.domain.scores import has_scores, score_point
from server.i18n import has, text
from server.models import Area
from server.pages.format import label_text
from server.reports.model import Column, Report, Table
from server.services import report_data
from server.services.report_data import PointRow, ReportScope, template_of

Progress = Callable[[int, int], None]


def townships(rows: list[PointRow]) -> Iterator[tuple[Area, Area, list[PointRow]]]:
    """(county, township, its rows) in code order (rows come sorted)."""
    for _, group in groupby(rows, key=lambda r: (r.county.code, r.township.code)):
        part = list(group)
        yield part[0].county, part[0].township, part


def sheet_name(scope: ReportScope, county: Area, township: Area) -> str:
    return f"{county.name}{township.name}" if len(scope.cycles) > 1 else township.name


def area_cols(t, scope: ReportScope) -> list[Column]:
    cols = [Column(t("report.col.township"))]
    return [Column(t("report.col.county")), *cols] if len(scope.cycles) > 1 else cols


def area_cells(scope: ReportScope, county: Area, township: Area) -> list[Any]:
    return [county.name, township.name] if len(scope.cycles) > 1 else [township.name]


def rating_word(t, code: str | None) -> str:
    return t(f"report.rating.{code}") if code else t("report.rating.none")


def _item_label(session: Session, lang: str, row: PointRow, key: str) -> str:
    if row.summary is not None:
        try:
            tpl = template_of(session, row.summary.template_version_id)
            return label_text(lang, tpl.item(key).label)
        except (KeyError, LookupError):
            pass
    return key


# -- readiness ----------------------------------------------------------------------------


def readiness(session: Session, scope: ReportScope, report: Report, req, progress) -> None:
    t = partial(text, req.lang)
    rows = report_data.points(session, scope)
    follows = report_data.follow_up_states(rows)
    states = [report_data.point_state(r) for r in rows]
    result = ready.assess(
        states,
        follows,
        today=req.today,
        assessment_date=scope.assessment_date,
        total_code=scope.area.code,
        total_name=scope.area.name,
    )
    tot = result.total
    days = result.days_left
    report.facts = [
        (t("report.fact.readiness"), f"{tot.readiness * 100:.1f}%"),
        (t("report.fact.coverage"), f"{tot.coverage * 100:.1f}%"),
        (t("report.fact.points"), str(tot.points)),
        (t("report.fact.fail"), str(tot.ratings["fail"])),
        (t("report.fact.incomplete"), str(tot.ratings["incomplete"])),
        (t("report.fact.evidence_gaps"), str(tot.evidence_gaps)),
        (t("report.fact.not_inspected"), str(tot.not_inspected)),
        (
            t("report.fact.follow_ups"),
            t(
                "report.fact.follow_ups_value",
                open=tot.open_follow_ups,
                overdue=tot.overdue_follow_ups,
            ),
        ),
        (
            t("report.fact.days_left"),
            t("report.fact.no_date") if days is None else t("report.fact.days", n=days),
        ),
    ]
    counts = ["points", "inspected"]
    cols = [
        *area_cols(t, scope),
        Column(t("report.col.points"), "int", True),
        Column(t("report.col.inspected"), "int", True),
        Column(t("report.col.coverage"), "percent"),
        *(Column(t(f"report.rating.{r}"), "int", True) for r in ready.RATINGS),
        Column(t("report.col.not_inspected"), "int", True),
        Column(t("report.col.evidence_gaps"), "int", True),
        Column(t("report.col.open_follow_ups"), "int", True),
        Column(t("report.col.overdue_follow_ups"), "int", True),
        Column(t("report.col.ready"), "int", True),
        Column(t("report.col.readiness"), "percent"),
    ]
    by_code = {a.code: a for a in result.townships}

    def area_row(a: ready.AreaReadiness) -> list[Any]:
        return [
            *[getattr(a, c) for c in counts],
            a.coverage,
            *(a.ratings[r] for r in ready.RATINGS),
            a.not_inspected,
            a.evidence_gaps,
            a.open_follow_ups,
            a.overdue_follow_ups,
            a.ready,
            a.readiness,
        ]

    summary = Table(t("report.sheet.summary"), report.title, cols)
    groups = list(townships(rows))
    for county, township, _ in groups:
        summary.rows.append(
            [*area_cells(scope, county, township), *area_row(by_code[township.code])]
        )
    lead = [None] * (len(cols) - len(area_row(tot)))
    summary.total_row = [*lead, *area_row(tot)]
    summary.notes.append(t("report.note.readiness"))
    report.tables.append(summary)

    point_rows = {p.point.code: p for p in result.points}
    pcols = [
        Column(t("report.col.point")),
        Column(t("report.col.kind")),
        Column(t("report.col.inspected_at")),
        Column(t("report.col.rating")),
        Column(t("report.col.failed_items"), wide=True),
        Column(t("report.col.evidence"), wide=True),
        Column(t("report.col.open_follow_ups"), "int", True),
        Column(t("report.col.overdue_follow_ups"), "int", True),
        Column(t("report.col.ready_yes")),
    ]
    for n, (county, township, part) in enumerate(groups):
        table = Table(
            sheet_name(scope, county, township),
            t(f"report.title.{report.kind}", area=township.name),
            pcols,
        )
        for r in part:
            p = point_rows[r.point.code]
            failed = "；".join(_item_label(session, req.lang, r, f["item"]) for f in p.point.failed)
            evidence = []
            if p.photos_short:
                evidence.append(t("report.evidence.short", n=len(p.photos_short)))
            if p.awaiting_upload:
                evidence.append(t("report.evidence.uploading"))
            table.rows.append(
                [
                    r.point.name,
                    t(f"report.kind.{r.point.kind}"),
                    _date(r.summary.submitted_at) if r.summary else "",
                    rating_word(t, p.point.rating),
                    failed,
                    "；".join(evidence),
                    p.open_follow_ups,
                    p.overdue_follow_ups,
                    t("report.yes") if p.ready else t("report.no"),
                ]
            )
        report.tables.append(table)
        progress(n + 1, len(groups))


def _date(value: Any) -> str:
    from server.pages.format import local_time

    return local_time(value)[:10]


# -- follow-ups (整改清单) -------------------------------------------------------------------


def followups(session: Session, scope: ReportScope, report: Report, req, progress) -> None:
    """The township's 整改清单 from the follow-up lists' own query (services/followups.py):
    the same rows, states and order (overdue first) as /followups shows."""
    from server.services import followups as fu

    t = partial(text, req.lang)
    rows = report_data.points(session, scope)
    listed = fu.listed(
        session,
        sorted(scope.township_ids),
        cycle_ids=scope.cycle_ids,
        on=req.today,
        limit=10**9,
    )
    by_township: dict[str, list[fu.Row]] = {}
    for f in listed:
        by_township.setdefault(f.township_code, []).append(f)
    groups = list(townships(rows))
    states = ("overdue", "open", "fixed", "closed")
    cols = [
        *area_cols(t, scope),
        Column(t("report.col.follow_ups"), "int", True),
        *(Column(t(f"report.fu.{s}"), "int", True) for s in states),
    ]
    summary = Table(t("report.sheet.summary"), report.title, cols)
    fcols = [
        Column(t("report.col.point")),
        Column(t("report.col.problem"), wide=True),
        Column(t("report.col.found_at")),
        Column(t("report.col.requirement"), wide=True),
        Column(t("report.col.responsible")),
        Column(t("report.col.due")),
        Column(t("report.col.fu_status")),
        Column(t("report.col.closed_at")),
    ]
    help_of = {r.point.code: r for r in rows}
    totals = dict.fromkeys(states, 0)
    for n, (county, township, _) in enumerate(groups):
        table = Table(
            sheet_name(scope, county, township),
            t(f"report.title.{report.kind}", area=township.name),
            fcols,
        )
        count = dict.fromkeys(states, 0)
        for f in by_township.get(township.code, []):
            count[f.state] += 1
            who = " ".join(x for x in (f.responsible, f.responsible_phone) if x)
            table.rows.append(
                [
                    f.point_name,
                    _problem(t, label_text(req.lang, f.item_label), f.reason_code),
                    _date(f.opened_at),
                    _requirement(session, req.lang, t, help_of.get(f.point_code), f.item_key),
                    who,
                    f.due_date.isoformat(),
                    t(f"report.fu.{f.state}"),
                    _date(f.closed_at) if f.closed_at else "",
                ]
            )
        summary.rows.append(
            [*area_cells(scope, county, township), sum(count.values()), *count.values()]
        )
        for k in totals:
            totals[k] += count[k]
        report.tables.append(table)
        progress(n + 1, len(groups))
    report.tables.insert(0, summary)
    report.facts = [
        (t("report.col.follow_ups"), str(sum(totals.values()))),
        *((t(f"report.fu.{s}"), str(totals[s])) for s in states),
    ]


def _problem(t, label: str, reason: str) -> str:
    key = f"report.reason.{reason}"
    return f"{label}（{t(key)}）" if reason and has(key) else label


def _requirement(session, lang, t, r: PointRow | None, item_key: str) -> str:
    """The item's help text (what the standard asks) from the checklist the point was last
    inspected with; a generic line otherwise."""
    if r is not None and r.summary is not None:
        try:
            item = template_of(session, r.summary.template_version_id).item(item_key)
            if item.help is not None:
                return label_text(lang, item.help)
        except (KeyError, LookupError):
            pass
    return t("report.requirement")


# -- scores (考核评分表) ---------------------------------------------------------------------


def scores(session: Session, scope: ReportScope, report: Report, req, progress) -> None:
    t = partial(text, req.lang)
    rows = report_data.points(session, scope)
    groups = list(townships(rows))
    # one column per scored item, across the templates used, in template order
    columns: dict[str, tuple[str, float]] = {}
    scored: dict[str, Any] = {}
    for r in rows:
        if r.summary is None:
            continue
        tpl = template_of(session, r.summary.template_version_id)
        if not has_scores(tpl):
            continue
        for item in tpl.items:
            if item.score is not None and item.key not in columns:
                columns[item.key] = (label_text(req.lang, item.label), item.score.points)
        scored[r.point.code] = score_point(tpl, r.summary.items)
    scols = [
        *area_cols(t, scope),
        Column(t("report.col.points"), "int", True),
        Column(t("report.col.scored"), "int", True),
        Column(t("report.col.earned"), "num", True),
        Column(t("report.col.possible"), "num", True),
        Column(t("report.col.average"), "num"),
        Column(t("report.col.share"), "percent"),
    ]
    summary = Table(t("report.sheet.summary"), report.title, scols)
    pcols = [
        Column(t("report.col.point")),
        Column(t("report.col.rating")),
        *(
            Column(t("report.col.item_points", item=lbl, points=_n(pts)), "num")
            for lbl, pts in columns.values()
        ),
        Column(t("report.col.earned"), "num", True),
        Column(t("report.col.possible"), "num", True),
        Column(t("report.col.share"), "percent"),
    ]
    all_e = all_p = 0.0
    all_n = all_points = 0
    for n, (county, township, part) in enumerate(groups):
        table = Table(
            sheet_name(scope, county, township),
            t(f"report.title.{report.kind}", area=township.name),
            pcols,
        )
        earned = possible = 0.0
        count = 0
        for r in part:
            s = scored.get(r.point.code)
            rating = rating_word(t, r.summary.rating if r.summary else None)
            if s is None:
                table.rows.append(
                    [r.point.name, rating, *([None] * len(columns)), None, None, None]
                )
                continue
            table.rows.append(
                [
                    r.point.name,
                    rating,
                    *(s.items.get(k) for k in columns),
                    s.earned,
                    s.possible,
                    s.share,
                ]
            )
            earned += s.earned
            possible += s.possible
            count += 1
        summary.rows.append(
            [
                *area_cells(scope, county, township),
                len(part),
                count,
                earned,
                possible,
                round(earned / count, 2) if count else None,
                round(earned / possible, 4) if possible else None,
            ]
        )
        all_e, all_p, all_n, all_points = (
            all_e + earned,
            all_p + possible,
            all_n + count,
            all_points + len(part),
        )
        report.tables.append(table)
        progress(n + 1, len(groups))
    lead = [None] * (len(scols) - 6)
    summary.total_row = [
        *lead,
        all_points,
        all_n,
        round(all_e, 2),
        round(all_p, 2),
        round(all_e / all_n, 2) if all_n else None,
        round(all_e / all_p, 4) if all_p else None,
    ]
    if not columns:
        summary.notes.append(t("report.note.no_scores"))
    report.tables.insert(0, summary)
    report.facts = [
        (t("report.col.scored"), f"{all_n} / {all_points}"),
        (t("report.col.average"), _n(round(all_e / all_n, 2)) if all_n else "—"),
        (t("report.col.share"), f"{all_e / all_p * 100:.1f}%" if all_p else "—"),
    ]


def _n(v: float) -> str:
    from server.pages.format import number

    return number(v)


# -- book needs ---------------------------------------------------------------------------


def book_needs(session: Session, scope: ReportScope, report: Report, req, progress) -> None:
    t = partial(text, req.lang)
    rows = report_data.points(session, scope)
    latest = report_data.latest_answers(session, rows)
    groups = list(townships(rows))
    keys = books.BOOK_ITEMS
    scols = [
        *area_cols(t, scope),
        Column(t("report.col.points"), "int", True),
        Column(t("report.col.counted"), "int", True),
        Column(t("report.col.needing"), "int", True),
        *(Column(t(f"report.books.short.{k}"), "int", True) for k in keys),
    ]
    summary = Table(t("report.sheet.summary"), report.title, scols)
    pcols = [
        Column(t("report.col.point")),
        Column(t("report.col.kind")),
        Column(t("report.col.inspected_at")),
    ]
    for k in keys:
        pcols += [
            Column(t(f"report.books.have.{k}"), "int"),
            Column(t(f"report.books.need.{k}"), "int"),
            Column(t(f"report.books.short.{k}"), "int", True),
        ]
    needing_all = 0
    for n, (county, township, part) in enumerate(groups):
        table = Table(
            sheet_name(scope, county, township),
            t(f"report.title.{report.kind}", area=township.name),
            pcols,
        )
        counted = needing = 0
        shorts = dict.fromkeys(keys, 0)
        for r in part:
            insp = latest.get(r.summary.inspection_id) if r.summary else None
            cells: list[Any] = [r.point.name, t(f"report.kind.{r.point.kind}")]
            if insp is None:
                table.rows.append([*cells, "", *([None] * 3 * len(keys))])
                continue
            tpl = template_of(session, insp.template_version_id)
            need = books.needs(tpl, insp.answers or {})
            cells.append(_date(insp.submitted_at))
            any_short = False
            known = False
            for k in keys:
                nd = need.get(k)
                if nd is None:
                    cells += [None, None, None]
                    continue
                cells += [_int(nd.have), _int(nd.threshold), _int(nd.shortfall)]
                if nd.shortfall is not None:
                    known = True
                    shorts[k] += int(nd.shortfall)
                    any_short = any_short or nd.shortfall > 0
            counted += known
            needing += any_short
            table.rows.append(cells)
        summary.rows.append(
            [
                *area_cells(scope, county, township),
                len(part),
                counted,
                needing,
                *(shorts[k] for k in keys),
            ]
        )
        needing_all += needing
        report.tables.append(table)
        progress(n + 1, len(groups))
    report.tables.insert(0, summary)
    branches = sum(1 for r in rows if r.point.kind == "branch" and _short_any(session, latest, r))
    report.facts = [
        (t("report.col.needing"), str(needing_all)),
        (t("report.books.branches"), str(branches)),
        (t("report.books.villages"), str(needing_all - branches)),
    ]
    report.tables[0].notes.append(t("report.note.books"))


def _short_any(session, latest, r: PointRow) -> bool:
    insp = latest.get(r.summary.inspection_id) if r.summary else None
    if insp is None:
        return False
    need = books.needs(template_of(session, insp.template_version_id), insp.answers or {})
    return any(nd.shortfall for nd in need.values())


def _int(v: float | None) -> int | None:
    return None if v is None else round(v)


__all__ = ["book_needs", "followups", "readiness", "scores"]
