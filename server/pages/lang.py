"""Which language a page speaks: one at a time, Chinese unless the reader chose English.

The choice, strongest first: `?lang=` on the request (a shared link; it is remembered), the
`xj_lang` cookie (set by the switch in the header, and at login from the account), the
account's own preference (`User.lang`), else the server's `XUNJIAN_LANG` (zh-CN). The
browser's Accept-Language is not asked: county offices run browsers in every language, and
the product speaks Chinese first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from server.i18n import DEFAULT_LANG, normalize_lang
from server.middleware import over_tls

if TYPE_CHECKING:
    from server.services.web_session import Viewer

LANG_COOKIE = "xj_lang"
LANG_MAX_AGE = 365 * 24 * 3600


def request_lang(request: Request, who: Viewer | None = None) -> str:
    """The language of this request's page (or error page)."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        lang = normalize_lang(value)
        if lang:
            return lang
    if who is not None:
        lang = normalize_lang(who.user.lang)
        if lang:
            return lang
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "lang", DEFAULT_LANG)


def remember_lang(request: Request, response: Response, lang: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=over_tls(request),
    )
