"""The acceptance ceiling: a bare FastAPI endpoint inserting one row with asyncpg.

Served exactly as `daiban serve` serves a service (uvicorn, uvloop, httptools, no access log), on
the same PostgreSQL with the same durability, so the ratio intake / ceiling is what the suite's
own work (validation, rules, several rows, outbox, ORM, telemetry) costs on this machine.
`GET /ping` answers without touching the database: the load generator's self-check.

    python -m bench.ceiling --port 9000 --dsn postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import uvicorn
from fastapi import Body, FastAPI, Header
from fastapi.responses import JSONResponse

SCHEMA = "bench_ceiling"
DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.rows (
    id bigserial PRIMARY KEY,
    key text NOT NULL,
    body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
# The services' engines hold at most 20 connections (pool 10 + overflow 10).
POOL_SIZE = 20


def create_app(dsn: str) -> FastAPI:
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool["db"] = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        async with pool["db"].acquire() as conn:
            await conn.execute(DDL)
        try:
            yield
        finally:
            await pool["db"].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/applications", status_code=201)
    async def insert(
        body: Annotated[dict[str, Any], Body()],
        key: Annotated[str, Header(alias="Idempotency-Key")],
    ) -> JSONResponse:
        row_id = await pool["db"].fetchval(
            f"INSERT INTO {SCHEMA}.rows (key, body) VALUES ($1, $2) RETURNING id", key, json.dumps(body)
        )
        return JSONResponse({"id": row_id}, status_code=201)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.dsn),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
