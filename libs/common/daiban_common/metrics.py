"""Prometheus metrics of one service: the registry, the shared instruments, the HTTP middleware.

The middleware also writes the access log: one JSON line per request on the `daiban.access`
logger (method, route template, status, duration_ms; the request and trace ids come with every
line, see daiban_common.jsonlog). The route template, never the path: paths carry case numbers and
query strings carry query codes. uvicorn's own access log is off (daiban_common.httpserver).

Every app gets its own CollectorRegistry instead of prometheus_client's global default, because
several apps (services, nodes) are created in one test process and the default registry refuses
a second instrument of the same name.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from opentelemetry import trace
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daiban_common.jsonlog import request_id_var
from daiban_common.telemetry import PROBE_PATHS

__all__ = [
    "ACCESS_LOGGER",
    "REQUEST_ID_HEADER",
    "UNMATCHED_ROUTE",
    "MetricsMiddleware",
    "ServiceMetrics",
    "install_metrics",
    "metrics_router",
]

ACCESS_LOGGER = "daiban.access"
_access_log = logging.getLogger(ACCESS_LOGGER)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_HEADER_RAW = REQUEST_ID_HEADER.lower().encode("latin-1")
# A client's request id is echoed and logged, so it must be short and plain: no spaces, quotes
# or control characters that could forge log lines or headers. Anything else gets a fresh id.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

# Label for requests no route matched (404s of scanners): one series, not one per probed path.
UNMATCHED_ROUTE = "__unmatched__"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Commit -> publish ack is milliseconds while the link is up and up to hours while a township
# node is cut off from its parent; the buckets cover both.
OUTBOX_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class ServiceMetrics:
    """The registry of one app and the instruments every daiban service shares.

    Services add their own instruments with `registry=metrics.registry`.
    """

    def __init__(
        self,
        service: str,
        *,
        registry: CollectorRegistry | None = None,
        process_collectors: bool = True,
    ) -> None:
        self.service = service
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        if process_collectors:
            # Memory, CPU, open files and GC of the process; every app of one process reports
            # the same numbers, which only matters in tests.
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self.http_requests_total = Counter(
            "http_requests_total",
            "HTTP requests served, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_request_duration_seconds = Histogram(
            "http_request_duration_seconds",
            "Time from request start to the end of the response body",
            ["method", "route"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "outbox_pending",
            "Outbox rows committed but not yet acknowledged by JetStream",
            registry=self.registry,
        )
        self.outbox_waiting_for_link = Gauge(
            "outbox_waiting_for_link",
            "Outbox rows waiting for the link to another node (a township's or the county's), by node",
            ["node"],
            registry=self.registry,
        )
        self.outbox_lag_seconds = Histogram(
            "outbox_lag_seconds",
            "Time from the commit of an outbox row to JetStream's publish ack",
            buckets=OUTBOX_LAG_BUCKETS,
            registry=self.registry,
        )
        self.events_published_total = Counter(
            "events_published_total",
            "Events published to JetStream and acknowledged",
            ["type"],
            registry=self.registry,
        )
        self.events_consumed_total = Counter(
            "events_consumed_total",
            "Event deliveries handled by a consumer, by outcome (applied, duplicate, retried, dead_lettered)",
            ["consumer", "type", "outcome"],
            registry=self.registry,
        )
        self.dead_letters_total = Counter(
            "dead_letters_total",
            "Messages parked in the dead-letter table after repeated failures",
            ["consumer"],
            registry=self.registry,
        )

        # A consumer's loop must never end or stall unseen (see daiban_common.consumer).
        self.consumer_up = Gauge(
            "consumer_up",
            "1 while the consumer's loop is running, 0 once it has ended",
            ["consumer"],
            registry=self.registry,
        )
        self.consumer_last_progress = Gauge(
            "consumer_last_progress_timestamp_seconds",
            "Unix time the consumer last finished a message or found nothing to do",
            ["consumer"],
            registry=self.registry,
        )
        self.consumer_consecutive_failures = Gauge(
            "consumer_consecutive_failures",
            "Deliveries or fetches in a row that met PostgreSQL or NATS away (0 once one succeeds)",
            ["consumer"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return UNMATCHED_ROUTE
    # Inside a Mount, path_format is relative to the mount point; Starlette records the mount
    # prefix in root_path on top of the app's own root_path (app_root_path).
    root_path = str(scope.get("root_path", ""))
    app_root_path = str(scope.get("app_root_path", root_path))
    prefix = root_path[len(app_root_path) :] if root_path.startswith(app_root_path) else ""
    return prefix + path_format


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_HEADER_RAW:
            candidate = bytes(value).decode("latin-1")
            return candidate if _REQUEST_ID_RE.match(candidate) else None
    return None


class MetricsMiddleware:
    """Pure ASGI middleware: HTTP request metrics and the X-Request-ID header.

    Pure ASGI rather than BaseHTTPMiddleware, which runs the app in a separate task behind a
    memory stream on every request. Add it with
    `app.add_middleware(MetricsMiddleware, metrics=metrics)`.

    An exception that escapes the app is counted as a 500; the 500 page itself is then written by
    Starlette's outermost error middleware and carries no X-Request-ID.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        # Handlers read it as request.state.request_id; logs get it through the context var.
        scope.setdefault("state", {})["request_id"] = request_id
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("daiban.request_id", request_id)
        header = (_REQUEST_ID_HEADER_RAW, request_id.encode("latin-1"))
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k != _REQUEST_ID_HEADER_RAW]
                headers.append(header)
                message["headers"] = headers
            await send(message)

        token = request_id_var.set(request_id)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            elapsed = time.perf_counter() - start
            method = str(scope.get("method", "GET")).upper()
            if method not in _KNOWN_METHODS:
                method = "OTHER"
            # Read after the app ran: the router writes the matched route into the scope.
            route = _route_template(scope)
            self.metrics.http_requests_total.labels(method, route, str(status)).inc()
            self.metrics.http_request_duration_seconds.labels(method, route).observe(elapsed)
            # Still inside the request id's context (and the request's span), so the line carries both.
            _log_access(method, route, status, elapsed, probe=scope.get("path") in PROBE_PATHS)
            request_id_var.reset(token)


def _log_access(method: str, route: str, status: int, elapsed: float, *, probe: bool) -> None:
    # Probes and scrapes come every few seconds from the orchestrator: at DEBUG, so that INFO
    # holds the requests people made.
    _access_log.log(
        logging.DEBUG if probe else logging.INFO,
        "%s %s %d",
        method,
        route,
        status,
        extra={"method": method, "route": route, "status": status, "duration_ms": round(elapsed * 1000, 1)},
    )


def metrics_router(metrics: ServiceMetrics) -> APIRouter:
    """`GET /metrics` in the Prometheus text exposition format."""
    router = APIRouter(tags=["observability"])

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        description="The service's metrics in the Prometheus text exposition format (version 0.0.4).",
        response_class=Response,
        responses={
            200: {
                "content": {
                    CONTENT_TYPE_LATEST.split(";")[0]: {
                        "example": "# TYPE http_requests_total counter\n"
                        'http_requests_total{method="GET",route="/v1/items",status="200"} 3.0\n'
                    }
                },
                "description": "Metrics exposition",
            }
        },
    )
    async def get_metrics() -> Response:
        return Response(content=metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_metrics(app: FastAPI, metrics: ServiceMetrics) -> None:
    """Add the middleware and the /metrics route to `app`."""
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(metrics_router(metrics))
