"""Outbox, relay, inbox and dead letters against a real PostgreSQL and nats-server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NATS
from sqlalchemy import select

from daiban_common.auth import Role, issue_token
from daiban_common.settings import Settings
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_devtools.embedded import free_port
from tests.integration.probe import (
    READER_SPEC,
    WRITER_SPEC,
    NoteWritten,
    applied,
    count,
    create_probe_tables,
)
from tests.servers import Network, RunningService, eventually, running

pytestmark = pytest.mark.integration

TOWNSHIP = "370285101000"


def bearer(settings: Settings, role: Role = Role.clerk, org: str = TOWNSHIP) -> dict[str, str]:
    token = issue_token(settings, sub=f"{role}@{org}", role=role, org=org, name="测试")
    return {"Authorization": f"Bearer {token}"}


async def stream_messages(settings: Settings) -> list[Envelope]:
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(settings.stream_name)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(settings.stream_name, seq)
            found.append(Envelope.from_bytes(msg.data or b""))
        return found
    finally:
        await nc.close()


async def test_event_committed_while_bus_is_away_is_published_after_restart(network: Network) -> None:
    # The first process never reaches NATS: its relay cannot run, as if killed after the commit.
    settings = await network.node(TOWNSHIP)
    cut_off = settings.model_copy(update={"nats_url": f"nats://127.0.0.1:{free_port()}"})
    async with running(WRITER_SPEC, cut_off, wait_for_bus=False) as writer:
        await create_probe_tables(writer.runtime)
        response = await writer.client.post(
            "/v1/notes", json={"org": "370285101201", "text": "第一条"}, headers=bearer(settings)
        )
        assert response.status_code == 201, response.text
        event_id = response.json()["id"]
        async with writer.runtime.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(writer.runtime.tables.outbox).where(
                        writer.runtime.tables.outbox.c.event_id == event_id
                    )
                )
            ).one()
        assert row.published_at is None
        assert row.subject == f"{settings.subject_root}.370285.101.201.note.written"

    # A new process with the bus: the pending row goes out exactly once and is marked sent.
    async with running(WRITER_SPEC, settings) as writer:

        async def published() -> bool:
            async with writer.runtime.engine.connect() as conn:
                value = await conn.scalar(
                    select(writer.runtime.tables.outbox.c.published_at).where(
                        writer.runtime.tables.outbox.c.event_id == event_id
                    )
                )
            return value is not None

        await eventually(published)
    envelopes = await stream_messages(settings)
    assert [e.id for e in envelopes] == [event_id]
    assert envelopes[0].type == "daiban.note.written.v1"
    assert envelopes[0].org == "370285101201"


async def test_same_event_delivered_twice_is_applied_once(network: Network) -> None:
    settings = await network.node(TOWNSHIP)
    async with running(READER_SPEC, settings) as reader:
        await create_probe_tables(reader.runtime)
        envelope = make_envelope(
            NoteWritten(note_id="n1", text="重复投递"),
            source="/test",
            subject="note",
            org="370285101201",
            actor="test",
        )
        subject = f"{settings.subject_root}.370285.101.201.note.written"
        nc = await nats.connect(settings.nats_url)
        js = nc.jetstream()
        # Two distinct message ids defeat the broker's dedupe window: only the inbox can save us.
        await js.publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id + "-a"})
        await js.publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id + "-b"})
        await nc.close()
        metrics = reader.runtime.metrics

        async def both_seen() -> bool:
            text = metrics.exposition().decode()
            return 'outcome="duplicate"' in text and 'outcome="applied"' in text

        await eventually(both_seen)
        assert await count(reader.runtime, applied) == 1
        assert await count(reader.runtime, reader.runtime.tables.inbox) == 1


@asynccontextmanager
async def reader_and_publisher(network: Network) -> AsyncIterator[tuple[RunningService, str, NATS]]:
    """A running probe reader that parks an event after 3 failures, the subject it reads notes on,
    and a plain NATS connection to publish there (closed by the caller once it has published)."""
    settings = await network.node(TOWNSHIP, consumer_max_deliver=3)
    async with running(READER_SPEC, settings) as reader:
        await create_probe_tables(reader.runtime)
        nc = await nats.connect(settings.nats_url)
        yield reader, f"{settings.subject_root}.370285.101.201.note.written", nc


async def test_failing_and_malformed_events_end_in_the_dead_letter_table(network: Network) -> None:
    async with reader_and_publisher(network) as (reader, subject, nc):
        js = nc.jetstream()
        poison = make_envelope(
            NoteWritten(note_id="p", text="poison"),
            source="/t",
            subject="note",
            org="370285101201",
            actor="t",
        )
        unknown = make_envelope(
            NoteWritten(note_id="u", text="unknown-case"),
            source="/t",
            subject="note",
            org="370285101201",
            actor="t",
        )
        good = make_envelope(
            NoteWritten(note_id="g", text="正常"), source="/t", subject="note", org="370285101201", actor="t"
        )
        await js.publish(subject, poison.to_bytes())
        await js.publish(subject, b"{not json")
        await js.publish(subject, json.dumps({"type": "daiban.note.written.v1"}).encode())
        await js.publish(subject, unknown.to_bytes())
        await js.publish(subject, good.to_bytes())
        await nc.close()
        dead = reader.runtime.tables.dead_letters

        async def four_parked() -> list[Any]:
            async with reader.runtime.engine.connect() as conn:
                rows = (await conn.execute(select(dead).order_by(dead.c.id))).all()
            return list(rows) if len(rows) == 4 else []

        rows = await eventually(four_parked, within=20)
        by_event = {row.event_id: row for row in rows}  # type: ignore[attr-defined]
        assert by_event[poison.id].attempts == 3
        assert "RuntimeError" in by_event[poison.id].error
        assert by_event[unknown.id].attempts == 1
        assert "案件不存在" in by_event[unknown.id].error
        malformed = [row for row in rows if row.event_id is None]  # type: ignore[attr-defined]
        assert len(malformed) == 2
        assert all("not a daiban event envelope" in row.error for row in malformed)
        # The consumer kept going: the good event behind the bad ones was applied.
        assert await count(reader.runtime, applied) == 1


async def test_payload_postgresql_cannot_store_is_parked_not_retried_for_ever(network: Network) -> None:
    """A NUL byte (refused by `text` and JSONB) and a publisher's over-long message id must not
    make the dead letter itself fail to be written, which would hold the event in the stream and
    retry it without end."""
    async with reader_and_publisher(network) as (reader, subject, nc):
        js = nc.jetstream()
        good = make_envelope(
            NoteWritten(note_id="g2", text="正常"), source="/t", subject="note", org="370285101201", actor="t"
        )
        await js.publish(subject, b'{"id": "\x00", "type": "\x00"}', headers={"Nats-Msg-Id": "m" * 200})
        await js.publish(subject, good.to_bytes())
        await nc.close()
        dead = reader.runtime.tables.dead_letters

        async def parked() -> list[Any]:
            async with reader.runtime.engine.connect() as conn:
                return list((await conn.execute(select(dead))).all())

        rows = await eventually(parked, within=20)
        assert isinstance(rows, list) and len(rows) == 1
        row = rows[0]
        assert row.payload == '{"id": "\ufffd", "type": "\ufffd"}'
        assert row.event_id == "m" * 64
        assert row.attempts == 1
        # Nothing stays behind it: the good event was applied.
        assert await eventually(lambda: count(reader.runtime, applied), within=20) == 1
