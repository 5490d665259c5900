"""Reading a table the way Excel on Chinese Windows writes it, without guessing.

The format is decided by the bytes, never by the file name: registers arrive as .xlsx saved
as .csv, "Unicode 文本" (UTF-16, tab-separated) saved as .xls, GB18030 CSV named .txt. A file
that is no table at all (an old .xls, a web page, a PDF) gets a clear message, never a
traceback. The header is found by its known column names, so title rows above it are
skipped and named; every column we do not know is reported, never dropped in silence.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from server.services.problems import ImportFileError, Problem

HEADER_SCAN_ROWS = 10
_BRACKETED = re.compile(r"[(\[{<【〔].*?[)\]}>】〕]")
_NOISE = re.compile(r"[\s*:：。.]")


@dataclass
class Sheet:
    rows: list[list[str]]  # cells as text, NFKC-normalised and stripped
    kind: str  # xlsx | utf-16 | utf-8 | gb18030
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Table:
    """Data rows keyed by column name, each with its row number in the file (1-based)."""

    rows: list[tuple[int, dict[str, str]]]
    header_row: int
    columns: dict[int, str]
    problems: list[Problem] = field(default_factory=list)


def read_path(path: Path) -> Sheet:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError("import.file_csv", detail=exc.strerror or str(exc)) from None
    return read_sheet(data, path.name)


def read_sheet(data: bytes, filename: str = "") -> Sheet:
    """Decide the format from the content, read it, and say so when the name disagrees."""
    if not data.strip(b"\x00 \t\r\n"):
        raise ImportFileError("import.file_empty")
    head = data[:1024].lstrip()
    ext = Path(filename).suffix.lower()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError("import.file_legacy_xls")
    if head[:5] == b"%PDF-":
        raise ImportFileError("import.file_pdf")
    if re.match(rb"(?i)(\xef\xbb\xbf)?\s*<(!doctype html|html|table|\?xml)", head):
        raise ImportFileError("import.file_html")
    sheet = _read_xlsx(data) if data[:4] == b"PK\x03\x04" else _read_text(data)
    real_ext = {".xlsx", ".xlsm"} if sheet.kind == "xlsx" else {".csv", ".txt", ".tsv"}
    if ext and ext not in real_ext:
        real = "Excel .xlsx" if sheet.kind == "xlsx" else f"{sheet.kind} text"
        sheet.problems.append(
            Problem(0, "", "import.file_extension", {"ext": ext, "real": real}, "warning")
        )
    return sheet


def clean(value: object) -> str:
    """A cell as text: NFKC (full-width digits, brackets, spaces), stripped. Integral
    numbers lose Excel's `.0`; NUL bytes are kept so that validation can name them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    elif isinstance(value, datetime | date | time):
        value = value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def _read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile as exc:
        raise ImportFileError("import.file_bad_xlsx", detail=str(exc)) from None
    except (KeyError, ValueError, OSError) as exc:
        # a zip that is not a workbook (no [Content_Types].xml, no workbook part)
        if "workbook" in str(exc).lower() or "content_types" in str(exc).lower():
            raise ImportFileError("import.file_zip") from None
        raise ImportFileError("import.file_bad_xlsx", detail=str(exc)[:200]) from None
    try:
        sheets = []
        for ws in wb.worksheets:
            rows = [[clean(v) for v in row] for row in ws.iter_rows(values_only=True)]
            sheets.append((ws.title, [r for r in rows]))
    finally:
        wb.close()
    with_data = [(t, rows) for t, rows in sheets if any(any(r) for r in rows)]
    if not with_data:
        raise ImportFileError("import.file_empty")
    first_title, rows = with_data[0]
    sheet = Sheet(rows, "xlsx")
    if len(with_data) > 1:
        others = "、".join(t for t, _ in with_data[1:])
        sheet.problems.append(
            Problem(
                0, "", "import.other_sheets", {"sheets": others, "first": first_title}, "warning"
            )
        )
    return sheet


def _decode(data: bytes) -> tuple[str, str]:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16"), "utf-16"
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:].decode("utf-8", errors="strict"), "utf-8"
    sample = data[:4000]
    # UTF-16 without a byte order mark: every other byte of ASCII text is zero.
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-le"), "utf-16"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-be"), "utf-16"
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise ImportFileError("import.file_encoding")


def _read_text(data: bytes) -> Sheet:
    try:
        text, kind = _decode(data)
    except UnicodeDecodeError:
        raise ImportFileError("import.file_encoding") from None
    controls = sum(1 for ch in text[:4000] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(8, len(text[:4000]) // 20):
        raise ImportFileError("import.file_binary")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(("\t", ",", ";"), key=first.count)
    if first.count(delimiter) == 0:
        delimiter = "\t" if "\t" in text else ","
    try:
        raw = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError("import.file_csv", detail=str(exc)) from None
    return Sheet([[clean(c) for c in r] for r in raw], kind)


def header_key(title: str) -> str:
    """'纬度（°）' and '启用(是/否)' and ' * 名称：' all name their column by the words alone."""
    title = unicodedata.normalize("NFKC", title).lower()
    title = _BRACKETED.sub("", title)
    return _NOISE.sub("", title)


def table(
    sheet: Sheet,
    columns: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    ignored: tuple[str, ...] = (),
    one_of: tuple[tuple[str, ...], ...] = (),
) -> Table:
    """Find the header among the first rows by its known names; map the rows below it.
    Each group in `one_of` needs at least one of its columns (a code or a name, say)."""
    lookup = {header_key(name): key for key, names in columns.items() for name in names}
    skip = {header_key(name) for name in ignored}
    best, best_hits = -1, 0
    for idx, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        hits = len({lookup[k] for c in row if (k := header_key(c)) in lookup})
        if hits > best_hits:
            best, best_hits = idx, hits
    if best < 0 or best_hits < min(2, len(required)):
        raise ImportFileError(
            "import.no_header",
            rows=HEADER_SCAN_ROWS,
            columns="、".join(columns[c][1] for c in required),
        )
    problems = list(sheet.problems)
    for idx in range(best):
        text = " ".join(c for c in sheet.rows[idx] if c)
        if text:
            problems.append(
                Problem(idx + 1, "", "import.title_row", {"text": text[:80]}, "warning")
            )
    header = sheet.rows[best]
    mapping: dict[int, str] = {}
    first_of: dict[str, int] = {}
    for col, title in enumerate(header):
        key = lookup.get(header_key(title))
        if key is not None and key in first_of:
            problems.append(
                Problem(
                    best + 1,
                    title,
                    "import.duplicate_column",
                    {"title": title, "other": first_of[key] + 1},
                )
            )
        elif key is not None:
            mapping[col], first_of[key] = key, col
        elif title and header_key(title) not in skip:
            problems.append(
                Problem(best + 1, title, "import.unknown_column", {"title": title}, "warning")
            )
    missing = [f"{columns[c][1]} ({c})" for c in required if c not in first_of]
    missing += [
        " / ".join(f"{columns[c][1]} ({c})" for c in group)
        for group in one_of
        if not any(c in first_of for c in group)
    ]
    if missing:
        raise ImportFileError("import.missing_columns", columns=missing)
    rows: list[tuple[int, dict[str, str]]] = []
    unnamed: set[int] = set()
    for idx in range(best + 1, len(sheet.rows)):
        values = sheet.rows[idx]
        if not any(values):
            continue
        if [header_key(v) for v in values[: len(header)]] == [header_key(h) for h in header]:
            problems.append(Problem(idx + 1, "", "import.repeated_header", {}, "warning"))
            continue
        unnamed.update(i for i, v in enumerate(values) if v and (i >= len(header) or not header[i]))
        rows.append((idx + 1, {mapping[i]: v for i, v in enumerate(values) if i in mapping}))
    for col in sorted(unnamed):
        problems.append(
            Problem(best + 1, "", "import.unnamed_column", {"column": col + 1}, "warning")
        )
    return Table(rows, best + 1, mapping, problems)
