"""A report's first table as CSV: UTF-8 with a byte-order mark, because Excel opens a CSV
without one in the machine's ANSI code page (GBK on a Chinese Windows) and garbles it."""

from __future__ import annotations

import csv
import io

from server.reports.model import Report


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    table = report.tables[0]
    head = [report.labels.seq] if table.numbered else []
    writer.writerow(head + [c.header for c in table.columns])
    for seq, row in enumerate(table.rows, start=1):
        cells = ["" if v is None else v for v in row]
        writer.writerow(([seq] if table.numbered else []) + cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
