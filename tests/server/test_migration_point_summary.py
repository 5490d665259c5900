"""Migration 0003: an existing database's points with a submitted inspection get new change
numbers, so phones that pulled them before the `last_inspection` summary existed pull them
again. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from server.migrate import upgrade


def test_inspected_points_are_sent_again(engine, db_url, demo):
    with engine.begin() as conn:
        before = conn.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar()
        seqs = dict(conn.execute(text("SELECT id, seq FROM service_point")).all())
        inspected = {
            r[0]
            for r in conn.execute(
                text("SELECT DISTINCT point_id FROM inspection WHERE status = 'submitted'")
            )
        }
        conn.execute(text("UPDATE alembic_version SET version_num = '0002_sync'"))
    assert inspected and set(seqs) - inspected
    engine.dispose()
    upgrade(db_url, "0003_point_summary")  # this step only: later ones already ran
    with engine.connect() as conn:
        after = conn.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar()
        now = dict(conn.execute(text("SELECT id, seq FROM service_point")).all())
    assert after == before + len(inspected)
    assert sorted(now[p] for p in inspected) == list(range(before + 1, after + 1))
    assert {p: s for p, s in now.items() if p not in inspected} == {
        p: s for p, s in seqs.items() if p not in inspected
    }
