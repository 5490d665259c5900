"""What every /admin page shares: the viewer's rights, one database call in the thread pool,
and a form's dates and files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from server.db import session_scope
from server.errors import BadRequest
from server.services.admin_rights import Rights, rights_of
from server.services.web_session import Viewer

T = TypeVar("T")
MAX_UPLOAD = 20 * 1024 * 1024  # a county register or boundary file is far smaller


async def with_rights(
    request: Request, who: Viewer, fn: Callable[[Any, Rights], T], *, write: bool = False
) -> T:
    """Run `fn(session, rights)` in the thread pool, in one transaction."""

    def run() -> T:
        with session_scope(request.app.state.engine, write=write) as db:
            return fn(db, rights_of(db, who.scope))

    return await run_in_threadpool(run)


def form_date(form: FormData, key: str, *, required: bool = True) -> date | None:
    raw = form.get(key)
    if not isinstance(raw, str) or not raw.strip():
        if required:
            raise BadRequest("error.date_required", field=key)
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest("error.bad_date", field=key, value=raw[:20]) from None


async def upload_form(request: Request, who: Viewer) -> tuple[FormData, bytes, str]:
    """A multipart form with one file (`file`), after its CSRF check: (form, bytes, name)."""
    from server.pages.guard import csrf_failed, secret
    from server.services import web_session

    form = await request.form(max_files=1, max_fields=50, max_part_size=MAX_UPLOAD)
    if not web_session.csrf_ok(secret(request), who.session, form.get("csrf")):
        raise csrf_failed()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest("error.file_required", field="file")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise BadRequest("error.file_too_big", field="file", max=MAX_UPLOAD // (1024 * 1024))
    return form, data, upload.filename or ""
