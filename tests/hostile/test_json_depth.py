"""The depth limit on JSON bodies (server/routes/api_common._too_deep), read level by level."""

from __future__ import annotations

from server.routes.api_common import MAX_DEPTH, _too_deep


def nested(depth: int):
    value: object = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def test_depth_limit_counts_containers():
    assert not _too_deep(nested(MAX_DEPTH))
    assert _too_deep(nested(MAX_DEPTH + 1))
    assert not _too_deep("scalar")
    # width is not depth: a wide, shallow batch passes
    assert not _too_deep({"ops": [{"data": {"answers": {str(i): i}}} for i in range(500)]})
