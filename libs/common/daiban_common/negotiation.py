"""Content negotiation and conditional answers shared by the routes that render a page (receipts,
the handbook) or that clients cache (the catalogue, the public directory)."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

JSON = "application/json"
HTML = "text/html; charset=utf-8"
# Private caches revalidate every time: the catalogue's answers change when an item is published.
REVALIDATE = "no-cache"


def wants_html(request: Request) -> bool:
    """Browsers and print clients list text/html; API clients send application/json (first) or */*."""
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return "text/html" in accept and "application/json" not in first


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates


def conditional(
    request: Request,
    body: bytes,
    media_type: str = JSON,
    *,
    vary: bool = False,
    cache_control: str = REVALIDATE,
) -> Response:
    """The body with its ETag, or 304 when the client already has it (If-None-Match)."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if vary:
        headers["Vary"] = "Accept"
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)
