"""The console's server: its configuration file, the pages it serves, what they may load, and the
file `daiban run` writes for it (the demo people only in development)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from daiban_common.settings import Environment, Settings
from daiban_console.app import STATIC, create_app
from daiban_console.config import ConsoleConfig
from daiban_devtools.console import Console

SERVICES = {
    name: f"http://127.0.0.1:{port}"
    for name, port in zip(("intake", "catalogue", "routing", "audit"), (8001, 8002, 8003, 8004), strict=True)
}


def config_file(tmp_path: Path, **overrides: object) -> Path:
    path = tmp_path / "console.json"
    path.write_text(json.dumps({"services": SERVICES, **overrides}), encoding="utf-8")
    return path


async def test_the_pages_are_served_with_a_policy_that_allows_only_the_console_and_the_services(
    tmp_path: Path,
) -> None:
    app = create_app(ConsoleConfig.load(config_file(tmp_path)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        for page in ("/", "/desk.html", "/agent.html", "/board.html", "/dashboard.html"):
            answer = await client.get(page)
            assert answer.status_code == 200, page
            assert '<html lang="zh-CN">' in answer.text
        policy = (await client.get("/")).headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "connect-src 'self' " + " ".join(sorted(SERVICES.values())) in policy
        configuration = await client.get("/config.json")
        assert configuration.json() == {"services": SERVICES, "identities": []}
        assert configuration.headers["cache-control"] == "no-store"
        assert (await client.get("/readyz")).status_code == 200


def test_every_asset_a_page_names_is_the_consoles_own() -> None:
    """No CDN: a county intranet has no internet. Every src and href is a relative path that exists."""
    for page in STATIC.glob("*.html"):
        for reference in re.findall(r'(?:src|href)="([^"]+)"', page.read_text(encoding="utf-8")):
            if reference.startswith("data:"):
                continue
            assert "//" not in reference, f"{page.name}: {reference}"
            assert (STATIC / reference.split("?")[0]).is_file(), f"{page.name}: {reference}"
    for script in (STATIC / "js").glob("*.js"):
        for module in re.findall(r'from "([^"]+)"', script.read_text(encoding="utf-8")):
            assert module.startswith("./") and (script.parent / module).is_file(), f"{script.name}: {module}"
    assert "Apache License" in (STATIC / "vendor" / "echarts" / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize("bad", [{"intake": "ftp://x"}, {}])
def test_a_configuration_without_every_service_url_is_refused(tmp_path: Path, bad: dict[str, str]) -> None:
    path = tmp_path / "console.json"
    path.write_text(json.dumps({"services": {**SERVICES, **bad} if bad else {"intake": SERVICES["intake"]}}))
    with pytest.raises((ValueError, KeyError)):
        ConsoleConfig.load(path)


def test_daiban_run_hands_the_console_the_demo_people_only_in_development(tmp_path: Path) -> None:
    people = [("agent", "370285101294", "village-agent", "村代办员")]
    development = Settings(var_dir=tmp_path, ports={"console": 8600})
    console = Console.of(development)
    assert console.url == "http://127.0.0.1:8600"
    assert console.cors_origins(
        development.model_copy(update={"cors_origins": ["https://x.example.cn"]})
    ) == ("https://x.example.cn,http://127.0.0.1:8600")
    console.write_config(development, SERVICES, people)
    written = ConsoleConfig.load(console.config_path)
    assert [who["sub"] for who in written.identities] == ["village-agent"]
    assert written.identities[0]["token"].count(".") == 2
    assert console.config_path.stat().st_mode & 0o077 == 0

    production = development.model_copy(update={"env": Environment.PRODUCTION})
    console.write_config(production, SERVICES, people)
    assert ConsoleConfig.load(console.config_path).identities == []
