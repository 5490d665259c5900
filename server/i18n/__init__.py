"""The server's message catalog: every word a person reads on a page, in the CLI or in an
error, looked up by key in `zh-CN.json` or `en.json` (one language at a time).

Why flat JSON keys and not gettext: the field app already keeps its words this way
(`pwa/i18n/*.json`), so both catalogs read alike; nothing is compiled at install time; and a
missing key is a plain set difference that a test checks. Keys under `protocol.` are the sync
protocol's own messages (`sync/errors.py`), which phones show without asking the server, so
each message still has one home.

Placeholders are `{name}`. A message that counts something in English may be an object
`{"one": ..., "other": ...}`, chosen by the `n` parameter. An unknown key shows itself and
warns (`MissingMessage`); the test suite turns that warning into a failure.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from sync.errors import MESSAGES as PROTOCOL_MESSAGES

LANGS = ("zh-CN", "en")
DEFAULT_LANG = "zh-CN"
PROTOCOL = "protocol."
LANG_NAMES = {"zh-CN": "中文", "en": "English"}


class MissingMessage(UserWarning):
    """A key that no catalog holds: a bug, shown as the key rather than a crash."""


def normalize_lang(value: object) -> str | None:
    """`zh-CN` or `en` for the spellings people and browsers use; None for anything else."""
    if not isinstance(value, str):
        return None
    v = value.strip().lower().replace("_", "-")
    if v in ("zh", "zh-cn", "zh-hans", "zh-hans-cn", "cn"):
        return "zh-CN"
    if v == "en" or v.startswith("en-"):
        return "en"
    return None


@cache
def catalog(lang: str) -> dict[str, Any]:
    """The messages of one language (read once per process)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    raw = resources.files(__package__).joinpath(f"{lang}.json").read_text(encoding="utf-8")
    return json.loads(raw)


def has(key: str) -> bool:
    if key.startswith(PROTOCOL):
        return key[len(PROTOCOL) :] in PROTOCOL_MESSAGES
    return key in catalog(DEFAULT_LANG)


class _Keep(dict):
    """Placeholders without a value stay visible ({name}) instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _pattern(lang: str, key: str, params: dict[str, Any]) -> str:
    if key.startswith(PROTOCOL):
        pair = PROTOCOL_MESSAGES.get(key[len(PROTOCOL) :])
        if pair is not None:
            return pair[0] if lang == "zh-CN" else pair[1]
    else:
        value = catalog(lang).get(key)
        if isinstance(value, dict):
            return value["one"] if params.get("n") == 1 else value["other"]
        if isinstance(value, str):
            return value
    warnings.warn(f"no message {key!r} in {lang}", MissingMessage, stacklevel=3)
    return key


def text(lang: str, key: str, /, **params: Any) -> str:
    """The message `key` in `lang` with its placeholders filled."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    pattern = _pattern(lang, key, params)
    if not params:
        return pattern
    return pattern.format_map(_Keep({k: _shown(lang, v) for k, v in params.items()}))


def both(key: str, /, **params: Any) -> tuple[str, str]:
    """(Chinese, English): what the JSON API sends, so a phone can show either."""
    return text("zh-CN", key, **params), text("en", key, **params)


def _shown(lang: str, value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ("、" if lang == "zh-CN" else ", ").join(str(v) for v in value)
    return "" if value is None else value


Translate = Callable[..., str]


def translator(lang: str) -> Translate:
    """`_(key, **params)` bound to one language, for templates and the CLI."""

    def _(key: str, /, **params: Any) -> str:
        return text(lang, key, **params)

    return _


def pick(lang: str, zh: str | None, en: str | None) -> str:
    """One of a stored pair (a checklist label, a quarantined op's message) in `lang`."""
    if lang == "en":
        return en or zh or ""
    return zh or en or ""
