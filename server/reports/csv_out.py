"""A report's first table as CSV: UTF-8 with a byte-order mark, because Excel opens a CSV
without one in the machine's ANSI code page (GBK on a Chinese Windows) and garbles it.

Written in pieces as the rows come (`csv_chunks`), so a streamed table (a province's raw
answers) is never whole in memory, as cells or as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from server.reports.model import Report

BOM = "\ufeff".encode()
PIECE = 1 << 16  # characters gathered before they are encoded and handed on


def csv_chunks(report: Report) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    table = report.tables[0]
    head = [report.labels.seq] if table.numbered else []
    writer.writerow(head + [c.header for c in table.columns])
    yield BOM
    rows = table.stream() if table.stream is not None else table.rows
    for seq, row in enumerate(rows, start=1):
        cells = ["" if v is None else v for v in row]
        writer.writerow(([seq] if table.numbered else []) + cells)
        if out.tell() >= PIECE:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def to_csv(report: Report) -> bytes:
    return b"".join(csv_chunks(report))
