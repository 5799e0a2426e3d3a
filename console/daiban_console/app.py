"""The console's server: its static pages, their configuration, and health for `daiban run`.

Nothing here talks to a service: the browser does, with the user's token, across origins the
services allow (`DAIBAN_CORS_ORIGINS`). The Content-Security-Policy lets the pages load only the
console's own files and fetch only from the services named in the configuration, so a county
intranet without internet access works the same as a laptop, and a CDN link would fail loudly.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daiban_console.config import ConsoleConfig

STATIC = Path(__file__).parent / "static"


def create_app(config: ConsoleConfig) -> Starlette:
    async def configuration(request: Request) -> Response:
        # no-store: development tokens may be in it, and a changed suite must not meet a stale copy.
        return JSONResponse(config.public(), headers={"Cache-Control": "no-store"})

    async def alive(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/config.json", configuration),
            Route("/healthz", alive),
            Route("/readyz", alive),
            Mount("/", StaticFiles(directory=STATIC, html=True)),
        ]
    )
    policy = "; ".join(
        [
            "default-src 'self'",
            f"connect-src 'self' {' '.join(config.origins())}",
            "img-src 'self' data:",
            # ECharts sets style attributes on the elements it draws into.
            "style-src 'self' 'unsafe-inline'",
            "frame-ancestors 'none'",
        ]
    )
    app.add_middleware(_SecurityHeaders, policy=policy)
    return app


class _SecurityHeaders:
    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-security-policy", self.policy.encode("latin-1")))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, marked)
