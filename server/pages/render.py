"""Rendering a page: the Jinja environment (built once, in `create_app`) and the context
every template can count on.

Every page is rendered in one language, the reader's (`pages/lang.py`). Templates never hold
words: they call `_("key", **params)`, which reads the catalog (`server/i18n`). Undefined
variables raise (StrictUndefined), so a page that forgets to pass something fails in the
tests, not in front of a supervisor.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server import i18n
from server.pages import format as fmt
from server.pages.lang import LANG_COOKIE, remember_lang, request_lang
from server.services import web_session
from server.services.web_session import Viewer, WebSession

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def build_environment() -> Environment:
    """The Jinja environment for every page; language-free helpers are filters here."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=-1,  # never evict: an evicted template would be read again on the loop
    )
    env.filters["local_time"] = fmt.local_time
    env.filters["percent"] = fmt.percent
    env.filters["number"] = fmt.number
    env.filters["pretty_json"] = fmt.pretty_json
    # Every template is read and compiled here, at start-up: a page rendered later touches no
    # file on the event loop (auto_reload off: no stat per render either).
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    return env


def _catalogued(say: Callable[..., str], key: str, code: str) -> str:
    """A stored code (an audit action, a version note) in words where the catalog has them;
    the code itself otherwise, so a code added later still shows rather than failing."""
    return say(key) if i18n.has(key) else code


def language_helpers(lang: str) -> dict[str, Any]:
    """What a template uses to speak one language: `_` for catalog keys, `L` for a
    template's bilingual labels (and stored pairs), `show` and `label` for record fields."""
    say = i18n.translator(lang)
    return {
        "lang": lang,
        "_": say,
        "audit_action": lambda code: _catalogued(say, f"audit.action.{code}", code),
        "version_note": lambda code: _catalogued(say, f"checklist.note.{code}", code),
        "fu_reason": lambda code: _catalogued(say, f"followups.reason.{code}", code),
        "L": partial(fmt.label_text, lang),
        "pick": partial(i18n.pick, lang),
        "show": partial(fmt.show, lang),
        "label": partial(fmt.label, lang),
        "device_label": partial(fmt.device_label, lang),
        "reason": partial(fmt.reason, lang),
        "other_langs": [(code, i18n.LANG_NAMES[code]) for code in i18n.LANGS if code != lang],
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    who: Viewer | None = None,
    session: WebSession | None = None,
    status: int = 200,
) -> Response:
    """A page in the reader's language. `viewer`, `csrf` (the nav's forms) and the language
    helpers are always in its context."""
    env: Environment = request.app.state.pages
    session = session or (who.session if who else None)
    lang = request_lang(request, who)
    ctx = {
        "viewer": who,
        "csrf": web_session.csrf_token(request.app.state.secret, session) if session else "",
        "here": _here(request),
        **language_helpers(lang),
        **context,
    }
    body = env.get_template(name).render(ctx)
    response = HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)
    if request.query_params.get("lang") and request.cookies.get(LANG_COOKIE) != lang:
        remember_lang(request, response, lang)
    return response


def _here(request: Request) -> str:
    """This page's path and query without `lang`: where the language switch comes back to."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    return request.url.path + ("?" + query if query else "")
