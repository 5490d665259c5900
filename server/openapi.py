"""The OpenAPI 3.1 description of the HTTP API. Placeholder; completed below."""

from __future__ import annotations


def spec(settings) -> dict:
    return {"openapi": "3.1.0", "info": {"title": "Xunjian", "version": "1"}, "paths": {}}
