"""One small error hierarchy; each error carries a code and a message in Chinese and English.

One handler turns them into JSON for /api paths and a page elsewhere, so no stack trace
ever reaches a user.
"""

from __future__ import annotations


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        field: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        if code:
            self.code = code
        self.field = field
        self.extra = extra or {}

    def to_dict(self) -> dict:
        body = {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en}
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
    code = "too_large"


class Unprocessable(AppError):
    status = 422
    code = "invalid"
