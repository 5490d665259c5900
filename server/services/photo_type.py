"""What a photo really is, read from its own first bytes.

The client's Content-Type is never trusted: the field app used to send every photo as
``application/octet-stream``, and a hostile client could name an SVG (script inside) a
JPEG. Only JPEG, PNG and WebP are photos here; a file whose magic bytes are none of those
is refused, so the server never stores, nor serves to a supervisor's browser, anything else.
"""

from __future__ import annotations

from pathlib import Path

HEAD_BYTES = 12  # enough to tell all three apart: WebP needs "RIFF" + size + "WEBP"

ACCEPTED = ("image/jpeg", "image/png", "image/webp")

_PNG = b"\x89PNG\r\n\x1a\n"


def sniff(head: bytes) -> str | None:
    """The media type of a file starting with ``head``; None when it is not an accepted photo."""
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == _PNG:
        return "image/png"
    if len(head) >= HEAD_BYTES and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def sniff_file(path: Path) -> str | None:
    with open(path, "rb") as fh:
        return sniff(fh.read(HEAD_BYTES))


def decided(head: bytes, complete: bool) -> bool:
    """Whether ``head`` is long enough to judge: a shorter file is judged once it is whole."""
    return complete or len(head) >= HEAD_BYTES
