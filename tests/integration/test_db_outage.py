"""A PostgreSQL outage longer than a consumer's retry budget: every consumer carries on by itself.

Seen under load: the retries of an event ran out while the database was still down, parking it
failed in the same database, and the consumer's task ended for good (cases stuck at "accepted").
Here intake and routing of one node run on a PostgreSQL of the test's own; each consumer is made
to meet the outage with events in hand (it is paused while they pile up, then resumed once the
database is stopped), and is expected to apply every one of them once the database is back, with
nothing parked.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select

from daiban_common.consumer import EventConsumer
from daiban_common.db import asyncpg_dsn
from daiban_common.runtime import ServiceRuntime
from daiban_devtools.embedded import EmbeddedPostgres
from daiban_intake.models import Case as IntakeCase
from daiban_routing.models import Case as RoutingCase
from daiban_routing.service import SERVICE as ROUTING
from tests.integration.intake.helpers import application, bearer, item, keyed, publish_item
from tests.servers import TEMPLATE_DB, Network, Servers, create_template, eventually, running

pytestmark = pytest.mark.integration

COUNTY = "370285000000"
VILLAGE = "370285101294"  # 姜山社区, in routing's demo directory
CASES = 6
# Two attempts: the retry budget (0.5 s) is far shorter than the outage below.
MAX_DELIVER = 2


def consumer(runtime: ServiceRuntime, suffix: str) -> EventConsumer:
    return next(c for c in runtime.consumers if c.name.endswith(f"-{suffix}"))


def consecutive_failures(runtime: ServiceRuntime, name: str) -> float:
    value = runtime.metrics.registry.get_sample_value("consumer_consecutive_failures", {"consumer": name})
    return value or 0.0


async def count(runtime: ServiceRuntime, query: object) -> int:
    async with runtime.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)  # type: ignore[call-overload]


async def outbox_sent(runtime: ServiceRuntime) -> bool:
    outbox = runtime.tables.outbox
    pending = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    return await count(runtime, pending) == 0


async def through_outage(pg: EmbeddedPostgres, runtime: ServiceRuntime, paused: EventConsumer) -> None:
    """Stop PostgreSQL, resume `paused` so it meets the outage, outlast its retry budget, restart."""
    await asyncio.to_thread(pg.stop)
    await paused.start()

    async def beyond_budget() -> bool:
        # The consumer has met the outage more often than an event may fail: the old one parked
        # the event (into the unreachable database) and died before getting here.
        return consecutive_failures(runtime, paused.name) > MAX_DELIVER + 1

    await eventually(beyond_budget, within=30)
    assert paused.running
    await asyncio.to_thread(pg.start)


async def test_consumers_carry_on_after_an_outage_longer_than_their_retries(
    network: Network, own_pg: EmbeddedPostgres, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(own_pg.url()))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
    finally:
        await conn.close()
    servers = Servers(pg_url=own_pg.url(), nats_url=network.servers.nats_url)
    await create_template(servers)
    own = Network(servers=servers, tmp=tmp_path, name=network.name)
    settings = await own.node(COUNTY, consumer_max_deliver=MAX_DELIVER)
    agent = bearer(settings, org=VILLAGE)

    async with running("intake", settings) as intake, running("routing", settings) as routing:
        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)
        await publish_item(settings, intake.runtime, item())
        routing_cases = consumer(routing.runtime, "cases")
        progress = consumer(intake.runtime, "progress")
        await routing_cases.stop()
        await progress.stop()

        numbers = []
        for _ in range(CASES):
            response = await intake.client.post(
                "/v1/applications", json=application(org=VILLAGE), headers=keyed(agent)
            )
            assert response.status_code == 201, response.text
            numbers.append(response.json()["case_number"])
        await eventually(lambda: outbox_sent(intake.runtime))

        # Routing's consumer meets the outage with every acceptance in hand.
        await through_outage(own_pg, routing.runtime, routing_cases)
        routed = select(func.count()).select_from(RoutingCase)

        async def all_routed() -> bool:
            return await count(routing.runtime, routed) == CASES

        await eventually(all_routed, within=60)
        await eventually(lambda: outbox_sent(routing.runtime), within=30)

        # Intake's progress consumer meets another outage with routing's events in hand.
        await through_outage(own_pg, intake.runtime, progress)
        still_accepted = (
            select(func.count()).select_from(IntakeCase).where(IntakeCase.status == "accepted")  # type: ignore[arg-type]
        )

        async def all_moved_on() -> bool:
            return await count(intake.runtime, still_accepted) == 0

        await eventually(all_moved_on, within=60)

        # Nothing was parked, and every consumer of both services still runs and is ready.
        for runtime in (intake.runtime, routing.runtime):
            dead = select(func.count()).select_from(runtime.tables.dead_letters)
            assert await count(runtime, dead) == 0
            assert all(c.running for c in runtime.consumers)
        for client in (intake.client, routing.client):

            async def ready(client: httpx.AsyncClient = client) -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually(ready, within=30)
