"""GET /openapi.json: the one description of the /api routes (filled in server/openapi.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.openapi import spec


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(spec(request.app.state.settings))


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
