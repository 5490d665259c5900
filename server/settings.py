"""Settings read from the environment once, at start-up.

Every setting has a default and help text; `docs/settings.md` lists them and a test keeps the
two in step.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "XUNJIAN_"


def _setting(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class Settings:
    database_url: str = _setting(
        "sqlite:///./xunjian.db",
        "SQLAlchemy URL. SQLite runs in WAL mode with foreign keys on; "
        "PostgreSQL works through postgresql+psycopg://user@host/db.",
    )
    data_dir: str = _setting(
        "./xunjian-data", "Folder for photos (content-addressed) and the generated secret key."
    )
    secret_key: str = _setting(
        "", "Secret for signing. Empty: generated on first run and kept in DATA_DIR/secret_key."
    )
    max_blob_bytes: int = _setting(
        10 * 1024 * 1024, "Largest photo the server accepts, in bytes (advertised to clients)."
    )
    token_days: int = _setting(60, "How long a device token stays valid, in days.")
    sync_page_size: int = _setting(500, "Most changes one /api/sync reply carries.")
    log_level: str = _setting("info", "Log level for the server.")
    db_wait_seconds: int = _setting(
        30,
        "How long a request waits for a database connection or SQLite's write lock before "
        "it is answered 503 server_busy with Retry-After (the phone then sends it again).",
    )
    upload_idle_seconds: int = _setting(
        60,
        "A photo upload whose body stops arriving for this many seconds ends; the bytes "
        "that arrived are kept and the phone continues from there.",
    )
    partial_upload_hours: int = _setting(
        12,
        "Partial photo uploads untouched for this many hours are deleted (the phone starts "
        "that photo again); the server sweeps them hourly.",
    )
    map_tiles: str = _setting(
        "",
        "Tile URL template for the compliance map, e.g. Tianditu's with its key "
        "(…/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY). Empty: the map draws on a plain "
        "background with the township boundaries, and no request leaves the server.",
    )
    map_attribution: str = _setting(
        "", "Credit line shown on the map for the tile server (e.g. 天地图 GS(2024)0568号)."
    )
    login_failures_per_account: int = _setting(
        10, "Failed logins an account may have in 15 minutes before logins to it wait."
    )
    login_failures_per_address: int = _setting(
        50, "Failed logins one network address may have in 15 minutes before it waits."
    )
    sync_per_minute: int = _setting(
        300, "Sync requests one device may make per minute (per server process)."
    )
    tls_proxy: int = _setting(
        0, "1 when a proxy that terminates TLS forwards to this server: cookies are Secure."
    )
    lang: str = _setting(
        "zh-CN",
        "Language of the command line, and of the office pages for a reader who chose none "
        "(zh-CN or en).",
    )

    def __post_init__(self) -> None:
        if self.tls_proxy not in (0, 1):
            raise SystemExit(f"{ENV_PREFIX}TLS_PROXY must be 0 or 1, got {self.tls_proxy!r}")
        if self.lang not in ("zh-CN", "en"):
            raise SystemExit(f"{ENV_PREFIX}LANG must be zh-CN or en, got {self.lang!r}")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        env = dict(os.environ) if env is None else env
        values: dict = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if isinstance(f.default, int):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise SystemExit(
                        f"{ENV_PREFIX}{f.name.upper()} must be an integer, got {raw!r}"
                    ) from None
            else:
                values[f.name] = raw
        values.update(overrides)
        return cls(**values)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    def resolved_secret(self) -> str:
        """The configured secret, else one generated once and kept beside the photos."""
        if self.secret_key:
            if self.secret_key in {"change-me", "secret", "changeme"}:
                raise SystemExit("XUNJIAN_SECRET_KEY is a placeholder; set a real secret")
            return self.secret_key
        path = self.data_path / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_path.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def documented_settings() -> list[tuple[str, object, str]]:
    return [(ENV_PREFIX + f.name.upper(), f.default, f.metadata["help"]) for f in fields(Settings)]
