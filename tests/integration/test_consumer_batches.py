"""Consumers apply the events of a fetch in one transaction, each still exactly once.

A failing event must not cost the others anything but a retry one by one: they are applied, it is
retried alone and parked once. A database that goes away in the middle of a batch leaves nothing
half-applied: the batch is handed back and applied whole, once, after the database returns.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import nats
import pytest
from sqlalchemy import func, insert, select, text

from daiban_common.consumer import EventConsumer, Subscription, on
from daiban_common.runtime import ServiceRuntime
from daiban_common.service import ServiceSpec
from daiban_common.settings import Settings
from daiban_common.uow import UnitOfWork
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_devtools.embedded import EmbeddedPostgres
from tests.integration.probe import READER_SPEC, NoteWritten, applied, count, create_probe_tables, own_network
from tests.integration.test_consumer_health import VILLAGE, publish_note
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

TOWNSHIP = "370285101000"
NOTES = 20


def recording_reader(before: Callable[[str], object] | None = None) -> ServiceSpec:
    """The probe reader, recording in `applied.traceparent` the transaction each note was applied
    in (so a test sees the batches), and failing for good on a note saying "poison"."""

    async def apply(envelope: Envelope, payload: NoteWritten, uow: UnitOfWork) -> None:
        if before is not None:
            waited = before(payload.text)
            if asyncio.iscoroutine(waited):
                await waited
        if payload.text == "poison":
            raise RuntimeError("this note can never be applied")
        conn = await uow.session.connection()
        txid = await conn.scalar(text("SELECT txid_current()"))
        await conn.execute(
            insert(applied).values(event_id=envelope.id, note_id=payload.text, traceparent=str(txid))
        )

    def subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
        return [Subscription(name="notes", handlers=dict([on(NoteWritten, apply)]))]

    return dataclasses.replace(READER_SPEC, subscriptions=subscriptions)


def notes_consumer(runtime: ServiceRuntime) -> EventConsumer:
    return next(c for c in runtime.consumers if c.name.endswith("-notes"))


async def queued(runtime: ServiceRuntime, settings: Settings, texts: list[str]) -> None:
    """Publish notes while the consumer is stopped, then start it: one fetch takes them all."""
    consumer = notes_consumer(runtime)
    await consumer.stop()
    for note in texts:
        await publish_note(settings, note)
    await consumer.start()


async def applied_rows(runtime: ServiceRuntime) -> list[tuple[str, str]]:
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(select(applied.c.note_id, applied.c.traceparent))).all()
    return [(row.note_id, row.traceparent) for row in rows]


async def test_a_failing_event_is_parked_once_and_the_rest_of_its_batch_applied(network: Network) -> None:
    settings = await network.node(TOWNSHIP, consumer_max_deliver=3)
    async with running(recording_reader(), settings) as reader:
        await create_probe_tables(reader.runtime)
        texts = [f"note-{i}" for i in range(NOTES)]
        texts.insert(NOTES // 2, "poison")
        await queued(reader.runtime, settings, texts)

        async def parked() -> bool:
            return await count(reader.runtime, reader.runtime.tables.dead_letters) >= 1

        await eventually(parked, within=30)
        # Long enough for a second parking or a redelivery to show.
        await asyncio.sleep(1.5)

        rows = await applied_rows(reader.runtime)
        assert sorted(note for note, _ in rows) == sorted(t for t in texts if t != "poison")
        async with reader.runtime.engine.connect() as conn:
            dead = (await conn.execute(select(reader.runtime.tables.dead_letters))).all()
            inbox = await conn.scalar(select(func.count()).select_from(reader.runtime.tables.inbox))
        assert len(dead) == 1
        assert dead[0].attempts == 3 and "RuntimeError" in dead[0].error
        assert inbox == NOTES


async def test_events_of_one_fetch_are_applied_in_few_transactions(network: Network) -> None:
    settings = await network.node(TOWNSHIP)
    async with running(recording_reader(), settings) as reader:
        await create_probe_tables(reader.runtime)
        await queued(reader.runtime, settings, [f"note-{i}" for i in range(NOTES)])

        async def all_applied() -> bool:
            return await count(reader.runtime, applied) == NOTES

        await eventually(all_applied, within=30)
        transactions = {txid for _, txid in await applied_rows(reader.runtime)}
        # One fetch takes all twenty; one unit of work per event would be twenty transactions.
        assert len(transactions) < NOTES / 4, transactions


async def test_a_database_lost_mid_batch_leaves_nothing_lost_or_doubled(
    network: Network, own_pg: EmbeddedPostgres, tmp_path: Path
) -> None:
    own = await own_network(network, own_pg, tmp_path)
    settings = await own.node(TOWNSHIP)
    stopped = asyncio.Event()

    async def stop_database_once(note: str) -> None:
        # Half-way through the batch, with the first half written in its open transaction.
        if note == f"note-{NOTES // 2}" and not stopped.is_set():
            stopped.set()
            await asyncio.to_thread(own_pg.stop)

    async with running(recording_reader(stop_database_once), settings) as reader:
        await create_probe_tables(reader.runtime)
        await queued(reader.runtime, settings, [f"note-{i}" for i in range(NOTES)])

        await asyncio.wait_for(stopped.wait(), 30)
        await asyncio.sleep(1.0)  # the consumer meets the outage and hands the batch back
        assert notes_consumer(reader.runtime).running
        await asyncio.to_thread(own_pg.start)

        async def all_applied() -> bool:
            try:
                return await count(reader.runtime, applied) >= NOTES
            except Exception:  # the pool's connections from before the restart
                return False

        await eventually(all_applied, within=60)
        await asyncio.sleep(1.0)  # a doubled event would show by now
        rows = await applied_rows(reader.runtime)
        assert sorted(note for note, _ in rows) == sorted(f"note-{i}" for i in range(NOTES))
        assert await count(reader.runtime, reader.runtime.tables.dead_letters) == 0
        assert await count(reader.runtime, reader.runtime.tables.inbox) == NOTES


async def test_an_event_delivered_twice_in_one_fetch_or_again_later_is_applied_once(network: Network) -> None:
    """The inbox rows of a run are claimed in one statement: the same event twice in a run, and an
    event applied in an earlier run, must each still count once."""
    settings = await network.node(TOWNSHIP)
    async with running(recording_reader(), settings) as reader:
        await create_probe_tables(reader.runtime)
        early = make_envelope(
            NoteWritten(note_id="n", text="early"), source="/t", subject="note", org=VILLAGE, actor="t"
        )
        await publish_envelope(settings, early, message_id="early-1")

        async def first_applied() -> bool:
            return await count(reader.runtime, applied) == 1

        await eventually(first_applied, within=30)
        twice = make_envelope(
            NoteWritten(note_id="n", text="twice"), source="/t", subject="note", org=VILLAGE, actor="t"
        )
        consumer = notes_consumer(reader.runtime)
        await consumer.stop()
        # Distinct Nats-Msg-Ids, so JetStream keeps every copy and the consumer sees them all.
        await publish_envelope(settings, twice, message_id="twice-1")
        for i in range(5):
            await publish_note(settings, f"other-{i}")
        await publish_envelope(settings, twice, message_id="twice-2")
        await publish_envelope(settings, early, message_id="early-2")
        await consumer.start()

        async def all_seen() -> bool:
            return await count(reader.runtime, applied) >= 7

        await eventually(all_seen, within=30)
        await asyncio.sleep(1.5)  # long enough for a second application to show
        rows = await applied_rows(reader.runtime)
        assert sorted(note for note, _ in rows) == sorted(
            ["early", "twice", *[f"other-{i}" for i in range(5)]]
        )
        # ...and in the run's own transaction: a second application would have failed the run
        # (the probe's row is keyed by event) and sent it one by one, a transaction per event.
        assert len({txid for note, txid in rows if note != "early"}) <= 2, rows
        assert await count(reader.runtime, reader.runtime.tables.inbox) == 7


async def publish_envelope(settings: Settings, envelope: Envelope, *, message_id: str) -> None:
    nc = await nats.connect(settings.nats_url)
    try:
        subject = f"{settings.subject_root}.370285.101.201.note.written"
        await nc.jetstream().publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": message_id})
    finally:
        await nc.close()
