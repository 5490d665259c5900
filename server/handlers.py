"""The one error handler: JSON for /api paths, a plain page for people elsewhere."""

from __future__ import annotations

import html
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from server.errors import AppError

log = logging.getLogger("xunjian")

_HTTP_MESSAGES = {
    400: ("请求有误", "Bad request"),
    401: ("请先登录", "Please log in"),
    403: ("没有权限", "Forbidden"),
    404: ("找不到该页面或资源", "Not found"),
    405: ("不支持该请求方法", "Method not allowed"),
    413: ("内容太大", "Payload too large"),
}


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api") or path == "/healthz" or path.endswith(".json")


def _respond(request: Request, status: int, body: dict) -> Response:
    if _wants_json(request):
        return JSONResponse(body, status_code=status)
    err = body["error"]
    page = (
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{status}</title><body style='font-family:sans-serif;padding:2rem'>"
        f"<h1>{status}</h1><p>{html.escape(err['message_zh'])}</p>"
        f"<p lang='en'>{html.escape(err['message_en'])}</p><p><a href='/'>返回首页 Home</a></p>"
    )
    return HTMLResponse(page, status_code=status)


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return _respond(request, exc.status, exc.to_dict())


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    zh, en = _HTTP_MESSAGES.get(exc.status_code, ("请求失败", "Request failed"))
    body = {"error": {"code": f"http_{exc.status_code}", "message_zh": zh, "message_en": en}}
    return _respond(request, exc.status_code, body)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    body = {
        "error": {
            "code": "internal",
            "message_zh": "服务器内部错误，已记录。请稍后重试。",
            "message_en": "Internal server error. It has been logged; please retry later.",
        }
    }
    return _respond(request, 500, body)


def error_handlers() -> dict:
    return {AppError: app_error, HTTPException: http_error, Exception: server_error}
