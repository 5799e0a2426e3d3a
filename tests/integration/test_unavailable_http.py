"""A 503 for a lost database, as a real uvicorn server sends it: clean, one log line, connection kept.

Before, the 503 was written by Starlette's outermost error middleware, which then re-raised: uvicorn
logged "Exception in ASGI application" with a full traceback and closed the keep-alive connection,
so clients reusing it saw a dropped connection instead of the 503.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from daiban_common.app import create_app
from daiban_common.auth import Role, issue_token
from daiban_common.runtime import ServiceRuntime
from daiban_devtools.embedded import EmbeddedPostgres, free_port
from tests.integration.probe import WRITER_SPEC, create_probe_tables, own_network
from tests.servers import Network

pytestmark = pytest.mark.integration

TOWNSHIP = "370285101000"


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` behind a real uvicorn server (HTTP/1.1 keep-alive) in this event loop."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def local_address(response: httpx.Response) -> object:
    """The client side of the connection that carried `response`: the same for a reused one."""
    try:
        return response.extensions["network_stream"].get_extra_info("client_addr")
    except OSError:  # the server has closed it
        return None


async def test_503_keeps_the_connection_and_logs_one_line(
    network: Network, own_pg: EmbeddedPostgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own = await own_network(network, own_pg, tmp_path)
    settings = await own.node(TOWNSHIP)
    token = issue_token(settings, sub=f"clerk@{TOWNSHIP}", role=Role.clerk, org=TOWNSHIP, name="测试")
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(WRITER_SPEC, settings)

    async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=headers) as client:
        runtime = app.state.runtime
        assert isinstance(runtime, ServiceRuntime)
        await asyncio.wait_for(runtime.bus_ready.wait(), 15)
        await create_probe_tables(runtime)
        first = await client.post("/v1/notes", json={"org": TOWNSHIP, "text": "停机前"})
        assert first.status_code == 201, first.text
        connection = local_address(first)
        note = first.json()["id"]

        await asyncio.to_thread(own_pg.stop)
        caplog.clear()
        caplog.set_level(logging.INFO)
        answers = [
            await client.post("/v1/notes", json={"org": TOWNSHIP, "text": "停机时"}),
            await client.get("/v1/notes"),
            await client.get(f"/v1/notes/{note}"),
            await client.post("/v1/notes", json={"org": TOWNSHIP, "text": "停机时"}),
        ]
        for response in answers:
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "1"
            assert response.json()["type"] == "/problems/unavailable"
            # Every answer came over the first connection: none was closed under the client.
            assert local_address(response) == connection
        records = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert not [r for r in records if "Exception in ASGI application" in r.getMessage()]
        assert not [r for r in records if r.exc_info], [r.getMessage() for r in records]
        answered = [r for r in records if r.name == "daiban_common.error_handlers"]
        assert len(answered) == len(answers), [r.getMessage() for r in answered]

        await asyncio.to_thread(own_pg.start)
        after = await client.post("/v1/notes", json={"org": TOWNSHIP, "text": "恢复后"})
        if after.status_code == 503:  # at most the request that finds the pool's dead connections
            after = await client.post("/v1/notes", json={"org": TOWNSHIP, "text": "恢复后"})
        assert after.status_code == 201, after.text
        assert local_address(after) == connection
