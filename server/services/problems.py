"""What an import found wrong, row by row: a catalog key (server/i18n) with its params.

A problem is an `error` (the row is not written) or a `warning` (it is written, or the file
is read anyway, and the person importing is told). Every message names its row and field;
row 0 is the file as a whole. The area import, the register import, the CLI and the preview
page all speak through this one type.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from server.i18n import text


@dataclass
class Problem:
    row: int
    field: str
    key: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    severity: str = "error"  # error | warning

    def message(self, lang: str) -> str:
        return text(lang, self.key, **self.params)

    def line(self, lang: str) -> str:
        """`第 3 行 township_code：乡镇代码“000”不存在` in the reader's language."""
        if not self.row:
            return self.message(lang)
        if not self.field:
            return text(lang, "import.row_note", row=self.row, message=self.message(lang))
        return text(
            lang, "import.row_problem", row=self.row, field=self.field, message=self.message(lang)
        )

    def __str__(self) -> str:
        return self.line("en")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (one Problem of row 0)."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.problem = Problem(0, "", key, params)
        self.key, self.params = key, params
        super().__init__(self.problem.message("en"))

    def message(self, lang: str) -> str:
        return self.problem.message(lang)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
