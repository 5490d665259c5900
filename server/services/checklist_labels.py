"""How the desk names a checklist's items: each version's name, its items' names and ★, in
order, read once per version (versions are immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from server.domain.templates import Text
from server.services.templates import active_version


def _text(raw: Any, fallback: str) -> Text:
    if isinstance(raw, dict):
        return Text(str(raw.get("zh") or fallback), str(raw.get("en") or fallback))
    return Text(fallback, fallback)


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: Text
    critical: bool


@dataclass(frozen=True)
class Checklist:
    """What the desk shows of a checklist version: its name and its items' names and ★, in
    order. Read from the stored content without validating it: a version stored before a
    validator rule was added must still label its figures (the rules are not run here)."""

    key: str
    name: Text
    items: tuple[ChecklistItem, ...]

    @classmethod
    def of(cls, content: dict) -> Checklist:
        items = []
        for section in content.get("sections") or []:
            for it in section.get("items") or []:
                if isinstance(it, dict) and isinstance(it.get("key"), str):
                    label = _text(it.get("label"), it["key"])
                    items.append(ChecklistItem(it["key"], label, bool(it.get("critical"))))
        key = str(content.get("key", ""))
        return cls(key, _text(content.get("name"), key), tuple(items))


_parsed: dict[int, Checklist] = {}  # template versions are immutable: read each once


def checklist(session: Session, key: str, county_id: int | None) -> Checklist | None:
    """The names a template key's items read as in a county (or by default), read once per
    version (versions are immutable)."""
    version = active_version(session, key, county_id)
    if version is None or version.id is None:
        return None
    if version.id not in _parsed:
        _parsed[version.id] = Checklist.of(version.content)
    return _parsed[version.id]
