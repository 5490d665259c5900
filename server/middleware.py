"""What every request and response passes through: security headers and a body size limit.

Both are plain ASGI (no BaseHTTPMiddleware): nothing here waits on anything but the
client, and a streamed photo upload stays streamed.

- Headers. A Content-Security-Policy on every response, office page or field app: scripts
  only from our own origin (no inline script, no eval, so an injected `<script>` in a
  point's name runs nowhere). Inline *styles* stay allowed: the office templates carry
  their CSS inline and CSS runs no code. `X-Content-Type-Options: nosniff` on everything,
  so a photo is never taken for HTML. Behind TLS, HSTS.
- Body limit. A request body is refused with 413 once it passes its path's limit: at once
  when Content-Length says so, otherwise as soon as the streamed bytes pass it (gzip-
  encoded JSON is bounded again after decompression, in `read_json`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import PayloadTooLarge

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")
KIB = 1024
MIB = 1024 * KIB
FORM_BYTES = 1 * MIB  # every office form but the file imports
ADMIN_UPLOAD_BYTES = 21 * MIB  # admin_common.MAX_UPLOAD and the form around it
JSON_BYTES = 16 * MIB  # api_common.MAX_JSON_BYTES, as sent (gzip or not)


def over_tls(request: Request) -> bool:
    """Did this request reach us over TLS (itself, or through a TLS-terminating proxy)?"""
    settings = getattr(request.app.state, "settings", None)
    return request.url.scheme == "https" or bool(getattr(settings, "tls_proxy", 0))


class SecurityHeaders:
    def __init__(self, app: ASGIApp, tls_proxy: bool = False) -> None:
        self.app = app
        self.tls_proxy = tls_proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(HEADERS)
        if self.tls_proxy or scope.get("scheme") == "https":
            extra.append(HSTS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in extra if k not in names),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def body_limit(path: str, method: str, max_blob_bytes: int) -> int:
    """The largest body a request to `path` may carry."""
    if path.startswith("/api/blobs/"):
        return max_blob_bytes
    if path.startswith("/api/"):
        return JSON_BYTES
    if path.startswith("/admin/") and method == "POST":
        return ADMIN_UPLOAD_BYTES
    return FORM_BYTES


class BodyLimit:
    def __init__(self, app: ASGIApp, max_blob_bytes: int) -> None:
        self.app = app
        self.max_blob_bytes = max_blob_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"], scope["method"], self.max_blob_bytes)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                # answered before any of the body is read, by the one error handler
                from server.handlers import app_error

                response = await app_error(Request(scope), too_large(limit))
                await response(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, counted, send)


def too_large(limit: int) -> PayloadTooLarge:
    mb = max(1, limit // MIB)
    return PayloadTooLarge.protocol("body_too_large", max_mb=mb, extra={"max_bytes": limit})
