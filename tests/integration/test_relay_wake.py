"""The relay publishes an event committed while it is publishing a window, without a poll."""

from __future__ import annotations

from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from daiban_common import bus, db
from daiban_common.messaging import MessagingTables, messaging_tables
from daiban_common.metrics import ServiceMetrics
from daiban_common.relay import OutboxRelay
from daiban_common.telemetry import tracer_for
from tests.servers import Network, eventually

pytestmark = pytest.mark.integration


async def relay_setup(network: Network) -> tuple[AsyncEngine, MessagingTables, Client, JetStreamContext]:
    """An outbox in a schema of its own and a stream for its subjects (`<network>relay.>`)."""
    settings = await network.node()
    schema = f"{network.name}_relay"
    engine = db.create_engine(settings.database_url, pool_size=2)
    tables = messaging_tables(schema)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await conn.run_sync(
            lambda sync: SQLModel.metadata.create_all(
                sync, tables=[tables.outbox, tables.inbox, tables.dead_letters]
            )
        )
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    await bus.ensure_stream(js, f"{network.name.upper()}_RELAY", [f"{network.name}relay.>"])
    return engine, tables, nc, js


async def test_a_commit_during_a_window_is_published_without_waiting_for_a_poll(network: Network) -> None:
    engine, tables, nc, js = await relay_setup(network)

    async def commit_event(event_id: str) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                insert(tables.outbox).values(
                    event_id=event_id, subject=f"{network.name}relay.x", type="t", envelope="{}"
                )
            )

    # A poll so long that only a wake-up can get the second event out within the test.
    relay = OutboxRelay(
        engine=engine, tables=tables, js=js, tracer=tracer_for(TracerProvider()), poll_interval=3600
    )
    publish_async = js.publish_async
    committed_during_window = False

    async def publish_and_commit_another(*args: Any, **kwargs: Any) -> Any:
        nonlocal committed_during_window
        if not committed_during_window:
            committed_during_window = True
            await commit_event("second")
            relay.wake()  # what the unit of work's on_commit does
        return await publish_async(*args, **kwargs)

    js.publish_async = publish_and_commit_another  # type: ignore[method-assign]
    try:
        await commit_event("first")
        relay.start()
        relay.wake()

        async def all_published() -> bool:
            async with engine.connect() as conn:
                pending = await conn.scalar(
                    select(func.count())
                    .select_from(tables.outbox)
                    .where(tables.outbox.c.published_at.is_(None))
                )
            return committed_during_window and pending == 0

        await eventually(all_published, within=30)
    finally:
        await relay.stop()
        await nc.close()
        await engine.dispose()


async def test_the_pending_gauge_shows_what_waits_while_publishing_fails(network: Network) -> None:
    engine, tables, nc, js = await relay_setup(network)
    async with engine.begin() as conn:
        for i in range(3):
            await conn.execute(
                insert(tables.outbox).values(
                    event_id=f"e{i}", subject=f"{network.name}relay.x", type="t", envelope="{}"
                )
            )
    metrics = ServiceMetrics("test", process_collectors=False)
    publish_async = js.publish_async
    failing = True

    async def publish(*args: Any, **kwargs: Any) -> Any:
        if failing:
            raise nats.errors.NoRespondersError
        return await publish_async(*args, **kwargs)

    def pending() -> float | None:
        return metrics.registry.get_sample_value("outbox_pending")

    js.publish_async = publish  # type: ignore[method-assign]
    relay = OutboxRelay(
        engine=engine, tables=tables, js=js, tracer=tracer_for(TracerProvider()), metrics=metrics
    )
    try:
        relay.start()

        async def three_waiting() -> bool:
            return pending() == 3

        await eventually(three_waiting, within=30)
        failing = False

        async def none_waiting() -> bool:
            return pending() == 0

        await eventually(none_waiting, within=30)
    finally:
        await relay.stop()
        await nc.close()
        await engine.dispose()
