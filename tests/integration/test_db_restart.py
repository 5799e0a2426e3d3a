"""A PostgreSQL restart under a running service: no request lost, at worst a clean 503.

The engines run without pool_pre_ping (it cost three round trips per checkout); this proves what
pre-ping was there for still holds. The test owns its PostgreSQL, so restarting it disturbs no
other test.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from daiban_common.auth import Role, issue_token
from daiban_common.settings import Settings
from daiban_devtools.embedded import EmbeddedPostgres
from tests.integration.probe import (
    READER_SPEC,
    WRITER_SPEC,
    applied,
    count,
    create_probe_tables,
    notes,
    own_network,
)
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

TOWNSHIP = "370285101000"


def bearer(settings: Settings) -> dict[str, str]:
    token = issue_token(settings, sub=f"clerk@{TOWNSHIP}", role=Role.clerk, org=TOWNSHIP, name="测试")
    return {"Authorization": f"Bearer {token}"}


async def test_restart_loses_no_request_and_answers_503_at_worst(
    network: Network, own_pg: EmbeddedPostgres, tmp_path: Path
) -> None:
    own = await own_network(network, own_pg, tmp_path)
    settings = await own.node(TOWNSHIP)
    headers = bearer(settings)

    async def write(text: str) -> tuple[int, dict[str, object]]:
        response = await writer.client.post(
            "/v1/notes", json={"org": TOWNSHIP, "text": text}, headers=headers
        )
        return response.status_code, response.json() | {"content-type": response.headers["content-type"]}

    async with running(WRITER_SPEC, settings) as writer, running(READER_SPEC, settings) as reader:
        await create_probe_tables(writer.runtime)
        # Several concurrent requests, so the pool holds several connections the restart kills.
        before = await asyncio.gather(*(write(f"重启前{i}") for i in range(6)))
        assert [status for status, _ in before] == [201] * 6

        await asyncio.to_thread(own_pg.stop)
        status, body = await write("数据库停机时")
        assert status == 503, body
        assert body["type"] == "/problems/unavailable"
        assert body["content-type"] == "application/problem+json"
        await asyncio.to_thread(own_pg.start)

        after = [await write(f"重启后{i}") for i in range(8)]
        statuses = [status for status, _ in after]
        assert set(statuses) <= {201, 503}, after
        # The pool drops every dead connection at once: at most one request pays for the restart.
        assert statuses.count(503) <= 1, statuses
        assert statuses[-1] == 201
        # A restart no request noticed: the pool still holds connections the old server closed.
        between = await asyncio.gather(*(write(f"再次重启前{i}") for i in range(6)))
        assert [status for status, _ in between] == [201] * 6
        await asyncio.to_thread(own_pg.stop)
        await asyncio.to_thread(own_pg.start)
        again = [await write(f"再次重启后{i}") for i in range(8)]
        statuses = [status for status, _ in again]
        assert set(statuses) <= {201, 503}, again
        assert statuses.count(503) <= 1, statuses
        assert statuses[-1] == 201
        after += between + again

        accepted = [body["id"] for status, body in before + after if status == 201]

        # Every accepted note is stored, and its event reaches the reader through relay and consumer.
        assert await count(writer.runtime, notes) == len(accepted)

        async def all_applied() -> bool:
            return await count(reader.runtime, applied) == len(accepted)

        await eventually(all_applied, within=60)
