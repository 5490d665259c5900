"""What happens when an inspection is stored: evaluation, evidence state, follow-ups, and
the point's change row.

Sync and the demo both go through `apply_outcome` (the demo and single writers via
`refresh_outcome`, sync batches with facts cached for the whole request), so the cached
result, the rating and the follow-ups (限期整改) always come from the one rule engine and
the one rule for follow-ups.

A point's change row carries a summary of its latest submitted inspection, by any inspector
(`last_inspection`, docs/sync-protocol.md "Change rows"), read when the row is pulled. So
whenever that summary changes (a new latest submission, a re-evaluation, evidence arriving),
the point takes a new change sequence number in the same transaction, and every phone of the
area pulls it again (`touch_point`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Protocol

from sqlmodel import Session, and_, or_, select

from server.domain.followups import CLOSED, FIXED, OPEN, PENDING, days_given
from server.domain.rules import evaluate
from server.domain.templates import parse_template
from server.models import Blob, FollowUp, Inspection, ServicePoint, TemplateVersion
from server.services.changes import stamp
from server.services.summaries import refresh_points

_parsed: dict[tuple[int, str], object] = {}


def template_for(session: Session, version_id: int):
    """Parsed template of a version. Versions are immutable, so the parse is cached, keyed by
    the content's hash too: one process may see several databases (tests, a restore) whose
    version ids mean different checklists."""
    version = session.get(TemplateVersion, version_id)
    if version is None:
        raise LookupError(version_id)
    key = (version_id, version.content_hash)
    if key not in _parsed:
        _parsed[key] = parse_template(version.content)
    return _parsed[key]


def missing_photos(session: Session, inspection: Inspection) -> list[str]:
    shas = sorted({p["sha256"] for p in inspection.photos or []})
    if not shas:
        return []
    done = set(
        session.exec(select(Blob.sha256).where(Blob.sha256.in_(shas), Blob.complete.is_(True)))
    )
    return [s for s in shas if s not in done]


class OutcomeFacts(Protocol):
    """What `apply_outcome` needs to know about the rest of the database, and how it writes.
    `inspection` and follow-ups are anything with the model's attributes."""

    def template(self, version_id: int) -> Any: ...

    def evaluate(self, template: Any, inspection: Any) -> dict:
        """The rule engine's verdict on the inspection's answers and photos (a sync batch may
        have worked it out before taking the writer lock)."""

    def complete_blobs(self, shas: set[str]) -> set[str]:
        """The subset of ``shas`` held as complete photos."""

    def later_submitted(self, inspection: Any) -> bool:
        """Is another submitted inspection of the point submitted after this one?"""

    def open_follow_ups(self, point_id: int) -> dict[str, Any]:
        """The point's follow-ups not yet closed, by item key (the caller does not mutate
        it)."""

    def manager(self, point_id: int) -> tuple[str, str]:
        """The point's manager (name, phone): who is responsible for a new follow-up."""

    def new_follow_up(self, **columns: Any) -> Any: ...

    def stamp(self, rows: list[Any]) -> None:
        """Store changed and new follow-ups with fresh change sequence numbers."""

    def is_latest(self, inspection: Any) -> bool:
        """Is this submitted inspection its point's latest (by submitted_at, then id)?"""

    def touch_point(self, point_id: int) -> None:
        """Give the point a fresh change sequence number (its summary changed)."""


class SessionFacts:
    """OutcomeFacts straight from one session's queries."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def template(self, version_id: int) -> Any:
        return template_for(self.session, version_id)

    def evaluate(self, template: Any, inspection: Any) -> dict:
        return evaluate(template, inspection.answers or {}, inspection.photos or [])

    def complete_blobs(self, shas: set[str]) -> set[str]:
        if not shas:
            return set()
        return set(
            self.session.exec(
                select(Blob.sha256).where(Blob.sha256.in_(sorted(shas)), Blob.complete.is_(True))
            )
        )

    def later_submitted(self, inspection: Any) -> bool:
        later = self.session.exec(
            select(Inspection.id).where(
                Inspection.point_id == inspection.point_id,
                Inspection.status == "submitted",
                Inspection.id != inspection.id,
                Inspection.submitted_at > inspection.submitted_at,
            )
        ).first()
        return later is not None

    def open_follow_ups(self, point_id: int) -> dict[str, Any]:
        return {
            f.item_key: f
            for f in self.session.exec(
                select(FollowUp).where(
                    FollowUp.point_id == point_id,
                    FollowUp.status.in_(sorted(PENDING)),  # type: ignore[attr-defined]
                )
            )
        }

    def manager(self, point_id: int) -> tuple[str, str]:
        point = self.session.get(ServicePoint, point_id)
        if point is None:
            return "", ""
        return point.manager_name or "", point.manager_phone or ""

    def new_follow_up(self, **columns: Any) -> FollowUp:
        return FollowUp(**columns, evidence=[])

    def stamp(self, rows: list[Any]) -> None:
        stamp(self.session, *rows)

    def is_latest(self, inspection: Any) -> bool:
        at = inspection.submitted_at
        later = self.session.exec(
            select(Inspection.id).where(
                Inspection.point_id == inspection.point_id,
                Inspection.status == "submitted",
                Inspection.id != inspection.id,
                or_(
                    Inspection.submitted_at > at,
                    and_(Inspection.submitted_at == at, Inspection.id > inspection.id),
                ),
            )
        ).first()
        return later is None

    def touch_point(self, point_id: int) -> None:
        point = self.session.get(ServicePoint, point_id)
        if point is not None:
            stamp(self.session, point)


def summary_changed(inspection: Any, facts: OutcomeFacts) -> None:
    """The summary phones see of the point's latest submitted inspection changed if this
    inspection is that one: stamp the point. (Whether the latest is a new one needs no
    check of its own: a new submission always changes the rating, from none to one.)"""
    if (
        inspection.status == "submitted"
        and inspection.submitted_at is not None
        and facts.is_latest(inspection)
    ):
        facts.touch_point(inspection.point_id)


def evidence_arrived(session: Session, inspection: Inspection) -> None:
    """Every photo of ``inspection`` is now held: mark it and stamp it (and its point, if
    its summary shows). The verdict counts photos listed in the record, not photos arrived,
    so it is not re-evaluated (that would only risk re-opening follow-ups)."""
    inspection.evidence_complete = True
    stamp(session, inspection)
    summary_changed(inspection, SessionFacts(session))
    refresh_points(session, {inspection.point_id})


def refresh_outcome(session: Session, inspection: Inspection) -> None:
    """Evaluate a submitted inspection, set its evidence state, open and close follow-ups.
    Drafts carry no result. The caller stamps and commits."""
    apply_outcome(inspection, SessionFacts(session))


def apply_outcome(inspection: Any, facts: OutcomeFacts) -> None:
    """`refresh_outcome` over any source of facts (sync batches cache them per request)."""
    # what the point's summary shows of this inspection, as stored before (none if new)
    before = (getattr(inspection, "rating", None), getattr(inspection, "evidence_complete", None))
    shas = {p["sha256"] for p in inspection.photos or []}
    inspection.evidence_complete = not shas or facts.complete_blobs(shas) >= shas
    if inspection.status != "submitted":
        inspection.result, inspection.rating = None, None
        return
    template = facts.template(inspection.template_version_id)
    result = facts.evaluate(template, inspection)
    inspection.result = result
    inspection.rating = result["rating"]["code"]
    _sync_follow_ups(inspection, result, template, facts)
    if (inspection.rating, inspection.evidence_complete) != before:
        summary_changed(inspection, facts)


def _sync_follow_ups(inspection: Any, result: dict, template, facts: OutcomeFacts) -> None:
    """Only the point's latest submitted inspection speaks for it: an older one that arrives
    late, or is edited afterwards, must not reopen what a later visit closed. An item left
    blank neither opens nor closes a follow-up (architecture.md, "Not inspected").

    A re-inspection that fails an item the township called fixed sends it back to open,
    with its due date unchanged: the county's deadline does not move because of a claim."""
    if inspection.submitted_at is None or facts.later_submitted(inspection):
        return
    open_items = facts.open_follow_ups(inspection.point_id)
    scored, days = _follow_up_terms(template)
    changed = []
    for key, outcome in result["items"].items():
        if key not in scored:
            continue
        follow = open_items.get(key)
        later = follow is not None and (
            follow.opened_at <= inspection.submitted_at and follow.opened_by != inspection.id
        )
        status = outcome["status"]
        if status == "pass" and later:
            follow.status, follow.closed_by = CLOSED, inspection.id
            follow.closed_at = inspection.submitted_at
            changed.append(follow)
        elif status == "fail" and follow is None:
            # only a failing answer: an item not inspected ("missing") says nothing to fix
            name, phone = facts.manager(inspection.point_id)
            changed.append(
                facts.new_follow_up(
                    point_id=inspection.point_id,
                    cycle_id=inspection.cycle_id,
                    item_key=key,
                    reason_code=outcome.get("code", ""),
                    opened_by=inspection.id,
                    opened_at=inspection.submitted_at,
                    due_date=(inspection.submitted_at + timedelta(days=days)).date(),
                    responsible=name[:32],
                    responsible_phone=phone[:32],
                )
            )
        elif status == "fail" and later and follow.status == FIXED:
            follow.status, follow.fixed_at = OPEN, None
            changed.append(follow)
    facts.stamp(changed)


def _scored_keys(items: Iterable[Any]) -> frozenset[str]:
    return frozenset(i.key for i in items if i.scored)


# by id of a parsed template (kept with it, so the id cannot be reused): parsed templates are
# immutable and cached (template_for), and a sync batch asks for every op
_terms: dict[int, tuple[Any, frozenset[str], int]] = {}


def _follow_up_terms(template: Any) -> tuple[frozenset[str], int]:
    """The template's scored item keys and the days a new follow-up is given."""
    found = _terms.get(id(template))
    if found is None or found[0] is not template:
        if len(_terms) > 256:
            _terms.clear()
        found = _terms[id(template)] = (
            template,
            _scored_keys(template.items),
            days_given(template.params),
        )
    return found[1], found[2]
