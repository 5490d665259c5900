"""The one error handler: JSON (both languages) for /api paths, a page in the reader's
language for people elsewhere. Never a stack trace."""

from __future__ import annotations

import html
import logging

from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from server.errors import AppError
from server.pages.lang import request_lang
from server.pages.render import language_helpers

log = logging.getLogger("xunjian")
HTTP_CODES = (400, 401, 403, 404, 405, 413)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api") or path == "/healthz" or path.endswith(".json")


def _respond(request: Request, err: AppError) -> Response:
    if _wants_json(request):
        return JSONResponse(err.to_dict(), status_code=err.status, headers=err.headers)
    lang = request_lang(request)
    message = err.message(lang)
    try:
        template = request.app.state.pages.get_template("error.html")
        context = {"viewer": None, "csrf": "", "here": "/", **language_helpers(lang)}
        body = template.render({**context, "status": err.status, "message": message})
    except Exception:  # the error page must never fail in turn
        log.exception("error page failed; answering in plain HTML")
        body = f"<!doctype html><meta charset=utf-8><h1>{err.status}</h1><p>{html.escape(message)}"
    headers = {"Cache-Control": "no-store", **err.headers}
    return HTMLResponse(body, status_code=err.status, headers=headers)


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return _respond(request, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    key = f"error.http_{status}" if status in HTTP_CODES else "error.http_other"
    return _respond(request, AppError(key, code=f"http_{status}", status=status))


BUSY_RETRY_SECONDS = 2


def overloaded(exc: Exception) -> bool:
    """The database could not be reached in time because every connection, or SQLite's one
    writer, is taken: a crowd, not a bug. Found under load (bench/sync_load.py): 200 phones
    at once outwait the pool's 30 s, and a 500 there read as a fault to the phone."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.OperationalError) and "database is locked" in str(exc)


async def server_error(request: Request, exc: Exception) -> Response:
    if overloaded(exc):
        # 503 + Retry-After: the phone waits and sends the same bytes again (the transaction
        # was rolled back, so a retry stores the ops exactly once)
        log.warning("busy on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        retry = str(BUSY_RETRY_SECONDS)
        busy = AppError.protocol(
            "server_busy", status=503, headers={"Retry-After": retry}, retry_after=retry
        )
        return _respond(request, busy)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(request, AppError(code="internal", status=500))


def error_handlers() -> dict:
    return {AppError: app_error, HTTPException: http_error, Exception: server_error}
