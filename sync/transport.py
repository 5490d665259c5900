"""How the reference client reaches the server: one small interface, two implementations.

``HttpTransport`` speaks real HTTP with the stdlib (a native client would do the same);
tests may pass any object with the same ``request`` method, e.g. one wrapping an in-process
app. A transport raises ``TransportError`` for every failure that is not an HTTP answer:
refused, reset, timed out, cut mid-body. The client treats all of those alike: it does not
know whether the server saw the request, so it retries the same bytes.
"""

from __future__ import annotations

import gzip
import http.client
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Protocol


class TransportError(Exception):
    """No HTTP answer arrived (connection refused, reset, timed out or truncated)."""


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # the body's JSON, once the client has read it (it reads a success's body to know it
    # arrived whole, and its callers need the same value)
    parsed: Any = field(default=None, compare=False, repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Transport(Protocol):
    def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> Response: ...


def decode_body(resp: Response) -> bytes:
    """The body with any gzip content-encoding removed; a corrupt body is a transport error."""
    if (resp.header("content-encoding") or "").lower() == "gzip":
        try:
            return gzip.decompress(resp.body)
        except (OSError, EOFError) as exc:
            raise TransportError(f"truncated gzip body: {exc}") from None
    return resp.body


class HttpTransport:
    """Plain HTTP/1.1 over http.client, keeping connections alive between requests.

    Every request of the protocol is safe to repeat (ops replay, blob ranges are checked), so
    a request that fails on a reused connection, which the server may have closed while
    idle, is sent once more on a fresh one. Any other failure drops the connection.

    Safe to call from several threads: each request takes an idle connection (or opens one)
    and gives it back after, so parallel photo uploads each have their own while the idle
    ones stay open for the next sync.
    """

    def __init__(self, base_url: str, timeout: float = 30.0, keep_alive: bool = True) -> None:
        u = urllib.parse.urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port], got {base_url!r}")
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port
        self.prefix = u.path.rstrip("/")
        self.timeout = timeout
        self.keep_alive = keep_alive
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> Response:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None:
            try:
                return self._once(conn, method, path, headers, body)
            except TransportError:
                pass
        return self._once(self._connect(), method, path, headers, body)

    def _once(self, conn, method: str, path: str, headers: dict[str, str], body: bytes | None):
        try:
            conn.request(method, self.prefix + path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            length = resp.getheader("content-length")
            if length is not None and int(length) != len(data):
                raise TransportError("response cut short")
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            conn.close()
            raise TransportError(f"{type(exc).__name__}: {exc}") from None
        except TransportError:
            conn.close()
            raise
        if self.keep_alive and not resp.will_close:
            with self._lock:
                self._idle.append(conn)
        else:
            conn.close()
        return Response(resp.status, hdrs, data)
