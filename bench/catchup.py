"""Catch-up after a cut line: a township node's events queued while its link to the county was down
reach the county and are applied, timed from the moment the line comes back.

Real pieces: two nats-servers (the county's hub and the township's leaf, as
`daiban run --tiers` starts them) with the township's leaf dialling the hub through a `Link` the
benchmark cuts; the township's outbox and `OutboxRelay` (with its lanes) on PostgreSQL; the
county's durable `EventConsumer`, in a process of its own as on the county's machine, applying
each event with its inbox row and a row of its own (a fetch's events in one transaction). While
the line is down the township commits `events` units of work (a one-time notice each: the event
stays in the township's stream, its countywide copy waits in the outbox); then the line is mended
and the clock runs until the county has applied every copy.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlmodel import SQLModel

from bench.relay import sample_payload
from daiban_common import bus, db
from daiban_common.consumer import EventConsumer, Subscription, on
from daiban_common.messaging import messaging_tables
from daiban_common.relay import OutboxLanes, OutboxRelay
from daiban_common.telemetry import tracer_for
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import OneTimeNoticeIssued
from daiban_contracts.crossing import Topology
from daiban_contracts.envelope import Envelope
from daiban_contracts.subjects import CopyKind, Subjects
from daiban_devtools.embedded import free_port
from daiban_devtools.link import Link
from daiban_devtools.tiers import NatsNetwork

COUNTY, TOWNSHIP, VILLAGE = "370285000000", "370285101000", "370285101201"
TOWN_SCHEMA, COUNTY_SCHEMA = "bench_catchup_town", "bench_catchup_county"
STREAM = "DAIBAN"


async def _schema(engine: Any, schema: str, extra: list[Table]) -> None:
    tables = messaging_tables(schema)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await conn.run_sync(
            lambda sync: SQLModel.metadata.create_all(
                sync, tables=[tables.outbox, tables.inbox, tables.dead_letters, *extra]
            )
        )


async def _count(engine: Any, table: Table, *where: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def _until(check: Any, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - polls another process's work
            await asyncio.sleep(0.02)


async def run(base: Path, database_url: str, events: int = 10_000, batch: int = 64) -> dict[str, Any]:
    subjects = Subjects()
    leaf_port = free_port()
    link = Link(target_port=leaf_port)
    network = NatsNetwork(
        base=base / "catchup-nats",
        county=COUNTY,
        townships=[TOWNSHIP],
        hub_port=free_port(),
        township_ports={TOWNSHIP: free_port()},
        leaf_port=leaf_port,
        uplinks={TOWNSHIP: link.port},
    )
    link.mend()
    network.start()
    engine = db.create_engine(database_url, pool_size=10)
    applied = Table(
        "applied", MetaData(), Column("event_id", String(36), primary_key=True), schema=COUNTY_SCHEMA
    )
    await _schema(engine, TOWN_SCHEMA, [])
    await _schema(engine, COUNTY_SCHEMA, [applied])
    town_tables, county_tables = messaging_tables(TOWN_SCHEMA), messaging_tables(COUNTY_SCHEMA)
    tracer = tracer_for(TracerProvider())
    # As the nodes' intakes (the benchmark's events are intake's `notice.issued`).
    hub = await network.connect(COUNTY, "intake")
    leaf = await network.connect(TOWNSHIP, "intake")
    try:
        await bus.ensure_stream(hub.jetstream(), STREAM, subjects.node_stream(COUNTY, [TOWNSHIP]))
        await bus.ensure_stream(leaf.jetstream(), STREAM, subjects.node_stream(TOWNSHIP))
        town = Topology.of(TOWNSHIP)
        sessions = db.session_factory(engine)

        # The county's consumer in a process of its own, as on the county's machine: sharing this
        # process's core with the township's relay would measure the benchmark, not the network.
        spawn = multiprocessing.get_context("spawn")
        ready = spawn.Event()
        county = spawn.Process(
            target=_county,
            args=(database_url, network.url(COUNTY), batch, ready, network.credential(COUNTY, "intake")),
            daemon=True,
        )
        county.start()
        relay = OutboxRelay(
            engine=engine,
            tables=town_tables,
            js=leaf.jetstream(),
            tracer=tracer,
            lanes=OutboxLanes(subjects, town),
        )
        relay.start()

        link.cut()
        started = time.perf_counter()
        for offset in range(0, events, 500):
            async with UnitOfWork(
                sessions, town_tables, source="/bench/town", subjects=subjects, topology=town
            ) as uow:
                for i in range(offset, min(events, offset + 500)):
                    uow.emit(sample_payload(), subject=f"N{i}", org=VILLAGE, actor="bench")
                await uow.commit()
        relay.wake()
        queued_in = time.perf_counter() - started
        pending = town_tables.outbox.c.published_at.is_(None)
        # The township's own stream took its events at once; the copies for the county wait.
        await _until(lambda: _within(engine, town_tables, pending, events), 120)
        assert await _count(engine, applied) == 0, "events crossed a cut line"

        # The county's consumer is a running service when a line comes back, not one starting up
        # (a spawned process imports the suite for seconds on a busy machine).
        if not await asyncio.to_thread(ready.wait, 120):
            raise RuntimeError("the county's consumer did not start within 120 s")
        mended = time.perf_counter()
        link.mend()
        # Crossed: the county's stream acknowledged every copy (the township's outbox is empty).
        await _until(lambda: _within(engine, town_tables, pending, 0), 600)
        crossed = time.perf_counter() - mended
        await _until(lambda: _all_applied(engine, applied, events), 600)
        caught_up = time.perf_counter() - mended
        arrived = await _count(engine, county_tables.inbox)
        await relay.stop()
        county.terminate()
        county.join(10)
    finally:
        await hub.close()
        await leaf.close()
        link.cut()
        network.stop()
        async with engine.begin() as conn:
            for schema in (TOWN_SCHEMA, COUNTY_SCHEMA):
                await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await engine.dispose()
    return {
        "events": events,
        "committed_while_cut_seconds": round(queued_in, 2),
        "crossed_seconds": round(crossed, 2),
        "caught_up_seconds": round(caught_up, 2),
        "applied_per_second": round(events / caught_up, 1),
        "applied_once": arrived == events,
    }


def _county(database_url: str, nats_url: str, batch: int, ready: Any, credential: bus.Credential) -> None:
    asyncio.run(_consume(database_url, nats_url, batch, ready, credential))


async def _consume(
    database_url: str, nats_url: str, batch: int, ready: Any, credential: bus.Credential
) -> None:
    """The county's durable consumer: each copy applied with its inbox row and a row of its own."""
    subjects = Subjects()
    engine = db.create_engine(database_url, pool_size=4)
    sessions = db.session_factory(engine)
    county_tables = messaging_tables(COUNTY_SCHEMA)
    applied = Table(
        "applied", MetaData(), Column("event_id", String(36), primary_key=True), schema=COUNTY_SCHEMA
    )

    def county_uow() -> UnitOfWork:
        return UnitOfWork(sessions, county_tables, source="/bench/county", subjects=subjects)

    async def apply(envelope: Envelope, payload: OneTimeNoticeIssued, uow: UnitOfWork) -> None:
        await uow.session.exec(insert(applied).values(event_id=envelope.id))

    subscription = Subscription(
        name="catchup", handlers=dict([on(OneTimeNoticeIssued, apply)]), copies=[CopyKind.countywide]
    )
    hub = await bus.connect(nats_url, name="bench-catchup", credential=credential)
    consumer = EventConsumer(
        subscription=subscription,
        name="bench-catchup",
        filter_subjects=subscription.filter_subjects(subjects, COUNTY),
        js=hub.jetstream(),
        stream=STREAM,
        engine=engine,
        tables=county_tables,
        uow_factory=county_uow,
        tracer=tracer_for(TracerProvider()),
        batch=batch,
    )
    await consumer.start()
    ready.set()
    await asyncio.Event().wait()  # until the benchmark terminates the process


async def _within(engine: Any, tables: Any, pending: Any, waiting: int) -> bool:
    """Only the copies for the county are still pending: the township's own events went out."""
    return await _count(engine, tables.outbox, pending) == waiting


async def _all_applied(engine: Any, applied: Table, events: int) -> bool:
    return await _count(engine, applied) >= events
