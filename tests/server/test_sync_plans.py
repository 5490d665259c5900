"""A sync reads what changed, not everything the scope ever had (migration 0013), asserted
on SQLite's plans:
- the pull's change numbers per kind come from a (scope column, seq) index with both bounds
  of the cursor, for an inspector and a supervisor of the demo county, of a second county
  and of a city;
- the missing photos are listed from the index of records still waiting for photos, in its
  order; a photo upload looks there for the records it completes, and for whether the
  sender's own records name it.
Without those indexes each read every row the scope had and sorted it, on every sync and
upload, however little had changed."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import select

from server.db import session_scope
from server.models import Inspection, User
from server.services.blob_upload import waiting_for
from server.services.photo_access import named_by_user, waiting_records
from server.services.scope import scope_of
from server.services.sync_pull import scope_queries, seq_queries
from tests.server.counties import add_liquan

# the kinds whose rows grow with the work, and the index each must be read from
GROWING = {
    "inspections": "ix_inspection_inspector_seq",
    "followups": "ix_follow_up_point_seq",
    "points": "ix_service_point_township_seq",
}
ASSIGNMENTS = {"inspector": "ix_assignment_inspector_seq", "supervisor": "ix_assignment_point_seq"}


# the plans asserted are SQLite's; PostgreSQL plans by its own statistics
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def plan(session, stmt) -> str:
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    return "\n".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


@pytest.mark.parametrize(
    "username", ["inspector", "supervisor", "lq_inspector", "lq_supervisor", "city_supervisor"]
)
def test_each_kind_reads_only_past_the_cursor(engine, demo, username):
    add_liquan(engine)
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        scope = scope_of(s, user)
        stmts = seq_queries(scope_queries(scope), 1000, 2000, 500)
        wanted = {**GROWING, "assignments": ASSIGNMENTS[user.role]}
        for kind, index in wanted.items():
            text = plan(s, stmts[kind])
            assert f"USING INDEX {index} (" in text or f"COVERING INDEX {index} (" in text, (
                kind,
                text,
            )
            assert "seq>? AND seq<?" in text, (kind, text)


def test_records_waiting_for_photos_are_read_from_their_own_index(engine, demo):
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == "inspector")).one()
        missing = plan(s, waiting_records(user.id, Inspection.photos).limit(100))
        # the inspector's waiting records in the order asked: no sort of all their records
        assert "USING INDEX ix_inspection_waiting (inspector_id=?)" in missing, missing
        assert "TEMP B-TREE" not in missing, missing
        upload = plan(s, select(Inspection.id).where(waiting_for("ab" * 32)))
        assert "USING INDEX ix_inspection_waiting" in upload, upload
        statements: list[tuple[str, tuple]] = []

        def grab(_conn, _cursor, statement, params, _context, _many) -> None:
            statements.append((statement, params))

        event.listen(engine, "before_cursor_execute", grab)
        try:
            named_by_user(s, user.id, "ab" * 32)  # no record names it: both reads run
        finally:
            event.remove(engine, "before_cursor_execute", grab)
        raw = s.connection().connection.dbapi_connection
        plans = [[r[3] for r in raw.execute("EXPLAIN QUERY PLAN " + q, p)] for q, p in statements]
        assert len(plans) == 2, statements
        assert "USING INDEX ix_inspection_waiting (inspector_id=?)" in plans[0][0], plans
