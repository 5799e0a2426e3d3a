"""A tiny service built by the platform (`create_app`), for tests of what every app does at its
HTTP edge. Building it connects to nothing; an ASGI client does not run the lifespan."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI, Response

from daiban_common.app import create_app
from daiban_common.service import ServiceSpec
from daiban_common.settings import Settings

router = APIRouter(prefix="/v1")


@router.get("/cases/{number}")
async def get_case(number: str) -> dict[str, str]:
    return {"number": number}


@router.post("/cases", status_code=201)
async def create_case() -> Response:
    return Response(status_code=201, headers={"Location": "/v1/cases/370285-0001", "ETag": '"1"'})


SPEC = ServiceSpec(
    name="edge",
    title="edge",
    description="A service with two routes.",
    migrations=Path("."),
    default_port=8999,
    order=99,
    routers=[router],
)


def edge_app(var_dir: Path, **settings: object) -> FastAPI:
    return create_app(
        SPEC,
        Settings(
            var_dir=var_dir,
            database_url="postgresql+asyncpg://daiban@127.0.0.1:9/daiban",
            nats_url="nats://127.0.0.1:9",
            **settings,  # type: ignore[arg-type]
        ),
    )


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge")
