"""A report as the workbook a county hands in (openpyxl): per sheet a merged title row, the
填报单位 / 填报日期 line, headers with 序号 first, frozen above the data, a 合计 row,
制表人 / 审核人 lines below, A4 landscape with the title rows repeated on every printed page.
Column widths fit the longest cell, counting a CJK character as two (Excel measures in
Latin digits, and a Chinese glyph is twice as wide)."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from server.reports.model import Report, Table

TITLE_ROW, UNIT_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = 4
MAX_WIDTH = 60
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
_FORMATS = {"int": "0", "num": "0.##", "percent": "0.0%"}
# Excel refuses these in sheet names.
_BAD_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def display_width(value: Any) -> int:
    """Width in Latin-digit units: wide (CJK) characters count twice."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def to_xlsx(report: Report) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for table in report.tables:
        _sheet(wb.create_sheet(_sheet_name(table.name, used)), report, table)
    wb.properties.title = report.title
    wb.properties.creator = report.unit
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    base = name.translate(_BAD_SHEET_CHARS)[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f"({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate


def _sheet(ws: Worksheet, report: Report, table: Table) -> None:
    labels = report.labels
    headers = ([labels.seq] if table.numbered else []) + [c.header for c in table.columns]
    kinds = (["int"] if table.numbered else []) + [c.kind for c in table.columns]
    ncols = len(headers)
    last = get_column_letter(ncols)

    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    title = ws.cell(TITLE_ROW, 1, table.title)
    title.font = Font(size=16, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[TITLE_ROW].height = 30

    half = max(1, ncols // 2)
    ws.cell(UNIT_ROW, 1, f"{labels.unit}：{report.unit}")
    ws.cell(UNIT_ROW, half + 1, f"{labels.date}：{report.date}")
    if half > 1:
        ws.merge_cells(start_row=UNIT_ROW, start_column=1, end_row=UNIT_ROW, end_column=half)
    if ncols > half + 1:
        ws.merge_cells(
            start_row=UNIT_ROW, start_column=half + 1, end_row=UNIT_ROW, end_column=ncols
        )
    ws.cell(UNIT_ROW, half + 1).alignment = Alignment(horizontal="right")

    for n, text in enumerate(headers, start=1):
        cell = ws.cell(HEADER_ROW, n, text)
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    row_no = FIRST_DATA_ROW
    for seq, row in enumerate(table.rows, start=1):
        values = ([seq] if table.numbered else []) + list(row)
        _write_row(ws, row_no, values, kinds)
        row_no += 1
    totals = table.totals()
    if totals is not None:
        values = ([labels.total] if table.numbered else []) + totals
        if not table.numbered:
            values[0] = labels.total
        _write_row(ws, row_no, values, kinds, bold=True)
        row_no += 1
    for note in table.notes:
        ws.cell(row_no, 1, note)
        row_no += 1
    row_no += 1
    ws.cell(row_no, 1, f"{labels.maker}：")
    ws.cell(row_no, half + 1, f"{labels.checker}：")

    widths = [display_width(h) for h in headers]
    for r in ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=FIRST_DATA_ROW + len(table.rows)):
        for n, cell in enumerate(r[:ncols]):
            widths[n] = max(widths[n], display_width(_shown(cell.value, kinds[n])))
    for n, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(n)].width = min(MAX_WIDTH, max(6, w + 2))

    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.print_title_rows = f"{TITLE_ROW}:{HEADER_ROW}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "&P / &N"


def _shown(value: Any, kind: str) -> str:
    if kind == "percent" and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    return "" if value is None else str(value)


def _write_row(ws: Worksheet, row: int, values: list[Any], kinds: list[str], bold=False) -> None:
    for n, value in enumerate(values, start=1):
        cell = ws.cell(row, n, value)
        cell.border = _BOX
        kind = kinds[n - 1]
        if kind in _FORMATS and isinstance(value, int | float):
            cell.number_format = _FORMATS[kind]
        cell.alignment = Alignment(
            vertical="top", wrap_text=kind == "text", horizontal="right" if kind != "text" else None
        )
        if bold:
            cell.font = Font(bold=True)
