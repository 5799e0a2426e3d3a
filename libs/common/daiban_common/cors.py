"""CORS for the front ends a node names (`DAIBAN_CORS_ORIGINS`); off when it names none.

Our own ASGI middleware rather than Starlette's CORSMiddleware, which answers a preflight from an
origin it refuses with a plain-text 400 that still carries Access-Control-Allow-* headers. Here an
origin not on the list gets nothing CORS-related at all: its preflight (an OPTIONS no route takes)
is answered by the app as any other request would be, a problem+json 405, and the browser blocks
the call for want of Access-Control-Allow-Origin.

Tokens travel in the Authorization header, never in cookies, so credentials are not allowed and
`*` is not an origin: each origin is matched exactly (scheme, host and port, as the browser sends
it).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daiban_common.idempotency import HEADER as IDEMPOTENCY_HEADER
from daiban_common.idempotency import REPLAYED_HEADER
from daiban_common.metrics import REQUEST_ID_HEADER

__all__ = ["ALLOWED_HEADERS", "ALLOWED_METHODS", "EXPOSED_HEADERS", "CorsMiddleware"]

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# What a front end sends besides the CORS-safelisted headers.
ALLOWED_HEADERS = ("Authorization", "Content-Type", IDEMPOTENCY_HEADER, "If-None-Match", REQUEST_ID_HEADER)
# What a front end reads besides the CORS-safelisted response headers (Content-Type and the like).
EXPOSED_HEADERS = ("Location", "ETag", REPLAYED_HEADER, REQUEST_ID_HEADER, "Retry-After", "WWW-Authenticate")
# Browsers cap it lower (Chromium: 2 hours); ten minutes keeps a changed list from lingering.
PREFLIGHT_MAX_AGE = 600


class CorsMiddleware:
    """Pure ASGI middleware answering preflights and marking answers for the origins allowed."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin is not None and origin in self.origins
        if allowed and scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(str(origin), send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                # The answer depends on Origin for every request, allowed or not: a cache must not
                # hand an answer made for one origin (or none) to another.
                response_headers.add_vary_header("Origin")
                if allowed:
                    response_headers["Access-Control-Allow-Origin"] = str(origin)
                    response_headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
            await send(message)

        await self.app(scope, receive, marked)

    async def _preflight(self, origin: str, send: Send) -> None:
        headers = [
            ("access-control-allow-origin", origin),
            ("access-control-allow-methods", ", ".join(ALLOWED_METHODS)),
            ("access-control-allow-headers", ", ".join(ALLOWED_HEADERS)),
            ("access-control-max-age", str(PREFLIGHT_MAX_AGE)),
            ("vary", "Origin"),
        ]
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            }
        )
        await send({"type": "http.response.body", "body": b""})
