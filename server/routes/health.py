"""/healthz: is the database reachable, and is its schema at the migration head?"""

from __future__ import annotations

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.migrate import schema_state


def _check(engine, database_url: str) -> dict:
    body: dict = {"database": "unreachable", "schema": "unknown"}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        body["database"] = "ok"
        current, head = schema_state(engine, database_url)
        body["revision"] = sorted(current)
        body["head"] = sorted(head)
        body["schema"] = "current" if current == head else "behind"
    except Exception as exc:  # report, never raise: this is what monitors poll
        body["detail"] = type(exc).__name__
    return body


async def healthz(request: Request) -> JSONResponse:
    # In the thread pool: a database that hangs must not hang the server's other requests.
    settings = request.app.state.settings
    body = await run_in_threadpool(_check, request.app.state.engine, settings.database_url)
    ok = body["database"] == "ok" and body["schema"] == "current"
    body["status"] = "ok" if ok else "error"
    return JSONResponse(body, status_code=200 if ok else 503)


routes = [Route("/healthz", healthz)]
