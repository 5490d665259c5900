"""The one error handler: JSON (both languages) for /api paths, a page in the reader's
language for people elsewhere. Never a stack trace."""

from __future__ import annotations

import html
import logging

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


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(request, AppError(code="internal", status=500))


def error_handlers() -> dict:
    return {AppError: app_error, HTTPException: http_error, Exception: server_error}
