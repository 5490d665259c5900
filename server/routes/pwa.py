"""The field app (PWA) under /app/.

The service worker is rendered here, not stored: the server hashes every shell file once at
start-up and injects the list (url + content hash) into `sw.js`, so a deploy that changes one
file makes the phones fetch exactly that file again, and `sw.js` itself changes byte-wise
whenever anything in the shell did (which is what makes the browser install the new worker).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

MOUNT = "/app/"
PRECACHE_MARKER = "self.__PRECACHE__ = [];"
# Shell files are revalidated on every network load; the service worker is what makes them
# fast, and an ETag keeps the revalidation cheap.
SHELL_CACHE = "no-cache"
SKIP_SUFFIXES = {".py", ".pyc", ".md"}
SKIP_NAMES = {"sw.js", "__pycache__"}
TYPES = {
    ".webmanifest": "application/manifest+json",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
COMPRESSIBLE = {".js", ".css", ".html", ".json", ".webmanifest", ".svg"}
# Served but not precached: only the installer needs the big icons and their sources.
NOT_PRECACHED = ("icons/icon-512.png", "icons/maskable-", "icons/icon.svg", "icons/maskable.svg")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gz: bytes | None
    media_type: str
    etag: str


def pwa_dir() -> Path:
    return Path(str(resources.files("pwa")))


def _media_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0]
    return TYPES.get(path.suffix) or guessed or "application/octet-stream"


def make_asset(path: Path, body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()
    gz = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
    return Asset(body, gz, _media_type(path), f'"{digest[:32]}"')


def served(rel: Path, body: bytes) -> bytes:
    """What phones get of a shell file: the source without what only people read. In
    JavaScript, whole-line `//` comments are blanked and indentation dropped (a sixth of the
    shell's gzipped bytes); every line stays where it was, so a stack trace from a phone
    points at the line as written. JSON loses its layout. The trap: inside a multi-line
    template literal a line's spaces and a leading `//` are text; the field app has none,
    and tests/pwa/test_served.py keeps it so. No build step: this runs as the server starts."""
    if rel.suffix == ".json":
        return json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    if rel.suffix != ".js":
        return body
    lines = body.decode("utf-8").split("\n")
    return "\n".join("" if ln.lstrip().startswith("//") else ln.lstrip() for ln in lines).encode()


def shell_files(root: Path) -> list[Path]:
    """Every file the app needs offline, relative to root, in a stable order."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or path.suffix in SKIP_SUFFIXES:
            continue
        if any(part in SKIP_NAMES or part.startswith(".") for part in rel.parts):
            continue
        out.append(rel)
    return out


def build_assets(root: Path) -> dict[str, Asset]:
    """Read and hash the shell once; render sw.js with the precache list."""
    assets: dict[str, Asset] = {}
    precache = []
    for rel in shell_files(root):
        body = served(rel, (root / rel).read_bytes())
        url = MOUNT + rel.as_posix()
        asset = make_asset(rel, body)
        assets[url] = asset
        if rel.as_posix().startswith(NOT_PRECACHED):
            continue
        precache.append({"url": url, "hash": hashlib.sha256(body).hexdigest()[:16]})
    # The shell is addressed as /app/ (the start URL), not /app/index.html.
    precache = [
        {"url": MOUNT, "hash": p["hash"]} if p["url"] == MOUNT + "index.html" else p
        for p in precache
    ]
    sw_src = served(Path("sw.js"), (root / "sw.js").read_bytes()).decode("utf-8")
    if PRECACHE_MARKER not in sw_src:
        raise RuntimeError(f"pwa/sw.js lacks the marker {PRECACHE_MARKER!r}")
    listing = json.dumps(precache, separators=(",", ":"))
    sw = sw_src.replace(PRECACHE_MARKER, f"self.__PRECACHE__ = {listing};", 1)
    assets[MOUNT + "sw.js"] = make_asset(Path("sw.js"), sw.encode("utf-8"))
    return assets


def respond(request: Request, asset: Asset, headers: dict[str, str]) -> Response:
    """An in-memory file: 304 when the browser has it, gzipped when it may be, HEAD too."""
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    body = asset.body
    if asset.gz is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gz
        headers["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=asset.media_type)
    return Response(body, headers=headers, media_type=asset.media_type)


def routes(settings=None) -> list:
    """Routes serving the field app. The shell is read and hashed here, once."""
    assets = build_assets(pwa_dir())

    async def serve(request: Request) -> Response:
        path = request.url.path
        if path == MOUNT:
            path = MOUNT + "index.html"
        asset = assets.get(path)
        if asset is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {"ETag": asset.etag, "Cache-Control": SHELL_CACHE, "Vary": "Accept-Encoding"}
        if path.endswith("/sw.js"):
            headers["Service-Worker-Allowed"] = MOUNT
        if path.endswith("index.html"):
            headers["X-Content-Type-Options"] = "nosniff"
            # Chrome on Android hides the phone's model from the user agent; with this the
            # login request carries it (Sec-CH-UA-Model), for the devices page.
            headers["Accept-CH"] = "Sec-CH-UA-Model"
        return respond(request, asset, headers)

    async def to_app(request: Request) -> Response:
        return RedirectResponse(MOUNT, status_code=308)

    return [
        Route("/app", to_app, methods=["GET", "HEAD"]),
        Route("/app/{path:path}", serve, methods=["GET", "HEAD"]),
    ]
