"""The quarantine as people read it: ops the server could not apply, with the reason.

One rule for the JSON API and the quarantine page: an inspector sees their own ops; a
supervisor or admin those of every user in their scope. A quarantined field is labelled by
the checklist version the op itself names, so the words are those the inspector saw.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from server.domain.record_fields import item_of, template_of
from server.domain.templates import Template
from server.models import ChecklistTemplate, Quarantine, ServicePoint, TemplateVersion, User
from server.services.scope import Scope


@dataclass(frozen=True)
class QuarantineRow:
    """A quarantined op, whose it is, the name of the point it names (if that exists), and
    the checklist whose item its `field` is (when asked for and when it is one)."""

    q: Quarantine
    user: User
    point_name: str | None
    template: Template | None = None


def listed(
    session: Session,
    scope: Scope,
    *,
    code: str | None = None,
    point_code: str | None = None,
    offset: int = 0,
    limit: int = 100,
    newest_first: bool = False,
    with_templates: bool = False,
) -> list[QuarantineRow]:
    q = (
        select(Quarantine, User, ServicePoint.name)
        .join(User, User.id == Quarantine.user_id)  # type: ignore[arg-type]
        .outerjoin(ServicePoint, ServicePoint.code == Quarantine.point_code)  # type: ignore[arg-type]
    )
    q = _visible(q, scope)
    if code:
        q = q.where(Quarantine.code == code)
    if point_code:
        q = q.where(Quarantine.point_code == point_code)
    if newest_first:
        q = q.order_by(
            Quarantine.created_at.desc(),  # type: ignore[attr-defined]
            Quarantine.id.desc(),  # type: ignore[union-attr]
        )
    else:
        q = q.order_by(Quarantine.id)
    rows = session.exec(q.offset(offset).limit(limit)).all()
    templates = _templates_named(session, [r for r, _, _ in rows]) if with_templates else {}
    return [QuarantineRow(r, u, name, _field_template(templates, r)) for r, u, name in rows]


def count(session: Session, scope: Scope) -> int:
    q = (
        select(func.count()).select_from(Quarantine).join(User, User.id == Quarantine.user_id)  # type: ignore[arg-type]
    )
    return session.exec(_visible(q, scope)).one()


def _visible(q, scope: Scope):
    if scope.supervises:
        return q.where(scope.users_here())
    return q.where(Quarantine.user_id == scope.user_id)


def _template_ref(q: Quarantine) -> tuple[str, int] | None:
    data = q.raw.get("data") if isinstance(q.raw, dict) else None
    if not isinstance(data, dict):
        return None
    key, version = data.get("template_key"), data.get("template_version")
    if isinstance(key, str) and isinstance(version, int) and not isinstance(version, bool):
        return key, version
    return None


def _templates_named(session: Session, rows: list[Quarantine]) -> dict[tuple[str, int], Template]:
    """The checklist versions the quarantined ops name, to label `answers.<item>` fields."""
    refs = {ref for r in rows if r.field and (ref := _template_ref(r))}
    if not refs:
        return {}
    found = session.exec(
        select(ChecklistTemplate.key, TemplateVersion.version, TemplateVersion.content)
        .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)  # type: ignore[arg-type]
        .where(ChecklistTemplate.key.in_(sorted({k for k, _ in refs})))  # type: ignore[attr-defined]
    ).all()
    out = {}
    for key, version, content in found:
        if (key, version) in refs and (template := template_of(content)) is not None:
            out[(key, version)] = template
    return out


def _field_template(templates: dict, q: Quarantine) -> Template | None:
    ref = _template_ref(q)
    if not q.field or ref not in templates or item_of(templates[ref], q.field) is None:
        return None
    return templates[ref]
