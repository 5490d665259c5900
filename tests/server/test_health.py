import gc

from sqlalchemy import text
from starlette.testclient import TestClient

from server.app import GC_THRESHOLD, GC_YOUNG_PER_MIDDLE, create_app


def test_healthz_reports_database_and_schema(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["database"] == "ok" and body["schema"] == "current" and body["status"] == "ok"


def test_healthz_notices_a_schema_behind_head(client, engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["schema"] == "behind"


def test_unknown_api_path_is_json_and_page_is_html(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "http_404"
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "找不到" in r.text and "Traceback" not in r.text


def test_the_served_app_tunes_its_collector(settings):
    """What the process built to start is frozen, and the collector's thresholds are the
    app's (server/app.py, _tune_gc: a 500-op batch's objects are not walked again and
    again)."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        with TestClient(create_app(settings)):
            assert gc.get_threshold()[:2] == (GC_THRESHOLD, GC_YOUNG_PER_MIDDLE)
            assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)
