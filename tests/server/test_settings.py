from pathlib import Path

import pytest

from server.settings import Settings, documented_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_is_documented():
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name, _, _ in documented_settings() if name not in text]
    assert missing == []


def test_env_overrides_and_bad_integer():
    s = Settings.from_env(env={"XUNJIAN_MAX_BLOB_BYTES": "1024", "XUNJIAN_DATA_DIR": "/tmp/x"})
    assert s.max_blob_bytes == 1024 and s.data_dir == "/tmp/x"
    with pytest.raises(SystemExit, match="XUNJIAN_TOKEN_DAYS"):
        Settings.from_env(env={"XUNJIAN_TOKEN_DAYS": "soon"})


def test_secret_is_generated_once_and_kept(tmp_path):
    s = Settings.from_env(env={}, data_dir=str(tmp_path))
    first = s.resolved_secret()
    assert len(first) > 40
    assert Settings.from_env(env={}, data_dir=str(tmp_path)).resolved_secret() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_placeholder_secret_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="placeholder"):
        Settings.from_env(env={}, data_dir=str(tmp_path), secret_key="change-me").resolved_secret()
