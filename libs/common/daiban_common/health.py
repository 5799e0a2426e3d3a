"""Liveness and readiness probes: `GET /healthz` and `GET /readyz`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

__all__ = ["DEFAULT_CHECK_TIMEOUT", "HealthCheck", "health_router"]

_log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[None]]

# Long enough for a round trip to a busy PostgreSQL, short enough that an orchestrator's probe
# (typically 1-5 s timeouts) gets an answer instead of timing out itself.
DEFAULT_CHECK_TIMEOUT = 2.0

PROBLEM_JSON = "application/problem+json"
NOT_READY_TYPE = "/problems/not-ready"


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str] = Field(
        description="Every dependency checked, each `ok`",
        examples=[{"database": "ok", "nats": "ok", "consumers": "ok"}],
    )


class NotReadyProblem(BaseModel):
    """RFC 9457 problem details, with the outcome of every check."""

    type: str = NOT_READY_TYPE
    title: str = "Service not ready"
    status: int = 503
    detail: str = "服务尚未就绪"
    instance: str = "/readyz"
    checks: dict[str, str] = Field(
        description="Every dependency checked: `ok`, `timeout` or `error: <exception class>`",
        examples=[{"database": "ok", "nats": "timeout"}],
    )


async def _run_check(name: str, check: HealthCheck, limit_seconds: float) -> str:
    try:
        async with asyncio.timeout(limit_seconds):
            await check()
    except TimeoutError:
        _log.warning("readiness check %s timed out after %.1f s", name, limit_seconds)
        return "timeout"
    except Exception as exc:
        # Only the class goes into the response: messages of driver errors may carry host
        # names or connection strings, which an unauthenticated probe must not reveal.
        _log.warning("readiness check %s failed", name, exc_info=True)
        return f"error: {type(exc).__name__}"
    return "ok"


def health_router(
    checks: Mapping[str, HealthCheck],
    *,
    timeout: float = DEFAULT_CHECK_TIMEOUT,
) -> APIRouter:
    """Probe endpoints; `checks` are run concurrently by `/readyz`, each within `timeout` seconds.

    A check signals failure by raising.
    """
    # Copy: the caller's mapping may change later, the probes should not.
    named_checks = dict(checks)
    router = APIRouter(tags=["health"])

    @router.get(
        "/healthz",
        summary="Liveness",
        description="200 while the process is running and serving HTTP; checks no dependency, "
        "so a database outage does not get the process restarted.",
        response_model=Liveness,
        responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
    )
    async def healthz() -> Liveness:
        return Liveness()

    @router.get(
        "/readyz",
        summary="Readiness",
        description="200 when every dependency answers; 503 with the failed checks otherwise.",
        response_model=Readiness,
        responses={
            200: {
                "content": {
                    "application/json": {
                        "example": {
                            "status": "ready",
                            "checks": {"database": "ok", "nats": "ok", "consumers": "ok"},
                        }
                    }
                }
            },
            503: {
                "model": NotReadyProblem,
                "description": "A dependency is down or too slow",
                "content": {
                    PROBLEM_JSON: {
                        "example": {
                            "type": NOT_READY_TYPE,
                            "title": "Service not ready",
                            "status": 503,
                            "detail": "服务尚未就绪",
                            "instance": "/readyz",
                            "checks": {"database": "ok", "nats": "timeout"},
                        }
                    }
                },
            },
        },
    )
    async def readyz(request: Request) -> Readiness | JSONResponse:
        names = list(named_checks)
        outcomes = await asyncio.gather(*(_run_check(name, named_checks[name], timeout) for name in names))
        results = dict(zip(names, outcomes, strict=True))
        if all(outcome == "ok" for outcome in outcomes):
            return Readiness(checks=results)
        problem = NotReadyProblem(instance=request.url.path, checks=results)
        return JSONResponse(
            problem.model_dump(),
            status_code=503,
            media_type=PROBLEM_JSON,
            # A probe answer is only true for the moment it was taken.
            headers={"Cache-Control": "no-store"},
        )

    return router
