"""Prometheus metrics: per-app registries, route-template labels, X-Request-ID, /metrics, the access log."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from daiban_common.jsonlog import JsonFormatter, request_id_var
from daiban_common.metrics import (
    ACCESS_LOGGER,
    UNMATCHED_ROUTE,
    MetricsMiddleware,
    ServiceMetrics,
    install_metrics,
)
from tests.unit.edge_app import client as edge_client
from tests.unit.edge_app import edge_app


def _app(metrics: ServiceMetrics) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/items/{item_code}")
    async def item(item_code: str, request: Request) -> dict[str, str | None]:
        return {
            "code": item_code,
            "state_request_id": request.state.request_id,
            "context_request_id": request_id_var.get(),
        }

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    sub = APIRouter()

    @sub.get("/cases/{number}")
    async def case(number: str) -> dict[str, str]:
        return {"number": number}

    inner = FastAPI()
    inner.include_router(sub)
    app.mount("/v1/public", inner)

    install_metrics(app, metrics)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    )


def _count(metrics: ServiceMetrics, method: str, route: str, status: str) -> float | None:
    return metrics.registry.get_sample_value(
        "http_requests_total", {"method": method, "route": route, "status": status}
    )


async def test_request_counted_under_route_template() -> None:
    metrics = ServiceMetrics("catalogue")
    async with _client(_app(metrics)) as client:
        for code in ("11370285MB0000001A", "11370285MB0000002B"):
            assert (await client.get(f"/v1/items/{code}")).status_code == 200

    assert _count(metrics, "GET", "/v1/items/{item_code}", "200") == 2
    duration_count = metrics.registry.get_sample_value(
        "http_request_duration_seconds_count", {"method": "GET", "route": "/v1/items/{item_code}"}
    )
    assert duration_count == 2


async def test_unmatched_and_failing_requests_have_bounded_labels() -> None:
    metrics = ServiceMetrics("catalogue")
    async with _client(_app(metrics)) as client:
        assert (await client.get("/wp-login.php")).status_code == 404
        assert (await client.get("/.env")).status_code == 404
        assert (await client.get("/v1/boom")).status_code == 500
        assert (await client.request("BREW", "/v1/items/x")).status_code == 405

    assert _count(metrics, "GET", UNMATCHED_ROUTE, "404") == 2
    assert _count(metrics, "GET", "/v1/boom", "500") == 1
    assert _count(metrics, "OTHER", "/v1/items/{item_code}", "405") == 1


async def test_mounted_routes_keep_their_prefix() -> None:
    metrics = ServiceMetrics("intake")
    async with _client(_app(metrics)) as client:
        assert (await client.get("/v1/public/cases/370285-0001")).status_code == 200
    assert _count(metrics, "GET", "/v1/public/cases/{number}", "200") == 1


async def test_request_id_echoed_when_given() -> None:
    metrics = ServiceMetrics("intake")
    async with _client(_app(metrics)) as client:
        response = await client.get("/v1/items/x", headers={"X-Request-ID": "village-phone-42"})
    assert response.headers["X-Request-ID"] == "village-phone-42"
    assert response.json()["state_request_id"] == "village-phone-42"
    assert response.json()["context_request_id"] == "village-phone-42"


async def test_request_id_generated_when_missing_or_unsafe() -> None:
    metrics = ServiceMetrics("intake")
    async with _client(_app(metrics)) as client:
        plain = await client.get("/v1/items/x")
        forged = await client.get("/v1/items/x", headers={"X-Request-ID": 'a" level="ERROR'})
        missing = await client.get("/nowhere")

    generated = plain.headers["X-Request-ID"]
    assert len(generated) == 32
    assert plain.json()["state_request_id"] == generated
    assert forged.headers["X-Request-ID"] != 'a" level="ERROR'
    assert len(forged.headers.get_list("X-Request-ID")) == 1
    assert missing.headers["X-Request-ID"]
    assert len({generated, forged.headers["X-Request-ID"], missing.headers["X-Request-ID"]}) == 3
    # The id does not leak into whatever runs after the request.
    assert request_id_var.get() is None


async def test_metrics_endpoint_exposes_counters() -> None:
    metrics = ServiceMetrics("routing")
    metrics.events_published_total.labels(type="daiban.case.accepted.v1").inc()
    metrics.events_consumed_total.labels(
        consumer="routing-cases", type="daiban.case.accepted.v1", outcome="applied"
    ).inc()
    metrics.dead_letters_total.labels(consumer="routing-cases").inc()
    metrics.outbox_pending.set(3)
    metrics.outbox_lag_seconds.observe(0.2)
    async with _client(_app(metrics)) as client:
        await client.get("/v1/items/x")
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert 'http_requests_total{method="GET",route="/v1/items/{item_code}",status="200"} 1.0' in body
    assert "http_request_duration_seconds_bucket" in body
    assert 'events_published_total{type="daiban.case.accepted.v1"} 1.0' in body
    assert (
        'events_consumed_total{consumer="routing-cases",outcome="applied",type="daiban.case.accepted.v1"} 1.0'
        in body
    )
    assert 'dead_letters_total{consumer="routing-cases"} 1.0' in body
    assert "outbox_pending 3.0" in body
    assert "outbox_lag_seconds_count 1.0" in body
    assert "process_" in body or "python_info" in body


async def test_two_apps_in_one_process_keep_separate_registries() -> None:
    first, second = ServiceMetrics("intake"), ServiceMetrics("intake")
    async with _client(_app(first)) as client:
        await client.get("/v1/items/x")
    assert _count(first, "GET", "/v1/items/{item_code}", "200") == 1
    assert _count(second, "GET", "/v1/items/{item_code}", "200") is None


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(str(scope["type"]))

    middleware = MetricsMiddleware(app, ServiceMetrics("audit", process_collectors=False))

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        pass

    await middleware({"type": "lifespan"}, receive, send)
    assert seen == ["lifespan"]


def test_instruments_stay_out_of_the_global_registry() -> None:
    # A second app of the same service would collide there ("Duplicated timeseries").
    ServiceMetrics("x")
    ServiceMetrics("x")
    assert REGISTRY.get_sample_value("outbox_pending") is None


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """The access log as the services write it (JSON lines), whatever the root logger's level."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("edge"))
    access = logging.getLogger(ACCESS_LOGGER)
    saved = access.level
    access.addHandler(handler)
    access.setLevel(logging.DEBUG)
    yield stream
    access.removeHandler(handler)
    access.setLevel(saved)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_access_line_per_request(access_lines: io.StringIO, tmp_path: Path) -> None:
    async with edge_client(edge_app(tmp_path)) as client:
        read = await client.get("/v1/cases/370285-0001?code=secret7", headers={"X-Request-ID": "phone-7"})
        created = await client.post("/v1/cases")
        missing = await client.get("/v1/nowhere/370285-0002")
    first, second, third = _lines(access_lines)
    assert first["logger"] == ACCESS_LOGGER
    assert first["level"] == "INFO"
    assert (first["method"], first["route"], first["status"]) == ("GET", "/v1/cases/{number}", 200)
    assert isinstance(first["duration_ms"], float)
    assert first["request_id"] == "phone-7" == read.headers["X-Request-ID"]
    # The request's span: the same trace id as its spans and the events it emits.
    assert re.fullmatch(r"[0-9a-f]{32}", first["trace_id"])
    assert (second["method"], second["route"], second["status"]) == ("POST", "/v1/cases", 201)
    assert second["request_id"] == created.headers["X-Request-ID"]
    assert second["trace_id"] != first["trace_id"]
    assert (third["route"], third["status"]) == (UNMATCHED_ROUTE, missing.status_code)
    # Neither case numbers nor query codes reach the log.
    assert "370285-000" not in access_lines.getvalue()
    assert "secret7" not in access_lines.getvalue()


async def test_probes_are_logged_at_debug(access_lines: io.StringIO, tmp_path: Path) -> None:
    async with edge_client(edge_app(tmp_path)) as client:
        await client.get("/metrics")
    (line,) = _lines(access_lines)
    assert (line["level"], line["route"], line["status"]) == ("DEBUG", "/metrics", 200)
