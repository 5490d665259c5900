"""How the review pages show a recorded value to a person: 是/否, 周二 09:00–12:00, 1600 册.

Labels come from the inspection's own checklist template version (the one source of items),
so a conflict keeps the wording the inspector saw even after the template changes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from server.domain.rules import DAYS, weekly_totals
from server.domain.templates import Item, Template, TemplateError, parse_template

# China keeps one time zone and no daylight saving: the office reads Beijing time.
BEIJING = timezone(timedelta(hours=8), "UTC+8")
DAY_NAMES = dict(zip(DAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), strict=True))
REGISTER_LABELS = {
    "notes": ("备注", "Notes"),
    "gps": ("定位", "Location (GPS)"),
    "started_at": ("开始时间", "Started at"),
}


@dataclass(frozen=True)
class Shown:
    """A value ready for a page: Chinese lines, an optional English gloss, empty or not."""

    lines: tuple[str, ...]
    gloss: str = ""
    empty: bool = False
    pre: bool = False  # free text: keep its line breaks
    nowrap: bool = False  # short lines such as 周二 09:00–12:00、14:30–17:30


NO_ANSWER = Shown(("未填写",), "no answer", empty=True)


def local_time(value: datetime | str | None) -> str:
    """`2026-11-26 16:00` in Beijing time; naive datetimes were written as UTC."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def template_of(content: dict | None) -> Template | None:
    if not content:
        return None
    try:
        return parse_template(content)
    except TemplateError:
        return None


def item_of(template: Template | None, path: str) -> Item | None:
    if template is None or not path.startswith("answers."):
        return None
    try:
        return template.item(path[len("answers.") :])
    except KeyError:
        return None


def label(template: Template | None, path: str) -> tuple[str, str]:
    """(zh, en) for a field path such as `answers.book_volumes` or `notes`."""
    if path in REGISTER_LABELS:
        return REGISTER_LABELS[path]
    item = item_of(template, path)
    if item is not None:
        return item.label.zh, item.label.en
    key = path.removeprefix("answers.")
    return key, f"item {key} (not in this checklist)"


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) else f"{value:.2f}".rstrip("0").rstrip(".")


def _raw(value: Any) -> Shown:
    return Shown((json.dumps(value, ensure_ascii=False),), "as recorded")


def _hours(value: Any) -> Shown:
    totals = weekly_totals(value)
    if totals["invalid"]:
        return _raw(value)
    lines = [
        f"{DAY_NAMES[d]} " + "、".join(f"{a}–{b}" for a, b in value.get(d, []))
        for d in DAYS
        if value.get(d)
    ]
    if not lines:
        return Shown(("不开放",), "closed all week")
    total = _number(totals["hours"])
    lines.append(f"每周 {total} 小时，{totals['days']} 天")
    return Shown(tuple(lines), f"{total} h over {totals['days']} days a week", nowrap=True)


def _gps(value: Any) -> Shown:
    lat, lon = float(value["lat"]), float(value["lon"])
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return _raw(value)
    text = f"{lat:.5f}, {lon:.5f}"
    if value.get("accuracy") is not None:
        text += f"（±{_number(round(float(value['accuracy'])))} 米）"
    lines = [text]
    if value.get("at"):
        lines.append(local_time(value["at"]))
    return Shown(tuple(lines), "lat, lon (accuracy)")


def _answer(item: Item, value: Any) -> Shown:
    if item.type == "yesno" and isinstance(value, bool):
        return Shown(("是",), "Yes") if value else Shown(("否",), "No")
    if item.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        unit = f" {item.unit.zh}" if item.unit else ""
        return Shown((_number(value) + unit,), item.unit.en if item.unit else "")
    if item.type == "choice" and isinstance(value, str):
        opt = next((o for o in item.options if o.key == value), None)
        return Shown((opt.label.zh,), opt.label.en) if opt else _raw(value)
    if item.type == "multicheck" and isinstance(value, list):
        opts = {o.key: o.label for o in item.options}
        if not value:
            return Shown(("（一项未选）",), "none ticked")
        zh = "、".join(opts[k].zh if k in opts else str(k) for k in value)
        en = ", ".join(opts[k].en if k in opts else str(k) for k in value)
        return Shown((zh,), en)
    if item.type == "weekly_hours" and isinstance(value, dict):
        return _hours(value)
    if item.type == "text" and isinstance(value, str):
        return Shown((value,), pre=True) if value.strip() else Shown(("（空白）",), "blank")
    return _raw(value)


def show(template: Template | None, path: str, value: Any) -> Shown:
    """A field's value as a person reads it; anything unexpected is shown as recorded."""
    if value is None:
        return NO_ANSWER
    try:
        if path == "notes":
            text = str(value)
            return Shown((text,), pre=True) if text.strip() else Shown(("（空白）",), "blank")
        if path == "started_at":
            return Shown((local_time(value),), "Beijing time")
        if path == "gps":
            return _gps(value)
        item = item_of(template, path)
        return _answer(item, value) if item is not None else _raw(value)
    except (TypeError, ValueError, KeyError, AttributeError):
        return _raw(value)


def field_value(record: dict, path: str) -> Any:
    """The value of a field path in a record dict (None when absent)."""
    if path.startswith("answers."):
        return (record.get("answers") or {}).get(path[len("answers.") :])
    return record.get(path)


def photos_of(record: dict, path: str) -> list[dict]:
    """The photos a record attaches to the item of an `answers.<item>` field."""
    if not path.startswith("answers."):
        return []
    key = path[len("answers.") :]
    return [
        p
        for p in record.get("photos") or []
        if isinstance(p, dict) and p.get("item") == key and isinstance(p.get("sha256"), str)
    ]


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
