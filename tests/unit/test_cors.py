"""CORS: off unless DAIBAN_CORS_ORIGINS names origins; then exactly those get a preflight answer
and readable headers, and every other origin gets nothing CORS-related."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from daiban_common.settings import Settings
from tests.unit.edge_app import client, edge_app

FRONT_END = "https://zwfw.example.cn"
PREFLIGHT = {
    "Origin": FRONT_END,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


def _cors_headers(headers: object) -> list[str]:
    return [name for name in headers if str(name).lower().startswith("access-control-")]  # type: ignore[attr-defined]


async def test_preflight_from_a_configured_origin(tmp_path: Path) -> None:
    async with client(edge_app(tmp_path, cors_origins=f"{FRONT_END}, http://localhost:5173")) as http:
        response = await http.options("/v1/cases", headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "if-none-match"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


async def test_answers_to_a_configured_origin_expose_what_clients_read(tmp_path: Path) -> None:
    async with client(edge_app(tmp_path, cors_origins=FRONT_END)) as http:
        created = await http.post("/v1/cases", headers={"Origin": FRONT_END})
        read = await http.get("/v1/cases/370285-0001", headers={"Origin": FRONT_END})
    assert created.status_code == 201
    assert created.headers["Access-Control-Allow-Origin"] == FRONT_END
    exposed = {h.strip().lower() for h in created.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"location", "etag", "idempotent-replayed", "x-request-id"} <= exposed
    assert read.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert read.headers["Vary"] == "Origin"


async def test_other_origins_get_no_cors_headers(tmp_path: Path) -> None:
    async with client(edge_app(tmp_path, cors_origins=FRONT_END)) as http:
        preflight = await http.options("/v1/cases", headers={**PREFLIGHT, "Origin": "https://evil.example"})
        # Same host, other scheme: another origin.
        read = await http.get("/v1/cases/1", headers={"Origin": "http://zwfw.example.cn"})
    assert _cors_headers(preflight.headers) == []
    assert preflight.status_code == 405
    assert preflight.headers["Content-Type"] == "application/problem+json"
    assert read.status_code == 200
    assert _cors_headers(read.headers) == []
    # Still marked as depending on Origin, so no cache hands it to the configured front end.
    assert read.headers["Vary"] == "Origin"


async def test_off_by_default(tmp_path: Path) -> None:
    async with client(edge_app(tmp_path)) as http:
        preflight = await http.options("/v1/cases", headers=PREFLIGHT)
        read = await http.get("/v1/cases/1", headers={"Origin": FRONT_END})
    assert preflight.status_code == 405
    assert _cors_headers(preflight.headers) == []
    assert _cors_headers(read.headers) == []
    assert "Vary" not in read.headers


@pytest.mark.parametrize(
    "origins", ["*", "https://zwfw.example.cn/", "zwfw.example.cn", "https://zwfw.example.cn/app"]
)
def test_settings_refuse_what_is_not_an_origin(origins: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DAIBAN_CORS_ORIGINS"):
        Settings(var_dir=tmp_path, cors_origins=origins)


def test_settings_read_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAIBAN_CORS_ORIGINS", " https://a.example.cn ,http://[::1]:8080,")
    assert Settings(var_dir=tmp_path).cors_origins == ["https://a.example.cn", "http://[::1]:8080"]
