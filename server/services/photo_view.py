"""Photos on the office pages: who may see one, and its thumbnail.

Scope: photo_access.visible_in, the one rule for every page that shows a photo (an
inspection or a follow-up's evidence in the viewer's subtree names it).

Thumbnails are made once with Pillow and kept on disk beside the blobs
(DATA_DIR/thumbs/ab/<sha>.jpg): photos never change (content-addressed), so a thumbnail
never goes stale. Callers run both functions in the thread pool (decoding a 12 MP photo
takes a while, and it reads files).
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import Session

from server.models import Blob
from server.services.blobstore import stored_photo
from server.services.photo_access import visible_in
from server.services.scope import Scope

THUMB_EDGE = 320  # px, the longer side: sharp at 2x for the 112x84 thumbnails on the pages
THUMB_QUALITY = 82
# A photo larger than this is refused rather than decoded (a decompression bomb).
MAX_PIXELS = 64_000_000


class Unreadable(Exception):
    """The stored bytes are not an image Pillow can read."""


def photo_in_scope(session: Session, scope: Scope, sha: str) -> bool:
    """A complete photo the viewer may see (photo_access.visible_in: one rule everywhere)."""
    blob = session.get(Blob, sha)
    return blob is not None and blob.complete and visible_in(session, scope, sha)


def thumb_path(data_dir: Path, sha: str) -> Path:
    return data_dir / "thumbs" / sha[:2] / f"{sha}.jpg"


def thumbnail(data_dir: Path, sha: str) -> Path | None:
    """The thumbnail's path, made now if it is not on disk yet; None when the photo is
    absent. Raises Unreadable for bytes that are not a JPEG, PNG or WebP image."""
    path = thumb_path(data_dir, sha)
    if path.exists():
        return path
    found = stored_photo(data_dir, sha)
    if found is None:
        return None
    source, mime = found
    if mime is None:
        raise Unreadable(sha)
    try:
        with Image.open(source) as img:
            if img.width * img.height > MAX_PIXELS:
                raise Unreadable(sha)
            img.draft("RGB", (THUMB_EDGE * 2, THUMB_EDGE * 2))  # JPEG: decode at 1/2..1/8
            small = ImageOps.exif_transpose(img)
            small.thumbnail((THUMB_EDGE, THUMB_EDGE))
            if small.mode != "RGB":
                small = _on_white(small)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            small.save(tmp, "JPEG", quality=THUMB_QUALITY, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Unreadable(sha) from exc
    os.replace(tmp, path)  # two requests making the same thumbnail both end with one file
    return path


def _on_white(img: Image.Image) -> Image.Image:
    """A transparent PNG or WebP flattened onto white (JPEG has no alpha)."""
    rgba = img.convert("RGBA")
    back = Image.new("RGB", rgba.size, (255, 255, 255))
    back.paste(rgba, mask=rgba.getchannel("A"))
    return back
