"""A report as PDF: the print HTML through WeasyPrint (Pango lays out the Chinese text).

The CSS asks for WenQuanYi Micro Hei (or Noto Sans CJK); WeasyPrint embeds the subset of
the font it uses, so the PDF reads the same on a machine without Chinese fonts. Without any
CJK font installed the glyphs would come out as boxes: `scripts/test` installs
fonts-wqy-microhei, and docs/architecture.md names it for servers.
"""

from __future__ import annotations

from server.reports.html import to_html
from server.reports.model import Report


def to_pdf(report: Report) -> bytes:
    from weasyprint import HTML

    return HTML(string=to_html(report)).write_pdf()
