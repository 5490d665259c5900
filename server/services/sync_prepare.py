"""What a sync batch works out before it takes the writer lock: per op, its body hash, the
checklist version it names, whether its answers and photos fit that checklist, and the rule
engine's verdict on its own answers and photos.

Why before: the lock serialises every writer of the server (sync_write), so each
millisecond held per op is a millisecond every other phone waits. None of this reads the
state the lock protects. A checklist version never changes once stored (models/template.py
refuses the edit, and a new checklist is a new version), and the verdict is a pure function
of the version, the answers and the photos.

The trap: under the lock the op is merged with what the server holds, and the stored
record may differ from the op (an edit made elsewhere, a photo kept from the server's
copy). So the batch takes a prepared fact only where its inputs are still the same: the
version it resolves under the lock is the prepared one, and the verdict is used only while
the record to store has exactly the op's answers and photos (sync_batch: otherwise the rules
run again under the lock). An op whose version the server did not hold yet is simply not
prepared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from server import json_codec
from server.domain.hours import Schedules
from server.domain.rules import evaluate
from server.models import ChecklistTemplate, TemplateVersion
from server.services.inspections import template_for
from server.services.sync_checks import fit_problem
from server.services.sync_stage import Texts
from sync.errors import Rejection
from sync.messages import BadOp, Op
from sync.records import normalize

TV = TemplateVersion.__table__  # type: ignore[attr-defined]
CT = ChecklistTemplate.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PreparedOp:
    version_id: int
    problem: Rejection | None  # the first answer or photo that does not fit the checklist
    record: dict  # the op's record, normalised: what the verdict was worked out from
    result: dict | None  # the verdict, for a submitted record that fits


class Prepared:
    """A batch's facts from before the lock: body hashes by op, versions by (template key,
    number), parsed checklists by version id, and per inspection op its PreparedOp (keyed by
    the identity of the op's data: the batch holds the ops for the whole request)."""

    def __init__(self) -> None:
        self.digests: dict[int, str] = {}
        self.versions: dict[tuple[str, int], tuple[int, str]] = {}
        self.templates: dict[int, Any] = {}
        self.ops: dict[int, PreparedOp] = {}
        self.texts: Texts = {}  # JSON text of the records and verdicts (sync_stage.Texts)

    def digest(self, op: Op | BadOp) -> str:
        found = self.digests.get(id(op))
        return found if found is not None else op.body_hash()

    def op(self, data: dict) -> PreparedOp | None:
        return self.ops.get(id(data))

    def encode(self, *values: Any) -> None:
        """Work out the JSON text each of `values` is stored as."""
        for value in values:
            self.texts[id(value)] = (value, json_codec.dumps(value))


def prepare(session: Session, ops: Sequence[Op | BadOp]) -> Prepared:
    """Work out what the ops need that does not depend on the state the writer lock guards.
    `session` only reads (checklist versions)."""
    out = Prepared()
    for op in ops:
        out.digests[id(op)] = op.body_hash()
    good = [op for op in ops if isinstance(op, Op)]
    wanted = {(op.data["template_key"], op.data["template_version"]) for op in good}
    for key in sorted({k for k, _ in wanted}):
        rows = session.connection().execute(
            select(TV.c.id, TV.c.version, CT.c.applies_to)
            .join(CT, CT.c.id == TV.c.template_id)
            .where(CT.c.key == key, TV.c.version.in_(sorted(n for k, n in wanted if k == key)))
        )
        for version_id, number, applies_to in rows:
            out.versions[(key, number)] = (version_id, applies_to)
    items: dict[int, dict[str, Any]] = {}
    for version_id, _ in out.versions.values():
        out.templates[version_id] = template_for(session, version_id)
        items[version_id] = {i.key: i for i in out.templates[version_id].items}
    for op in good:
        found = out.versions.get((op.data["template_key"], op.data["template_version"]))
        if found is None:
            continue
        version_id = found[0]
        rec = normalize(op.data)
        schedules = Schedules()  # the fit and the verdict read the same schedule objects
        problem = fit_problem(items[version_id], op.data, schedules)
        result = None
        if problem is None and rec["status"] == "submitted":
            result = evaluate(out.templates[version_id], rec["answers"], rec["photos"], schedules)
        out.ops[id(op.data)] = PreparedOp(version_id, problem, rec, result)
        if problem is None:
            # what sync_stage stores when the record is the op's own: the revision, the
            # inspection's columns and its verdict
            out.encode(rec, rec["answers"], rec["photos"], rec["gps"], result)
    return out
