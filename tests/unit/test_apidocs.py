"""Every service's `/docs` and `/redoc` load all they need from the service itself.

A county intranet reaches no CDN: a page that names an outside URL is a blank page there. The
pages are fetched as a browser would, then every script, stylesheet, icon and document they
reference, from the same app.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from daiban_common.app import create_app
from daiban_common.service import discover_services
from daiban_common.settings import Settings

SERVICES = list(discover_services())
# Swagger UI's initialiser names its document in JavaScript, not in an attribute.
SCRIPT_URL = re.compile(r"""\burl:\s*['"]([^'"]+)['"]""")


class References(HTMLParser):
    """The URLs a browser would load: src, href, ReDoc's spec-url, and Swagger UI's `url:`."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        self.urls += [value for name, value in attrs if name in {"src", "href", "spec-url"} and value]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.urls += SCRIPT_URL.findall(data)


def client(service: str, var_dir: Path) -> httpx.AsyncClient:
    # Building the app connects to nothing; the URLs only need to parse.
    settings = Settings(
        var_dir=var_dir,
        database_url="postgresql+asyncpg://daiban@127.0.0.1:9/daiban",
        nats_url="nats://127.0.0.1:9",
    )
    app = create_app(discover_services()[service], settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
@pytest.mark.parametrize("service", SERVICES)
async def test_docs_page_loads_everything_from_the_service(service: str, page: str, tmp_path: Path) -> None:
    async with client(service, tmp_path) as http:
        response = await http.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert "http://" not in html and "https://" not in html, "the page names an outside URL"

        parser = References()
        parser.feed(html)
        expected = {"/openapi.json", "/docs/assets/favicon.png"} | (
            {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"}
            if page == "/docs"
            else {"/docs/assets/redoc.standalone.js"}
        )
        assert set(parser.urls) == expected

        for url in parser.urls:
            asset = await http.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url


async def test_an_unknown_asset_is_a_404(tmp_path: Path) -> None:
    async with client(SERVICES[0], tmp_path) as http:
        assert (await http.get("/docs/assets/../../apidocs.py")).status_code == 404
        assert (await http.get("/docs/assets/missing.js")).status_code == 404


async def test_swagger_ui_sends_nothing_to_the_public_validator(tmp_path: Path) -> None:
    async with client(SERVICES[0], tmp_path) as http:
        html = (await http.get("/docs")).text
    # Swagger UI's default validator posts the document's URL to validator.swagger.io.
    assert '"validatorUrl": null' in html
