"""/admin/users: people on the web (list, create, role and area, disable, reset a password,
their devices). Parse, call one service (user_admin, device_admin), render."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.db import db_int
from server.errors import AppError
from server.pages.guard import checked_form, form_text, page
from server.pages.render import render
from server.routes.admin_common import with_rights
from server.services import device_admin, user_admin
from server.services.admin_rights import areas_here
from server.services.web_session import Viewer

FIELDS = ("username", "display_name", "role", "area", "password")


def _user_id(request: Request) -> int:
    found = db_int(request.path_params["user_id"])
    return -1 if found is None else found


@page
async def user_list(request: Request, who: Viewer) -> Response:
    role = request.query_params.get("role", "")
    q = request.query_params.get("q", "")[:64]

    def run(db, rights):
        return {
            "rows": user_admin.list_users(db, rights, role=role, q=q),
            "rights": rights,
            "role": role,
            "q": q,
            "notice": request.query_params.get("notice", ""),
        }

    ctx = await with_rights(request, who, run)
    return render(request, "admin/users.html", {"section": "users", **ctx}, who=who)


def _form_context(db, rights, **extra):
    return {"areas": areas_here(db, rights.scope), "rights": rights, "section": "users", **extra}


@page
async def user_new(request: Request, who: Viewer) -> Response:
    ctx = await with_rights(
        request,
        who,
        lambda db, rights: _form_context(db, rights, values=dict.fromkeys(FIELDS, ""), error=None),
    )
    return render(request, "admin/user_new.html", ctx, who=who)


@page
async def user_create(request: Request, who: Viewer) -> Response:
    form = await checked_form(request, who)
    values = {k: form_text(form, k, 64) for k in FIELDS}

    def run(db, rights):
        user, password = user_admin.create_user(
            db,
            rights,
            username=values["username"],
            display_name=values["display_name"],
            role=values["role"],
            area_code=values["area"],
            password=values["password"],
        )
        return user.id, password

    try:
        user_id, password = await with_rights(request, who, run, write=True)
    except AppError as exc:
        error = exc
    else:
        return await _user_page(request, who, user_id, created_password=password)
    ctx = await with_rights(
        request, who, lambda db, rights: _form_context(db, rights, values=values, error=error)
    )
    return render(request, "admin/user_new.html", ctx, who=who, status=error.status)


async def _user_page(request, who, user_id, *, error=None, status=200, **notice) -> Response:
    def run(db, rights):
        row = user_admin.one(db, rights, user_id)
        devices = [d for d in device_admin.in_scope(db, rights.scope) if d.user.id == user_id]
        return _form_context(db, rights, row=row, devices=devices, error=error, **notice)

    ctx = await with_rights(request, who, run)
    ctx.setdefault("created_password", None)
    ctx.setdefault("new_password", None)
    ctx.setdefault("notice", request.query_params.get("notice", ""))
    return render(request, "admin/user.html", ctx, who=who, status=status)


@page
async def user_detail(request: Request, who: Viewer) -> Response:
    return await _user_page(request, who, _user_id(request))


@page
async def user_update(request: Request, who: Viewer) -> Response:
    user_id = _user_id(request)
    form = await checked_form(request, who)

    def run(db, rights):
        return user_admin.update_user(
            db,
            rights,
            user_id,
            display_name=form_text(form, "display_name", 64),
            role=form_text(form, "role", 16),
            area_code=form_text(form, "area", 12),
        )

    try:
        changes = await with_rights(request, who, run, write=True)
    except AppError as exc:
        if exc.status == 404:
            raise
        return await _user_page(request, who, user_id, error=exc, status=exc.status)
    notice = "saved" if changes else "unchanged"
    return RedirectResponse(f"/admin/users/{user_id}?notice={notice}", status_code=303)


@page
async def user_active(request: Request, who: Viewer) -> Response:
    user_id = _user_id(request)
    form = await checked_form(request, who)
    active = form_text(form, "active", 8) == "1"
    await with_rights(
        request, who, lambda db, r: user_admin.set_active(db, r, user_id, active), write=True
    )
    notice = "enabled" if active else "disabled"
    return RedirectResponse(f"/admin/users/{user_id}?notice={notice}", status_code=303)


@page
async def user_password(request: Request, who: Viewer) -> Response:
    user_id = _user_id(request)
    await checked_form(request, who)
    password = await with_rights(
        request, who, lambda db, r: user_admin.reset_password(db, r, user_id), write=True
    )
    return await _user_page(request, who, user_id, new_password=password)


@page
async def user_device_revoke(request: Request, who: Viewer) -> Response:
    user_id = _user_id(request)
    device_id = request.path_params["device_id"]
    await checked_form(request, who)

    def run(db, rights):
        rights.require("users")
        row = device_admin.one(db, rights.scope, device_id)
        if row.user.id != user_id:
            from server.errors import NotFound

            raise NotFound("error.device_not_found")
        return device_admin.revoke(db, rights.scope, device_id, via="admin")[1]

    done = await with_rights(request, who, run, write=True)
    notice = "revoked" if done else "already_revoked"
    return RedirectResponse(f"/admin/users/{user_id}?notice={notice}", status_code=303)


routes = [
    Route("/admin/users", user_list, methods=["GET"]),
    Route("/admin/users/new", user_new, methods=["GET"]),
    Route("/admin/users/new", user_create, methods=["POST"]),
    Route("/admin/users/{user_id:int}", user_detail, methods=["GET"]),
    Route("/admin/users/{user_id:int}", user_update, methods=["POST"]),
    Route("/admin/users/{user_id:int}/active", user_active, methods=["POST"]),
    Route("/admin/users/{user_id:int}/password", user_password, methods=["POST"]),
    Route(
        "/admin/users/{user_id:int}/devices/{device_id}/revoke",
        user_device_revoke,
        methods=["POST"],
    ),
]
