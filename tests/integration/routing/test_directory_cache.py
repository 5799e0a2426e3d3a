"""Assignments read the directory from a cache in memory (queries.lookup.DirectoryCache): a change
of the directory, made by this process or any other, is seen by the next assignment."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from daiban_common.db import asyncpg_dsn
from daiban_common.settings import Settings
from daiban_contracts.catalogue import Tier
from tests.integration.routing.helpers import (
    COUNTY,
    accept,
    accepted,
    bearer,
    item,
    route_when,
    seeded_routing,
)
from tests.servers import Network

pytestmark = pytest.mark.integration

# Window 01 of the county centre (civil affairs): A post 赵敏, B post 钱立新.
A_POST, B_POST = "county-clerk", "county-approver"


async def _assigned(settings: Settings, client: httpx.AsyncClient) -> dict[str, Any]:
    number, payload = accepted(item(Tier.county, "county.civil_affairs"), at=COUNTY)
    await accept(settings, payload)
    supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
    route = await route_when(client, supervisor, number, lambda r: bool(r["tasks"]))
    task: dict[str, Any] = route["tasks"][0]
    return task


async def test_the_next_assignment_sees_a_directory_change_from_any_process(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        first = await _assigned(settings, client)
        assert (first["window"], first["staff_id"], first["post"]) == ("01", A_POST, "a")

        # Another process of the node (or psql) takes the A post off duty: nothing in this
        # process is told, the directory's version tells it.
        conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        try:
            await conn.execute("UPDATE routing.staff SET on_duty = false WHERE id = $1", A_POST)
            second = await _assigned(settings, client)
            assert (second["window"], second["staff_id"], second["post"]) == ("01", B_POST, "b")

            # The window loses its B post as well: the next case waits in the window's queue.
            await conn.execute(
                "UPDATE routing.windows SET b_post = NULL WHERE org = $1 AND number = '01'", COUNTY
            )
            third = await _assigned(settings, client)
            assert (third["window"], third["staff_id"], third["post"]) == ("01", None, "queue")
        finally:
            await conn.close()

        # Changes through routing's own API: the A post back on duty, then off again.
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        for on_duty, expected in ((True, (A_POST, "a")), (False, (None, "queue"))):
            duty = await client.put(f"/v1/staff/{A_POST}/duty", json={"on_duty": on_duty}, headers=supervisor)
            assert duty.status_code == 200, duty.text
            task = await _assigned(settings, client)
            assert (task["staff_id"], task["post"]) == expected
