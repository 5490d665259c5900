"""One small error hierarchy; each error carries a machine-readable code and a message key.

The message lives in the catalog (`server/i18n`), never in the raise: the JSON API answers
with both languages (`message_zh`, `message_en`, so a phone shows its own), a page with the
reader's one. One handler (`server/handlers.py`) turns every error into one or the other, so
no stack trace ever reaches a user.
"""

from __future__ import annotations

from typing import Any, Self

from server import i18n


class AppError(Exception):
    """`key` is a catalog key (`error.<code>` when omitted); `params` fill its placeholders."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        key: str | None = None,
        /,
        *,
        code: str | None = None,
        field: str | None = None,
        status: int | None = None,
        extra: dict | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ):
        if code:
            self.code = code
        if status:
            self.status = status
        self.key = key or f"error.{self.code}"
        self.field = field
        self.extra = extra or {}
        self.headers = headers or {}  # e.g. Retry-After on a 429 or 503
        self.params = params
        super().__init__(f"{self.code}: {self.message('en')}")

    @classmethod
    def protocol(
        cls,
        code: str,
        field: str | None = None,
        *,
        status: int | None = None,
        extra: dict | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> Self:
        """An error whose words are the sync protocol's (`sync/errors.py`)."""
        return cls(
            i18n.PROTOCOL + code,
            code=code,
            field=field,
            status=status,
            extra=extra,
            headers=headers,
            **params,
        )

    def message(self, lang: str) -> str:
        return i18n.text(lang, self.key, field=self.field, **self.params)

    def to_dict(self) -> dict:
        zh, en = i18n.both(self.key, field=self.field, **self.params)
        body: dict[str, Any] = {"code": self.code, "message_zh": zh, "message_en": en}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return {"error": body}


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "body_too_large"
