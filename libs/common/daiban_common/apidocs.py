"""The API docs pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), with every asset served locally.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN, and ReDoc's fonts from Google:
on a county intranet with no way out that is a blank white page. Here the JavaScript, CSS and
favicon come from the `fastapi-offline` distribution (Swagger UI 5 and ReDoc 2 shipped as files
in its wheel, MIT), installed with the service like any other dependency, so an air-gapped node
has them too. Swagger UI's validator badge is switched off: it would send the document's URL to
validator.swagger.io.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_PATH", "DOCS_PATH", "REDOC_PATH", "install_docs"]

DOCS_PATH: Final = "/docs"
REDOC_PATH: Final = "/redoc"
ASSETS_PATH: Final = "/docs/assets"
_OAUTH2_REDIRECT_PATH: Final = "/docs/oauth2-redirect"
# The distribution and folder that ship the files: swagger-ui-bundle.js, swagger-ui.css,
# redoc.standalone.js, favicon.png.
_ASSETS_PACKAGE: Final = ("fastapi_offline", "static")


def install_docs(app: FastAPI) -> None:
    """Add `/docs`, `/redoc` and their assets to an app built with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS_PATH, StaticFiles(packages=[_ASSETS_PACKAGE]), name="docs-assets")

    def asset(request: Request, name: str) -> str:
        # root_path: behind a proxy that strips a prefix, the browser must ask for the prefixed URL.
        return f"{request.scope.get('root_path', '')}{ASSETS_PATH}/{name}"

    def openapi_url(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{app.openapi_url}"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
            oauth2_redirect_url=_OAUTH2_REDIRECT_PATH,
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )

    @app.get(_OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset(request, "redoc.standalone.js"),
            redoc_favicon_url=asset(request, "favicon.png"),
            with_google_fonts=False,
        )
