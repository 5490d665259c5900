"""What happens when an inspection is stored: evaluation, evidence state and follow-ups.

Sync and the demo both go through `refresh_outcome`, so the cached result, the rating and
the follow-ups (限期整改) always come from the one rule engine.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from server.domain.rules import evaluate
from server.domain.templates import parse_template
from server.models import Blob, FollowUp, Inspection, TemplateVersion
from server.services.changes import stamp

FOLLOW_UP_DAYS = 30
_parsed: dict[int, object] = {}


def template_for(session: Session, version_id: int):
    """Parsed template of a version; versions are immutable, so caching by id is safe."""
    if version_id not in _parsed:
        version = session.get(TemplateVersion, version_id)
        if version is None:
            raise LookupError(version_id)
        _parsed[version_id] = parse_template(version.content)
    return _parsed[version_id]


def missing_photos(session: Session, inspection: Inspection) -> list[str]:
    shas = sorted({p["sha256"] for p in inspection.photos or []})
    if not shas:
        return []
    done = set(
        session.exec(select(Blob.sha256).where(Blob.sha256.in_(shas), Blob.complete.is_(True)))
    )
    return [s for s in shas if s not in done]


def refresh_outcome(session: Session, inspection: Inspection) -> None:
    """Evaluate a submitted inspection, set its evidence state, open and close follow-ups.
    Drafts carry no result. The caller stamps and commits."""
    inspection.evidence_complete = not missing_photos(session, inspection)
    if inspection.status != "submitted":
        inspection.result, inspection.rating = None, None
        return
    template = template_for(session, inspection.template_version_id)
    result = evaluate(template, inspection.answers or {}, inspection.photos or [])
    inspection.result = result
    inspection.rating = result["rating"]["code"]
    _sync_follow_ups(session, inspection, result, template)


def _sync_follow_ups(session: Session, inspection: Inspection, result: dict, template) -> None:
    """Only the point's latest submitted inspection speaks for it: an older one that arrives
    late, or is edited afterwards, must not reopen what a later visit closed."""
    if inspection.submitted_at is None:
        return
    later = session.exec(
        select(Inspection.id).where(
            Inspection.point_id == inspection.point_id,
            Inspection.status == "submitted",
            Inspection.id != inspection.id,
            Inspection.submitted_at > inspection.submitted_at,
        )
    ).first()
    if later is not None:
        return
    open_items = {
        f.item_key: f
        for f in session.exec(
            select(FollowUp).where(
                FollowUp.point_id == inspection.point_id, FollowUp.status == "open"
            )
        )
    }
    changed = []
    for key, outcome in result["items"].items():
        if not template.item(key).scored:
            continue
        follow = open_items.get(key)
        if outcome["status"] == "pass" and follow is not None:
            if follow.opened_at <= inspection.submitted_at and follow.opened_by != inspection.id:
                follow.status, follow.closed_by = "closed", inspection.id
                follow.closed_at = inspection.submitted_at
                changed.append(follow)
        elif outcome["status"] in {"fail", "missing"} and follow is None:
            changed.append(
                FollowUp(
                    point_id=inspection.point_id,
                    cycle_id=inspection.cycle_id,
                    item_key=key,
                    reason_code=outcome.get("code", ""),
                    opened_by=inspection.id,
                    opened_at=inspection.submitted_at,
                    due_date=(inspection.submitted_at + timedelta(days=FOLLOW_UP_DAYS)).date(),
                )
            )
    stamp(session, *changed)
