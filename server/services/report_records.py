"""The record reports: raw answers (one row per submitted inspection, one column per
item, for people who analyse in Excel) and the evidence ledger (台账: each point's latest
inspection with its photos per item, what assessors ask to see)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from server.db import CHUNK
from server.db import chunked as chunks
from server.domain.rules import evaluate
from server.i18n import text
from server.models import Blob, Inspection
from server.pages.format import label_text, local_time, show
from server.reports.model import Column, LedgerEntry, LedgerItem, Photo, Table
from server.services import report_data
from server.services.blobstore import blob_path
from server.services.report_data import template_of
from server.services.report_kinds import area_cells, area_cols, rating_word, sheet_name, townships


def answers(session: Session, scope, report, req, progress) -> None:
    """Every submitted inspection of the cycle(s), latest first within a point.

    Their answers are read a chunk at a time in the table's order (`_answer_rows`). A CSV
    is that first table alone, so it gets the rows as a stream the writer pulls while it
    writes: a province's 200,000 rows of cells held at once took 2.7 GB."""
    t = partial(text, req.lang)
    rows = report_data.points(session, scope)
    by_point = {r.point.id: r for r in rows}
    insps: list[Any] = []
    # What orders and labels the rows, for every inspection; the answers and photos (most
    # of the bytes) only per chunk, later.
    i = Inspection.__table__.c  # type: ignore[attr-defined]
    light = [i[c] for c in ("id", "point_id", "inspector_id", "submitted_at", "rating")]
    light.append(i.template_version_id)
    for part in chunks(by_point):
        q = sa_select(*light).where(
            i.point_id.in_(part), i.cycle_id.in_(scope.cycle_ids), i.status == "submitted"
        )
        insps.extend(session.execute(q))
    names = report_data.user_names(session, {i.inspector_id for i in insps})
    items: dict[str, str] = {}  # key -> label, in template order of first appearance
    for version in sorted({i.template_version_id for i in insps}):
        for item in template_of(session, version).items:
            items.setdefault(item.key, label_text(req.lang, item.label))
    cols = [
        *area_cols(t, scope),
        Column(t("report.col.point")),
        Column(t("report.col.point_code")),
        Column(t("report.col.inspector")),
        Column(t("report.col.submitted_at")),
        Column(t("report.col.rating")),
        *(Column(lbl) for lbl in items.values()),
        Column(t("report.col.photos"), "int", True),
        Column(t("report.col.inspection_id")),
    ]
    insps.sort(key=lambda i: (_key(by_point[i.point_id]), str(i.submitted_at), i.id))
    report.facts = [(t("report.col.inspections"), str(len(insps)))]
    everything = Table(t("report.sheet.all"), report.title, cols)
    report.tables.append(everything)

    def cells_of(r, insp, answers: dict | None, photos: list | None) -> list[Any]:
        cells = [
            *area_cells(scope, r.county, r.township),
            r.point.name,
            r.point.code,
            names.get(insp.inspector_id, ""),
            local_time(insp.submitted_at),
            rating_word(t, insp.rating),
        ]
        tpl = template_of(session, insp.template_version_id)
        for key in items:
            cells.append(_value(req.lang, tpl, key, (answers or {}).get(key)))
        cells += [len(photos or []), insp.id]
        return cells

    if req.fmt == "csv":

        def stream() -> Iterator[list[Any]]:
            for done, r, insp, answers, photos in _answer_rows(session, insps, by_point):
                yield cells_of(r, insp, answers, photos)
                if done:
                    progress(done, len(insps))

        everything.stream = stream
        return
    per_township: dict[int, list[list[Any]]] = {}
    for _, r, insp, answers, photos in _answer_rows(session, insps, by_point):
        cells = cells_of(r, insp, answers, photos)
        everything.rows.append(cells)
        per_township.setdefault(r.township.id or 0, []).append(cells)
    groups = list(townships(rows))
    for n, (county, township, _) in enumerate(groups):
        table = Table(
            sheet_name(scope, county, township),
            t(f"report.title.{report.kind}", area=township.name),
            cols,
        )
        table.rows = per_township.get(township.id or 0, [])
        report.tables.append(table)
        progress(n + 1, len(groups))


def _answer_rows(session: Session, insps: list[Any], by_point: dict) -> Iterator[tuple]:
    """(done, point row, inspection, answers, photos) in the order of `insps`, reading the
    answers and photos of CHUNK inspections at a time; `done` is set at each chunk's end."""
    c = Inspection.__table__.c  # type: ignore[attr-defined]
    for start in range(0, len(insps), CHUNK):
        part = insps[start : start + CHUNK]
        q = sa_select(c.id, c.answers, c.photos).where(c.id.in_([x.id for x in part]))
        heavy = {row.id: (row.answers, row.photos) for row in session.execute(q)}
        for n, insp in enumerate(part, start=start + 1):
            answers, photos = heavy[insp.id]
            last = n == start + len(part)
            yield (n if last else 0), by_point[insp.point_id], insp, answers, photos


def _key(r) -> tuple[str, str, str]:
    return (r.county.code, r.township.code, r.point.code)


def _value(lang: str, tpl, key: str, value: Any) -> Any:
    """Numbers stay numbers (Excel sums them); the rest as a page shows it."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        tpl.item(key)
    except KeyError:
        return str(value)
    return "; ".join(show(lang, tpl, f"answers.{key}", value).lines)


def ledger(session: Session, scope, report, req, progress) -> None:
    """Per point its latest inspection, item by item, with the photos held for each."""
    t = partial(text, req.lang)
    rows = report_data.points(session, scope)
    latest = report_data.latest_inspections(session, rows)
    names = report_data.user_names(session, {i.inspector_id for i in latest.values()})
    shas = {p["sha256"] for i in latest.values() for p in (i.photos or []) if "sha256" in p}
    held: dict[str, str] = {}
    for part in chunks(shas):
        q = select(Blob.sha256, Blob.mime).where(Blob.sha256.in_(part), Blob.complete.is_(True))  # type: ignore[attr-defined]
        held.update({sha: mime for sha, mime in session.exec(q)})
    cols = [
        *area_cols(t, scope),
        Column(t("report.col.point")),
        Column(t("report.col.inspected_at")),
        Column(t("report.col.rating")),
        Column(t("report.col.photos"), "int", True),
        Column(t("report.col.photos_missing"), "int", True),
    ]
    summary = Table(t("report.sheet.summary"), report.title, cols)
    groups = list(townships(rows))
    photos_total = 0
    for n, (county, township, part) in enumerate(groups):
        for r in part:
            insp = latest.get(r.summary.inspection_id) if r.summary else None
            if insp is None:
                summary.rows.append(
                    [
                        *area_cells(scope, county, township),
                        r.point.name,
                        "",
                        rating_word(t, None),
                        0,
                        0,
                    ]
                )
                continue
            entry, have, missing = _entry(session, req, t, r, insp, names, held)
            photos_total += have
            summary.rows.append(
                [
                    *area_cells(scope, county, township),
                    r.point.name,
                    local_time(insp.submitted_at)[:10],
                    rating_word(t, insp.rating),
                    have,
                    missing,
                ]
            )
            report.ledger.append(entry)
        progress(n + 1, len(groups))
    report.tables.append(summary)
    report.facts = [
        (t("report.fact.points"), str(len(rows))),
        (t("report.col.inspected"), str(len(report.ledger))),
        (t("report.col.photos"), str(photos_total)),
    ]


def _entry(session, req, t, r, insp: Inspection, names, held) -> tuple[LedgerEntry, int, int]:
    tpl = template_of(session, insp.template_version_id)
    result = insp.result or evaluate(tpl, insp.answers or {}, insp.photos or [])
    entry = LedgerEntry(
        township=r.township.name,
        point=r.point.name,
        facts=[
            (t("report.col.inspector"), names.get(insp.inspector_id, "")),
            (t("report.col.submitted_at"), local_time(insp.submitted_at)),
            (t("report.col.rating"), rating_word(t, insp.rating)),
            (t("report.col.manager"), r.point.manager_name or ""),
        ],
    )
    have = missing = 0
    by_item: dict[str, list[dict]] = {}
    for p in insp.photos or []:
        by_item.setdefault(str(p.get("item", "")), []).append(p)
    for item in tpl.items:
        status = result["items"].get(item.key, {}).get("status", "na")
        photos = []
        for p in by_item.get(item.key, []):
            sha = p.get("sha256", "")
            path = blob_path(req.data_dir, sha)
            if sha in held and path.exists():
                photos.append(Photo(path, held[sha], local_time(p.get("taken_at"))))
                have += 1
            else:
                missing += 1
        value = (insp.answers or {}).get(item.key)
        answer = (
            ""
            if item.type == "photo"
            else "; ".join(show(req.lang, tpl, f"answers.{item.key}", value).lines)
        )
        entry.items.append(
            LedgerItem(
                label=label_text(req.lang, item.label),
                answer=answer,
                status=t(f"report.item.{status}"),
                passed=None if status == "na" else status == "pass",
                photos=photos,
            )
        )
    return entry, have, missing
