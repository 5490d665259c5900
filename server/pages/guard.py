"""Who is reading a page: the signed session cookie, the login guard and the CSRF check.

Every office page is wrapped in `@page`: anonymous visitors go to /login and come back
afterwards; the handler receives the `Viewer` (user, area, scope, session). Every POST form
goes through `checked_form`, which refuses a form without this session's CSRF token.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.db import session_scope
from server.errors import Forbidden
from server.middleware import over_tls
from server.services import web_session
from server.services.web_session import Viewer, WebSession
from sync.text import scrub

Handler = Callable[[Request, Viewer], Awaitable[Response]]


def secret(request: Request) -> str:
    return request.app.state.secret


def cookie_session(request: Request) -> WebSession | None:
    return web_session.decode(secret(request), request.cookies.get(web_session.COOKIE))


def set_session_cookie(request: Request, response: Response, session: WebSession) -> None:
    response.set_cookie(
        web_session.COOKIE,
        web_session.encode(secret(request), session),
        max_age=web_session.MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=over_tls(request),
    )


async def current_viewer(request: Request) -> Viewer | None:
    session = cookie_session(request)
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
        target = web_session.HOME
    login = "/login?next=" + quote(target, safe="/")
    lang = request.query_params.get("lang")
    if lang:  # the login page speaks the language the visitor asked for
        login += "&lang=" + quote(lang[:8])
    return RedirectResponse(login, status_code=303)


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap an office page: anonymous visitors go to the login page, then come back."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        who = await current_viewer(request)
        if who is None:
            return login_redirect(request)
        return await handler(request, who)

    return wrapped


def csrf_failed() -> Forbidden:
    return Forbidden(code="csrf_failed")


async def checked_form(request: Request, who: Viewer) -> FormData:
    """The posted form, after checking its CSRF token against the viewer's session."""
    form = await request.form(max_files=0, max_fields=200)
    if not web_session.csrf_ok(secret(request), who.session, form.get("csrf")):
        raise csrf_failed()
    return form


def form_text(form: FormData, key: str, max_len: int) -> str:
    """A text field of a posted form, cut to `max_len` ("" when absent or a file). A NUL
    (which PostgreSQL refuses deep in a query) shows as U+FFFD instead."""
    value = form.get(key)
    return scrub(value[:max_len]) if isinstance(value, str) else ""


def page_number(request: Request) -> int:
    """`?page=` of a paged list: 1 when absent or nonsense."""
    try:
        return max(1, min(10_000, int(request.query_params.get("page", 1))))
    except ValueError:
        return 1
