"""Reading one field of an inspection record by its path (`answers.book_volumes`, `notes`),
as conflicts and quarantined ops name them; pure, for the services and the pages alike."""

from __future__ import annotations

from typing import Any

from server.domain.templates import Item, Template, TemplateError, parse_template

ANSWERS = "answers."


def template_of(content: dict | None) -> Template | None:
    """A stored template version's content parsed, or None when it no longer parses (an old
    version is still shown, by its raw keys)."""
    if not content:
        return None
    try:
        return parse_template(content)
    except TemplateError:
        return None


def item_of(template: Template | None, path: str) -> Item | None:
    """The checklist item an `answers.<item>` path names, if the template has it."""
    if template is None or not path.startswith(ANSWERS):
        return None
    try:
        return template.item(path[len(ANSWERS) :])
    except KeyError:
        return None


def field_value(record: dict, path: str) -> Any:
    """The value of a field path in a record dict (None when absent)."""
    if path.startswith(ANSWERS):
        return (record.get("answers") or {}).get(path[len(ANSWERS) :])
    return record.get(path)


def photos_of(record: dict, path: str) -> list[dict]:
    """The photos a record attaches to the item of an `answers.<item>` field."""
    if not path.startswith(ANSWERS):
        return []
    key = path[len(ANSWERS) :]
    return [
        p
        for p in record.get("photos") or []
        if isinstance(p, dict) and p.get("item") == key and isinstance(p.get("sha256"), str)
    ]
