"""Shared pieces for the sync tests that run against the real app and databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import select

from server.db import session_scope
from server.models import ChecklistTemplate, ServicePoint, TemplateVersion
from sync.transport import Response, TransportError
from tests.logins import api_login
from tests.sync.factories import inspection


class TestClientTransport:
    """The reference client's Transport over Starlette's in-process TestClient."""

    __test__ = False

    def __init__(self, client) -> None:
        self.client = client

    def request(self, method, path, headers, body):
        try:
            r = self.client.request(method, path, headers=headers, content=body)
        except OSError as exc:  # pragma: no cover - in-process calls do not fail this way
            raise TransportError(str(exc)) from None
        hdrs = {k.lower(): v for k, v in r.headers.items()}
        hdrs.pop("content-encoding", None)  # httpx already decoded the body
        return Response(r.status_code, hdrs, r.content)


def village(engine, n: int = 0) -> tuple[str, int]:
    """(point code, template version) of the n-th demo village service point."""
    with session_scope(engine) as s:
        codes = s.exec(
            select(ServicePoint.code)
            .where(ServicePoint.kind == "village")
            .order_by(ServicePoint.code)
        ).all()
        version = s.exec(
            select(TemplateVersion.version)
            .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
            .where(ChecklistTemplate.key == "village_point")
            .order_by(TemplateVersion.version.desc())
        ).first()
    return codes[n], version


def record(point_code: str, version: int, device: str = "d-1", **over) -> dict:
    """An inspection record for a real demo point (see factories.inspection)."""
    fields = {
        "point_code": point_code,
        "template_version": version,
        "device_id": device,
        "started_at": datetime(2026, 11, 26, 8, tzinfo=UTC).isoformat(),
    }
    return inspection(**{**fields, **over})


def submitted(rec: dict) -> dict:
    return {
        **rec,
        "status": "submitted",
        "submitted_at": datetime(2026, 11, 26, 9, tzinfo=UTC).isoformat(),
    }


HLC = "0001764144000000:0000:d-1"


def login(client, user="inspector", device="d-1"):
    return api_login(client, user, device)


def op(rec, base_rev=0, hlc=HLC, **over):
    out = {
        "op_id": str(uuid.uuid4()),
        "type": "inspection.put",
        "record_id": rec["id"],
        "base_rev": base_rev,
        "hlc": hlc,
        "data": rec,
    }
    out.update(over)
    return out


def sync(client, headers, *ops, cursor=None, device="d-1"):
    r = client.post(
        "/api/sync",
        headers=headers,
        json={"protocol": 1, "device_id": device, "cursor": cursor, "ops": list(ops)},
    )
    assert r.status_code == 200, r.text
    return r.json()
