"""/login and /logout for supervisors and admins in a desktop browser; /lang switches the
language of the office pages.

Inspectors log in on the phone app instead (/app/); the web login tells them so politely.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.db import session_scope
from server.errors import AppError
from server.i18n import normalize_lang
from server.models import User
from server.pages.guard import (
    cookie_session,
    csrf_failed,
    current_viewer,
    form_text,
    secret,
    set_session_cookie,
)
from server.pages.lang import remember_lang
from server.pages.render import render
from server.services import auth, rate_limits, web_session
from server.services.web_session import WebSession

log = logging.getLogger("xunjian")


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
    context = {
        "next": next_url,
        "error": error,
        "username": username,
        "bye": "bye" in request.query_params,
    }
    resp = render(request, "login.html", context, session=session, status=status)
    if new_cookie:
        set_session_cookie(request, resp, session)
    return resp


async def login_form(request: Request) -> Response:
    next_url = web_session.safe_next(request.query_params.get("next"))
    if await current_viewer(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    session = cookie_session(request)
    if session is None:
        return _login_page(request, web_session.new_session(), next_url=next_url, new_cookie=True)
    return _login_page(request, session, next_url=next_url)


async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    next_url = web_session.safe_next(form_text(form, "next", 2000))
    username = form_text(form, "username", 64).strip()
    password = form_text(form, "password", 256)
    session = cookie_session(request)
    if not web_session.csrf_ok(secret(request), session, form.get("csrf")):
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

    engine = request.app.state.engine
    address = request.client.host if request.client else ""

    limits = rate_limits.of_settings(request.app.state.settings)

    async def attempt() -> tuple[str, User | None]:
        verified = await auth.verified_hash(
            engine,
            username,
            password,
            lambda: rate_limits.check(engine, limits, username, address),
        )

        def enter() -> tuple[str, User | None]:
            with session_scope(engine, write=True) as db:
                return web_session.log_in(db, username, password, verified)

        return await run_in_threadpool(enter)

    try:
        outcome, user = await rate_limits.guarded(
            engine,
            limits,
            username,
            address,
            attempt,
            lambda result, _: result is not None and result[0] == "bad_credentials",
        )
    except AppError as exc:
        if exc.status != 429:
            raise
        resp = _login_page(
            request, session, next_url=next_url, error="too_many", username=username, status=429
        )
        resp.headers.update(exc.headers)
        return resp
    if user is None:
        log.info("web login refused (%s) for %r", outcome, username[:64])
        status = 403 if outcome == "inspector" else 401
        return _login_page(
            request, session, next_url=next_url, error=outcome, username=username, status=status
        )
    resp = RedirectResponse(next_url, status_code=303)
    set_session_cookie(request, resp, web_session.new_session(user))
    lang = normalize_lang(user.lang)
    if lang:
        remember_lang(request, resp, lang)
    return resp


async def logout(request: Request) -> Response:
    session = cookie_session(request)
    form = await request.form(max_files=0, max_fields=20)
    if not web_session.csrf_ok(secret(request), session, form.get("csrf")):
        raise csrf_failed()
    assert session is not None
    user_id = session.user_id
    if user_id is not None:

        def run() -> None:
            with session_scope(request.app.state.engine, write=True) as db:
                web_session.log_out(db, user_id)

        await run_in_threadpool(run)
    resp = RedirectResponse("/login?bye=1", status_code=303)
    resp.delete_cookie(web_session.COOKIE, path="/", httponly=True, samesite="lax")
    return resp


async def switch_language(request: Request) -> Response:
    """The header's language switch. Everyone gets the cookie; a logged-in reader's choice
    is also kept on their account (behind the CSRF check, as every change is)."""
    form = await request.form(max_files=0, max_fields=20)
    lang = normalize_lang(form.get("lang"))
    next_url = web_session.safe_next(form_text(form, "next", 2000), default="/")
    resp = RedirectResponse(next_url, status_code=303)
    if lang is None:
        return resp
    who = await current_viewer(request)
    if who is not None:
        if not web_session.csrf_ok(secret(request), who.session, form.get("csrf")):
            raise csrf_failed()
        user_id = who.user.id
        assert user_id is not None

        def run() -> None:
            with session_scope(request.app.state.engine, write=True) as db:
                web_session.set_language(db, user_id, lang)

        await run_in_threadpool(run)
    remember_lang(request, resp, lang)
    return resp


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang", switch_language, methods=["POST"]),
]
