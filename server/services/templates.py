"""Loading checklist templates into the database as immutable, numbered versions."""

from __future__ import annotations

from sqlmodel import Session, func, select

from server.domain.templates import apply_params, content_hash, parse_template
from server.models import Area, ChecklistTemplate, TemplateVersion
from server.services.changes import stamp


def load_template(
    session: Session,
    content: dict,
    *,
    county: Area | None = None,
    note: str = "",
    user_id: int | None = None,
) -> tuple[TemplateVersion, bool]:
    """Store `content` as the next version unless it equals the current one.

    Returns the version and whether it is new. Raises TemplateError naming each bad item.
    """
    tpl = parse_template(content)
    digest = content_hash(content)
    head = session.exec(select(ChecklistTemplate).where(ChecklistTemplate.key == tpl.key)).first()
    if head is None:
        head = ChecklistTemplate(
            key=tpl.key, applies_to=tpl.applies_to, name_zh=tpl.name["zh"], name_en=tpl.name["en"]
        )
        session.add(head)
        session.flush()
    else:
        head.applies_to, head.name_zh, head.name_en = tpl.applies_to, tpl.name["zh"], tpl.name["en"]
    current = active_version(session, tpl.key, county.id if county else None)
    if (
        current is not None
        and current.content_hash == digest
        and (current.county_id == (county.id if county else None))
    ):
        return current, False
    last = session.exec(
        select(func.max(TemplateVersion.version)).where(TemplateVersion.template_id == head.id)
    ).one()
    version = TemplateVersion(
        template_id=head.id,
        version=(last or 0) + 1,
        county_id=county.id if county else None,
        content=content,
        content_hash=digest,
        note=note,
        created_by=user_id,
    )
    stamp(session, version)
    session.flush()
    return version, True


def active_version(session: Session, key: str, county_id: int | None) -> TemplateVersion | None:
    """The version a county uses now: its own latest override, else the latest default."""
    base = (
        select(TemplateVersion)
        .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
        .where(ChecklistTemplate.key == key)
        .order_by(TemplateVersion.version.desc())
    )
    if county_id is not None:
        own = session.exec(base.where(TemplateVersion.county_id == county_id)).first()
        if own is not None:
            return own
    return session.exec(base.where(TemplateVersion.county_id.is_(None))).first()


def set_params(
    session: Session, key: str, county: Area | None, overrides: dict, *, note: str = ""
) -> tuple[TemplateVersion, bool]:
    """A county's own thresholds, as a new version derived from what it uses now."""
    current = active_version(session, key, county.id if county else None)
    if current is None:
        raise LookupError(key)
    content = apply_params(current.content, overrides)
    return load_template(session, content, county=county, note=note)


def version_by_number(session: Session, key: str, number: int) -> TemplateVersion | None:
    return session.exec(
        select(TemplateVersion)
        .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
        .where(ChecklistTemplate.key == key, TemplateVersion.version == number)
    ).first()


SHIPPED_NOTE = "shipped"


def install_shipped(session: Session) -> list[TemplateVersion]:
    """Make each checklist shipped in `server/checklists/` a default version, once.

    Runs after every `db upgrade`, so a fresh database holds the checklists and a release
    that changes one brings the new version. Idempotent: content already loaded as a
    default version at any time is never loaded again, so an admin's own default (loaded
    after the shipped one) is not replaced by a re-run, only by a new shipped text.
    The versions are stamped like any other, so phones pull them.
    """
    from server.domain.templates import load_builtin_templates

    added = []
    for _key, content in sorted(load_builtin_templates().items()):
        digest = content_hash(content)
        seen = session.exec(
            select(TemplateVersion.id).where(
                TemplateVersion.content_hash == digest, TemplateVersion.county_id.is_(None)
            )
        ).first()
        if seen is not None:
            continue
        version, created = load_template(session, content, note=SHIPPED_NOTE)
        if created:
            added.append(version)
    return added


def catalogue(
    session: Session,
) -> list[tuple[ChecklistTemplate, list[tuple[TemplateVersion, Area | None]]]]:
    """Every template with its versions in order, each with the county it is pinned to
    (None: the default everywhere). What `xunjian template list` prints."""
    areas = {a.id: a for a in session.exec(select(Area))}
    out = []
    for tpl in session.exec(select(ChecklistTemplate).order_by(ChecklistTemplate.key)):
        versions = session.exec(
            select(TemplateVersion)
            .where(TemplateVersion.template_id == tpl.id)
            .order_by(TemplateVersion.version)  # type: ignore[arg-type]
        ).all()
        out.append((tpl, [(v, areas.get(v.county_id)) for v in versions]))
    return out
