"""Probes: /healthz always answers, /readyz reports every dependency and fails as problem+json."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from daiban_common.health import HealthCheck, health_router


async def _ok() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("postgresql://daiban:secret@db:5432 refused")


async def _hangs() -> None:
    await asyncio.sleep(30)


def _app(checks: dict[str, HealthCheck], timeout: float = 2.0) -> FastAPI:
    app = FastAPI()
    app.include_router(health_router(checks, timeout=timeout))
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_healthz_answers_even_when_dependencies_are_down() -> None:
    async with _client(_app({"database": _refused})) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_every_check_passes() -> None:
    async with _client(_app({"database": _ok, "nats": _ok})) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "nats": "ok"}}


async def test_ready_without_checks() -> None:
    async with _client(_app({})) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {}}


async def test_not_ready_is_problem_json_naming_the_failed_checks() -> None:
    async with _client(_app({"database": _refused, "nats": _ok})) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["type"] == "/problems/not-ready"
    assert body["status"] == 503
    assert body["detail"] == "服务尚未就绪"
    assert body["title"]
    assert body["instance"] == "/readyz"
    assert body["checks"] == {"database": "error: ConnectionRefusedError", "nats": "ok"}
    # The driver's message (hosts, credentials) stays in the server's log.
    assert "secret" not in response.text


async def test_slow_checks_time_out_concurrently() -> None:
    app = _app({"database": _hangs, "nats": _hangs, "cache": _ok}, timeout=0.2)
    async with _client(app) as client:
        started = time.perf_counter()
        response = await client.get("/readyz")
        elapsed = time.perf_counter() - started
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "timeout", "nats": "timeout", "cache": "ok"}
    # Both hanging checks ran side by side: one timeout, not two.
    assert elapsed < 0.39


def test_probes_are_documented_under_the_health_tag() -> None:
    schema = _app({"database": _ok}).openapi()
    readyz = schema["paths"]["/readyz"]["get"]
    assert readyz["tags"] == ["health"]
    assert readyz["summary"] == "Readiness"
    assert "application/problem+json" in readyz["responses"]["503"]["content"]
    assert schema["paths"]["/healthz"]["get"]["tags"] == ["health"]
