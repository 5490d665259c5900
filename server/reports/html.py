"""A report as one printable HTML page (Jinja, `templates/reports/report.html`): a cover,
then each table with its signature lines, A4 landscape print CSS with page numbers. The
same page is what `pdf.py` hands to WeasyPrint, so print and PDF never differ.

Photos go in as data URIs, downscaled first: a 12 MP phone photo printed 8 cm wide needs
no more than ~1000 px, and a township's ledger of full-size photos would weigh hundreds of
megabytes. Everything here blocks: callers run it in the thread pool.
"""

from __future__ import annotations

import base64
import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.reports.model import Photo, Report

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
PHOTO_MAX_PX = 1000


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "percent" and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if kind == "num" and isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def page_counter(label: str) -> str:
    """'第 {page} 页，共 {pages} 页' as CSS content: strings around counter(page)/(pages)."""
    parts = []
    for n, piece in enumerate(re.split(r"\{(pages?)\}", label)):
        if n % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(json.dumps(piece, ensure_ascii=False))
    return " ".join(parts) or "counter(page)"


def photo_uri(photo: Photo) -> str:
    """A data URI of the photo, at most PHOTO_MAX_PX on its long side (JPEG)."""
    from PIL import Image

    try:
        with Image.open(photo.path) as img:
            img.draft("RGB", (PHOTO_MAX_PX, PHOTO_MAX_PX))  # JPEG: decode small, cheaply
            small = img.convert("RGB")
            small.thumbnail((PHOTO_MAX_PX, PHOTO_MAX_PX))
            out = io.BytesIO()
            small.save(out, "JPEG", quality=80)
    except (OSError, ValueError):
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def to_html(report: Report) -> str:
    template = _environment().get_template("reports/report.html")
    return template.render(
        report=report,
        cell=cell,
        photo_uri=photo_uri,
        page_counter=page_counter(report.labels.page),
    )
