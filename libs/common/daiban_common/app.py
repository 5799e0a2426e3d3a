"""The FastAPI application every service is built into: same errors, auth, health and telemetry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from daiban_common.apidocs import install_docs
from daiban_common.auth import install_auth
from daiban_common.cors import CorsMiddleware
from daiban_common.deadletters.api import router as dead_letters_router
from daiban_common.error_handlers import (
    BodySizeLimitMiddleware,
    ServiceUnavailableMiddleware,
    install_error_handlers,
)
from daiban_common.health import health_router
from daiban_common.metrics import MetricsMiddleware, metrics_router
from daiban_common.openapi_build import install_openapi
from daiban_common.runtime import ServiceRuntime
from daiban_common.service import ServiceSpec
from daiban_common.settings import Settings, get_settings
from daiban_common.telemetry import instrument_app


def create_app(
    spec: ServiceSpec,
    settings: Settings | None = None,
    *,
    span_processors: Sequence[SpanProcessor] = (),
) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(spec, settings, span_processors=span_processors)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        openapi_tags=list(spec.openapi_tags) or None,
        # FastAPI's own pages load their scripts from a CDN: install_docs serves them locally.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    install_error_handlers(app)
    install_auth(app, settings, known_orgs=runtime.known_orgs)
    app.include_router(
        health_router(
            {
                "database": runtime.check_database,
                "nats": runtime.check_bus,
                "consumers": runtime.check_consumers,
            }
        )
    )
    app.include_router(metrics_router(runtime.metrics))
    # Every service parks what its consumers cannot apply; every one shows them the same way.
    app.include_router(dead_letters_router)
    for router in spec.routers:
        app.include_router(router)
    install_openapi(app, spec.openapi_examples)
    install_docs(app)
    instrument_app(app, runtime.tracer_provider)
    # Inside the metrics middleware, so that a 503 for a lost database, a 413 and a preflight are
    # each counted and logged once; inside CORS, so that a front end can read those answers too.
    app.add_middleware(ServiceUnavailableMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=1024 * 1024)
    if settings.cors_origins:
        app.add_middleware(CorsMiddleware, origins=settings.cors_origins)
    app.add_middleware(MetricsMiddleware, metrics=runtime.metrics)
    return app
