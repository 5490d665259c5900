"""/login and /logout for supervisors and admins in a desktop browser, and the guard that
every /review page goes through (session cookie, CSRF, page rendering).

Inspectors log in on the phone app instead (/app/); the web login tells them so politely.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from server.db import session_scope
from server.errors import Forbidden
from server.models import User
from server.services import audit, web_session
from server.services.web_session import Viewer, WebSession

log = logging.getLogger("xunjian")

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))

ROLE_NAMES = {"supervisor": ("主管", "Supervisor"), "admin": ("管理员", "Admin")}
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

Handler = Callable[[Request, Viewer], Awaitable[Response]]


def _secret(request: Request) -> str:
    return request.app.state.secret


def _cookie_session(request: Request) -> WebSession | None:
    return web_session.decode(_secret(request), request.cookies.get(web_session.COOKIE))


def set_session_cookie(request: Request, response: Response, session: WebSession) -> None:
    response.set_cookie(
        web_session.COOKIE,
        web_session.encode(_secret(request), session),
        max_age=web_session.MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    who: Viewer | None = None,
    session: WebSession | None = None,
    status: int = 200,
) -> Response:
    """A page; `csrf` and `viewer` are always in its context (the nav's logout form)."""
    session = session or (who.session if who else None)
    ctx = {
        "viewer": who,
        "role_names": ROLE_NAMES,
        "csrf": web_session.csrf_token(_secret(request), session) if session else "",
        **context,
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status, headers=_PAGE_HEADERS)


async def current_viewer(request: Request) -> Viewer | None:
    session = _cookie_session(request)
    if session is None or session.user_id is None:
        return None

    def run() -> Viewer | None:
        with session_scope(request.app.state.engine) as db:
            return web_session.viewer(db, session)

    return await run_in_threadpool(run)


def login_redirect(request: Request) -> RedirectResponse:
    # After a POST the original URL is an action, not a page: go back to the overview.
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET":
        target = "/review"
    return RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=303)


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a /review handler: anonymous visitors go to the login page, then come back."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        who = await current_viewer(request)
        if who is None:
            return login_redirect(request)
        return await handler(request, who)

    return wrapped


async def checked_form(request: Request, who: Viewer) -> FormData:
    """The posted form, after checking its CSRF token against the viewer's session."""
    form = await request.form(max_files=0, max_fields=200)
    if not web_session.csrf_ok(_secret(request), who.session, form.get("csrf")):
        raise csrf_failed()
    return form


def csrf_failed() -> Forbidden:
    return Forbidden(
        "表单已过期或来源不明，请刷新页面后重试。",
        "The form has expired or did not come from this site; reload the page and retry.",
        code="csrf_failed",
    )


def _login_page(
    request: Request,
    session: WebSession,
    *,
    next_url: str,
    error: str | None = None,
    username: str = "",
    status: int = 200,
    new_cookie: bool = False,
) -> Response:
    resp = render(
        request,
        "login.html",
        {
            "next": next_url,
            "error": error,
            "username": username,
            "bye": "bye" in request.query_params,
        },
        session=session,
        status=status,
    )
    if new_cookie:
        set_session_cookie(request, resp, session)
    return resp


async def login_form(request: Request) -> Response:
    next_url = web_session.safe_next(request.query_params.get("next"))
    if await current_viewer(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    session = _cookie_session(request)
    if session is None:
        return _login_page(request, web_session.new_session(), next_url=next_url, new_cookie=True)
    return _login_page(request, session, next_url=next_url)


async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    next_url = web_session.safe_next(_text(form, "next", 2000))
    username = _text(form, "username", 64).strip()
    password = _text(form, "password", 256)
    session = _cookie_session(request)
    if not web_session.csrf_ok(_secret(request), session, form.get("csrf")):
        # Mostly a login page left open past the session's life: show it again, fresh.
        return _login_page(
            request,
            web_session.new_session(),
            next_url=next_url,
            error="expired",
            username=username,
            status=403,
            new_cookie=True,
        )
    assert session is not None

    def run() -> tuple[str, User | None]:
        with session_scope(request.app.state.engine, write=True) as db:
            user = db.exec(select(User).where(User.username == username)).first()
            ok = bool(username and password) and web_session.check_password(user, password)
            if not ok or user is None or not user.active:
                return "bad_credentials", None
            if user.role not in web_session.WEB_ROLES:
                return "inspector", None
            audit.record(db, "web.login", user_id=user.id, target_type="user", target_id=user.id)
            return "ok", user

    outcome, user = await run_in_threadpool(run)
    if user is None:
        log.info("web login refused (%s) for %r", outcome, username[:64])
        status = 403 if outcome == "inspector" else 401
        return _login_page(
            request, session, next_url=next_url, error=outcome, username=username, status=status
        )
    resp = RedirectResponse(next_url, status_code=303)
    set_session_cookie(request, resp, web_session.new_session(user))
    return resp


async def logout(request: Request) -> Response:
    session = _cookie_session(request)
    form = await request.form(max_files=0, max_fields=20)
    if not web_session.csrf_ok(_secret(request), session, form.get("csrf")):
        raise csrf_failed()
    assert session is not None
    if session.user_id is not None:

        def run() -> None:
            with session_scope(request.app.state.engine, write=True) as db:
                if db.get(User, session.user_id) is not None:
                    audit.record(
                        db,
                        "web.logout",
                        user_id=session.user_id,
                        target_type="user",
                        target_id=session.user_id,
                    )

        await run_in_threadpool(run)
    resp = RedirectResponse("/login?bye=1", status_code=303)
    resp.delete_cookie(web_session.COOKIE, path="/", httponly=True, samesite="lax")
    return resp


def _text(form: FormData, key: str, max_len: int) -> str:
    value = form.get(key)
    return value[:max_len] if isinstance(value, str) else ""


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
