"""Serves the built Enabler (`/enabler/*.js`, `.d.ts`): gzip, Cache-Control, ETag, 304.

The files are small and fixed for the life of the process, so each is read, hashed and gzipped once
(on the first request) and every answer after that is a dictionary lookup. The file names are the
template's (not content-hashed), so caches keep them briefly and then revalidate with the ETag.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

# Five minutes: a release reaches shoppers quickly; after that a revalidation costs one 304.
CACHE_CONTROL = "public, max-age=300"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".ts": "application/typescript; charset=utf-8",
}


@dataclass(frozen=True)
class _Variant:
    body: bytes
    etag: str


@dataclass(frozen=True)
class _File:
    content_type: str
    identity: _Variant
    gzip: _Variant


def _load(directory: Path) -> dict[str, _File]:
    files: dict[str, _File] = {}
    if not directory.is_dir():
        return files
    for path in sorted(directory.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:32]
        # mtime=0: the same bytes (and ETag) on every start and every copy behind a load balancer.
        compressed = gzip.compress(body, compresslevel=9, mtime=0)
        files[path.name] = _File(content_type, _Variant(body, f'"{digest}"'), _Variant(compressed, f'"{digest}-gz"'))
    return files


def accepts_gzip(accept_encoding: str) -> bool:
    """`gzip` listed without `q=0` (or `*` with q > 0 and gzip not refused)."""
    offered: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name:
            offered[name.strip()] = quality
    if "gzip" in offered:
        return offered["gzip"] > 0
    return offered.get("*", 0.0) > 0


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class EnablerFiles:
    """ASGI app for the `/enabler` mount (GET and HEAD; anything else 405, unknown names 404)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._files: dict[str, _File] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        if self._files is None:
            self._files = _load(self._directory)
        name = str(scope["path"]).rsplit("/", 1)[-1]
        file = self._files.get(name)
        if file is None:
            raise HTTPException(404)
        headers = Headers(scope=scope)
        variant = file.gzip if accepts_gzip(headers.get("accept-encoding", "")) else file.identity
        common = {
            "ETag": variant.etag,
            "Cache-Control": CACHE_CONTROL,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if _matches(headers.get("if-none-match", ""), variant.etag):
            response = Response(status_code=304, headers=common)
        else:
            if variant is file.gzip:
                common["Content-Encoding"] = "gzip"
            body = b"" if scope["method"] == "HEAD" else variant.body
            response = Response(body, media_type=file.content_type, headers=common)
            response.headers["Content-Length"] = str(len(variant.body))
        await response(scope, receive, send)
