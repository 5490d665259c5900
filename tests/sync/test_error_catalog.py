"""Every rejection code the protocol documents has messages in sync/errors.py and a reason
in both of the field app's catalogs (the outbox screen shows `reject.<code>`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sync.errors import MESSAGES

ROOT = Path(__file__).resolve().parents[2]


def _documented_rejections() -> list[str]:
    doc = (ROOT / "docs/sync-protocol.md").read_text()
    table = doc.split("Rejection codes", 1)[1].split("Messages for every code", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M)


def test_documented_rejection_codes_have_messages_and_field_app_reasons():
    codes = _documented_rejections()
    assert "point_inactive" in codes and "out_of_scope" in codes
    for lang in ("zh-CN", "en"):
        catalog = json.loads((ROOT / f"pwa/i18n/{lang}.json").read_text())
        missing = [c for c in codes if f"reject.{c}" not in catalog]
        assert not missing, f"{lang}: no reason for {missing}"
    assert [c for c in codes if c not in MESSAGES] == []
