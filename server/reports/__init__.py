"""Reports: one content model (`model.py`), several renderers.

A report kind (readiness, follow-ups, scores, ledger, book needs, answers) is built once by
a service (`services/report_*.py`) into a `Report`; `xlsx.py`, `html.py` (+ `pdf.py` on top
of it) and `csv_out.py` only lay it out. So the CLI, the download buttons and the tests see
the same figures whatever the format.
"""

from __future__ import annotations

from typing import BinaryIO

from server.reports.model import FORMATS, KINDS, Column, LedgerEntry, Photo, Report, Table

__all__ = [
    "FORMATS",
    "KINDS",
    "Column",
    "LedgerEntry",
    "Photo",
    "Report",
    "Table",
    "render",
    "write",
]


def write(report: Report, fmt: str, out: BinaryIO) -> int:
    """The report written to `out` in one format; the bytes written. A CSV goes out as its
    rows are made, so call this inside the session a streamed table reads from."""
    if fmt != "csv":
        return out.write(render(report, fmt))
    from server.reports.csv_out import csv_chunks

    return sum(out.write(piece) for piece in csv_chunks(report))


def render(report: Report, fmt: str) -> bytes:
    """The report's bytes in one format (xlsx, html, pdf or csv). Blocking: thread pool.
    A CSV's rows may be streamed from the database: render it inside the session."""
    if fmt != "csv" and any(t.stream is not None for t in report.tables):
        raise ValueError(f"a streamed table is written as CSV only, not {fmt}")
    if fmt == "xlsx":
        from server.reports.xlsx import to_xlsx

        return to_xlsx(report)
    if fmt == "html":
        from server.reports.html import to_html

        return to_html(report).encode("utf-8")
    if fmt == "pdf":
        from server.reports.pdf import to_pdf

        return to_pdf(report)
    if fmt == "csv":
        from server.reports.csv_out import to_csv

        return to_csv(report)
    raise ValueError(f"unknown format {fmt!r}")
