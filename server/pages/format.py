"""How a page shows a value to a person: 是/否, 周二 09:00–12:00, 1600 册, 2026-11-26 16:00.

One language at a time: every function takes the reader's `lang`. Item labels come from the
inspection's own checklist template version (the one source of items), so a conflict keeps
the wording the inspector saw even after the template changes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from server.clock import as_utc
from server.domain.hours import DAYS, weekly_totals
from server.domain.record_fields import item_of
from server.domain.templates import Item, Template, Text
from server.domain.user_agent import DeviceLabel
from server.i18n import has, pick, text

# China keeps one time zone and no daylight saving: the office reads Beijing time.
BEIJING = timezone(timedelta(hours=8), "UTC+8")
# Fields of a record that are not checklist items, by their catalog key.
REGISTERS = {"notes": "field.notes", "gps": "field.gps", "started_at": "field.started_at"}


@dataclass(frozen=True)
class Shown:
    """A value ready for a page: its lines, and how to lay them out."""

    lines: tuple[str, ...]
    empty: bool = False
    pre: bool = False  # free text: keep its line breaks
    nowrap: bool = False  # short lines such as 周二 09:00–12:00、14:30–17:30
    raw: bool = False  # not understood: shown as recorded


def local_time(value: datetime | str | None) -> str:
    """`2026-11-26 16:00` in Beijing time; naive datetimes were written as UTC."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        at = value
    return as_utc(at).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def percent(ratio: float | None) -> str:
    """0.7358 → `74%` (the same in both languages)."""
    return "" if ratio is None else f"{ratio * 100:.0f}%"


def number(value: float) -> str:
    """1600 → `1600`, 2.50 → `2.5`: no trailing zeros, no exponent."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) else f"{value:.2f}".rstrip("0").rstrip(".")


def label_text(lang: str, label: Text | None) -> str:
    """A template's bilingual label in the reader's language."""
    return "" if label is None else pick(lang, label.zh, label.en)


def label(lang: str, template: Template | None, path: str) -> str:
    """The name of a field path such as `answers.book_volumes` or `notes`."""
    if path in REGISTERS:
        return text(lang, REGISTERS[path])
    item = item_of(template, path)
    if item is not None:
        return label_text(lang, item.label)
    return text(lang, "field.unknown_item", key=path.removeprefix("answers."))


def device_label(lang: str, label: DeviceLabel) -> str:
    """`Redmi Note 12 · Chrome 120`, `安卓手机 · 微信 8`: model (or kind), then browser."""
    device = label.model or text(lang, f"device.kind.{label.kind}")
    if label.browser == "other":  # not a browser we know (a script, the reference client)
        return device
    browser = text(lang, f"device.browser.{label.browser}")
    return text(lang, "device.label", device=device, browser=browser, version=label.version).strip()


def _raw(value: Any) -> Shown:
    return Shown((json.dumps(value, ensure_ascii=False),), raw=True)


def _hours(lang: str, value: Any) -> Shown:
    totals = weekly_totals(value)
    if totals["invalid"]:
        return _raw(value)
    sep = "、" if lang == "zh-CN" else ", "
    lines = [
        text(lang, f"day.{d}") + " " + sep.join(f"{a}–{b}" for a, b in value.get(d, []))
        for d in DAYS
        if value.get(d)
    ]
    if not lines:
        return Shown((text(lang, "value.closed_all_week"),))
    total = text(lang, "value.hours_total", hours=number(totals["hours"]), n=totals["days"])
    return Shown((*lines, total), nowrap=True)


def _gps(lang: str, value: Any) -> Shown:
    lat, lon = float(value["lat"]), float(value["lon"])
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return _raw(value)
    line = f"{lat:.5f}, {lon:.5f}"
    if value.get("accuracy") is not None:
        line += text(lang, "value.gps_accuracy", m=number(round(float(value["accuracy"]))))
    lines = [line]
    if value.get("at"):
        lines.append(local_time(value["at"]))
    return Shown(tuple(lines))


def _free_text(lang: str, value: str) -> Shown:
    if value.strip():
        return Shown((value,), pre=True)
    return Shown((text(lang, "value.blank"),), empty=True)


def _answer(lang: str, item: Item, value: Any) -> Shown:
    if item.type == "yesno" and isinstance(value, bool):
        return Shown((text(lang, "value.yes" if value else "value.no"),))
    if item.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        unit = f" {label_text(lang, item.unit)}" if item.unit else ""
        return Shown((number(value) + unit,))
    if item.type == "choice" and isinstance(value, str):
        opt = next((o for o in item.options if o.key == value), None)
        return Shown((label_text(lang, opt.label),)) if opt else _raw(value)
    if item.type == "multicheck" and isinstance(value, list):
        if not value:
            return Shown((text(lang, "value.none_ticked"),), empty=True)
        opts = {o.key: o.label for o in item.options}
        names = [label_text(lang, opts[k]) if k in opts else str(k) for k in value]
        return Shown((("、" if lang == "zh-CN" else ", ").join(names),))
    if item.type == "weekly_hours" and isinstance(value, dict):
        return _hours(lang, value)
    if item.type == "text" and isinstance(value, str):
        return _free_text(lang, value)
    return _raw(value)


def show(lang: str, template: Template | None, path: str, value: Any) -> Shown:
    """A field's value as a person reads it; anything unexpected is shown as recorded."""
    if value is None:
        return Shown((text(lang, "value.no_answer"),), empty=True)
    try:
        if path == "notes":
            return _free_text(lang, str(value))
        if path == "started_at":
            return Shown((local_time(value),))
        if path == "gps":
            return _gps(lang, value)
        item = item_of(template, path)
        return _answer(lang, item, value) if item is not None else _raw(value)
    except (TypeError, ValueError, KeyError, AttributeError):
        return _raw(value)


def reason(lang: str, template: Template | None, key: str, outcome: dict | None) -> str:
    """Why an item failed, as the field app says it (`rule.<code>`), its parameters shown
    in the reader's language: option keys by their labels, days by their names."""
    if not outcome:
        return ""
    code = str(outcome.get("code") or "")
    params = outcome.get("params") if isinstance(outcome.get("params"), dict) else {}
    item = item_of(template, "answers." + key)
    shown: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if name == "missing" and isinstance(value, list) and item is not None:
            opts = {o.key: o.label for o in item.options}
            shown[name] = [label_text(lang, opts[v]) if v in opts else str(v) for v in value]
        elif name == "day" and value in DAYS:
            shown[name] = text(lang, f"day.{value}")
        elif name == "item" and isinstance(value, str):
            shown[name] = label(lang, template, "answers." + value)
        elif isinstance(value, bool):
            shown[name] = text(lang, "value.yes" if value else "value.no")
        elif isinstance(value, int | float):
            shown[name] = number(value)
        else:
            shown[name] = value
    if code and has(f"rule.{code}"):
        return text(lang, f"rule.{code}", **shown)
    return code  # a county's own rule code, shown as written


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
