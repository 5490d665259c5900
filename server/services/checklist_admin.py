"""Checklists on the web: which version applies where, a new version from a file, and a
county's own thresholds.

A county uses its own latest version of a checklist if it has one, else the latest default
(services/templates.active_version); the table says which, county by county. A new default
version (for every county) is only for an admin of the server's root; anyone else with the
right loads versions for a county in their scope. A refused file lists every problem
(domain/templates.TemplateError), and nothing is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, select

from server.domain.templates import TemplateError
from server.errors import BadRequest, Forbidden, NotFound
from server.models import Area, ChecklistTemplate, TemplateVersion
from server.services import audit
from server.services.admin_rights import Rights, area_here, areas_here
from server.services.templates import active_version, load_template, set_params


@dataclass(frozen=True)
class Applies:
    county: Area
    key: str
    name_zh: str
    name_en: str
    version: TemplateVersion | None
    own: bool  # the county's own version (else the default)


def templates(session: Session) -> list[ChecklistTemplate]:
    return list(session.exec(select(ChecklistTemplate).order_by(ChecklistTemplate.key)))


def where_applies(session: Session, rights: Rights) -> list[Applies]:
    out = []
    for county in areas_here(session, rights.scope, "county"):
        for tpl in templates(session):
            v = active_version(session, tpl.key, county.id)
            out.append(
                Applies(county, tpl.key, tpl.name_zh, tpl.name_en, v, bool(v and v.county_id))
            )
    return out


def versions(session: Session, rights: Rights) -> list[tuple[TemplateVersion, str, Area | None]]:
    """Every version visible here: defaults and the versions of counties in scope."""
    q = (
        select(TemplateVersion, ChecklistTemplate.key, Area)
        .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
        .outerjoin(Area, Area.id == TemplateVersion.county_id)
        .where(
            TemplateVersion.county_id.is_(None)
            | TemplateVersion.county_id.in_(rights.scope.areas())
        )
        .order_by(ChecklistTemplate.key, TemplateVersion.version.desc())
    )
    return list(session.exec(q).all())


def _county(session: Session, rights: Rights, code: str) -> Area | None:
    """None means 'default for every county' (root admins only)."""
    if not code:
        if not rights.defaults:
            raise Forbidden("error.defaults_root_only")
        return None
    return area_here(session, rights.scope, code, "county")


def upload_version(
    session: Session, rights: Rights, data: bytes, *, county_code: str, note: str = ""
) -> tuple[TemplateVersion, bool]:
    """A new version from a template file; (version, created). TemplateError lists every
    problem of a refused file."""
    rights.require("checklists")
    county = _county(session, rights, county_code)
    try:
        content = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TemplateError([f"not JSON: {exc}"]) from None
    version, created = load_template(
        session, content, county=county, note=note.strip()[:255], user_id=rights.scope.user_id
    )
    if created:
        audit.record(
            session,
            "template.load",
            user_id=rights.scope.user_id,
            target_type="template_version",
            target_id=version.id,
            area_id=county.id if county else None,
            detail={"via": "web", "key": content.get("key"), "version": version.version},
        )
    return version, created


def params_of(
    session: Session, rights: Rights, key: str, county_code: str
) -> tuple[Area, TemplateVersion]:
    county = area_here(session, rights.scope, county_code, "county")
    version = active_version(session, key, county.id)
    if version is None:
        raise NotFound("error.template_not_found", key=key)
    return county, version


def save_params(
    session: Session, rights: Rights, key: str, county_code: str, values: dict[str, str]
) -> tuple[TemplateVersion, bool]:
    """A county's thresholds as a new county version (only those that changed count)."""
    rights.require("checklists")
    county, current = params_of(session, rights, key, county_code)
    overrides = {}
    for name, old in current.content.get("params", {}).items():
        raw = values.get(name, "").strip()
        if raw == "":
            continue
        try:
            new = float(raw)
        except ValueError:
            raise BadRequest("error.param_not_number", field=name, name=name, value=raw) from None
        new_value = int(new) if new.is_integer() else new
        if new_value != old:
            overrides[name] = new_value
    if not overrides:
        return current, False
    version, created = set_params(session, key, county, overrides, note="web")
    if created:
        audit.record(
            session,
            "template.params",
            user_id=rights.scope.user_id,
            target_type="template_version",
            target_id=version.id,
            area_id=county.id,
            detail={"via": "web", "key": key, "params": overrides},
        )
    return version, created
