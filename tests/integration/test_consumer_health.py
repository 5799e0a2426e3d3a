"""`/readyz` and the consumer_* metrics show a consumer that is stalled or not running.

Before, a consumer whose task had ended left `/readyz` at 200 and moved no metric: a node looked
healthy while its cases were never routed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import nats
import nats.errors
import pytest

from daiban_common.consumer import EventConsumer, Subscription, on
from daiban_common.runtime import ServiceRuntime
from daiban_common.service import ServiceSpec
from daiban_common.settings import Settings
from daiban_common.uow import UnitOfWork
from daiban_contracts.envelope import Envelope, make_envelope
from tests.integration.probe import (
    READER_SPEC,
    NoteWritten,
    applied,
    apply_note,
    count,
    create_probe_tables,
)
from tests.servers import Network, RunningService, eventually, running

pytestmark = pytest.mark.integration

TOWNSHIP = "370285101000"
VILLAGE = "370285101201"


def hanging_reader(release: asyncio.Event) -> ServiceSpec:
    """The probe reader, except that a note saying "hang" is applied only once `release` is set."""

    async def apply(envelope: Envelope, payload: NoteWritten, uow: UnitOfWork) -> None:
        if payload.text == "hang":
            await release.wait()
        await apply_note(envelope, payload, uow)

    def subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
        return [
            Subscription(
                name="notes",
                handlers=dict([on(NoteWritten, apply)]),
            )
        ]

    return dataclasses.replace(READER_SPEC, subscriptions=subscriptions)


async def publish_note(settings: Settings, text: str) -> None:
    envelope = make_envelope(
        NoteWritten(note_id="n", text=text), source="/t", subject="note", org=VILLAGE, actor="t"
    )
    nc = await nats.connect(settings.nats_url)
    try:
        subject = f"{settings.subject_root}.370285.101.201.note.written"
        await nc.jetstream().publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id})
    finally:
        await nc.close()


async def redelivered_elsewhere(settings: Settings, consumer: EventConsumer) -> list[Any]:
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        other = await js.pull_subscribe_bind(durable=consumer.name, stream=settings.stream_name)
        try:
            # Long past ack_wait: only the heartbeats can have kept the message from coming here.
            return list(await other.fetch(1, timeout=3 * settings.consumer_ack_wait))
        except (nats.errors.TimeoutError, TimeoutError):
            return []
    finally:
        await nc.close()


async def readiness(service: RunningService) -> tuple[int, dict[str, Any]]:
    response = await service.client.get("/readyz")
    return response.status_code, response.json()


def gauge(runtime: ServiceRuntime, name: str, consumer: EventConsumer) -> float | None:
    return runtime.metrics.registry.get_sample_value(name, {"consumer": consumer.name})


def outcomes(runtime: ServiceRuntime) -> dict[str, float]:
    found: dict[str, float] = {}
    for metric in runtime.metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "events_consumed_total":
                outcome = sample.labels["outcome"]
                found[outcome] = found.get(outcome, 0.0) + sample.value
    return found


async def test_readiness_fails_while_a_consumer_is_stalled_or_not_running(network: Network) -> None:
    # A short ack_wait: a message held longer than that is redelivered unless the consumer says
    # it is still working on it (in_progress heartbeats).
    # ack_wait 2 s (heartbeats every 0.7 s): a shorter one was missed on a loaded two-core machine.
    settings = await network.node(TOWNSHIP, consumer_stall_seconds=2.0, consumer_ack_wait=2.0)
    release = asyncio.Event()
    async with running(hanging_reader(release), settings) as reader:
        runtime = reader.runtime
        await create_probe_tables(runtime)
        (notes,) = runtime.consumers

        async def ready() -> bool:
            status, body = await readiness(reader)
            return status == 200 and body["checks"]["consumers"] == "ok"

        await eventually(ready, within=15)
        assert gauge(runtime, "consumer_up", notes) == 1.0

        # Stalled: a handler that does not return.
        await publish_note(settings, "hang")

        async def stalled() -> dict[str, Any] | None:
            status, body = await readiness(reader)
            return body if status == 503 else None

        body = await eventually(stalled, within=15)
        assert isinstance(body, dict)
        assert body["checks"] == {"database": "ok", "nats": "ok", "consumers": "error: ConsumerNotHealthy"}
        assert body["type"] == "/problems/not-ready"
        # Another instance of the service pulling from the same durable consumer gets nothing:
        # the message, held for longer than ack_wait, is kept by the in_progress heartbeats.
        assert await redelivered_elsewhere(settings, notes) == []
        release.set()
        await eventually(ready, within=15)
        await eventually(lambda: count(runtime, applied), within=15)
        assert outcomes(runtime) == {"applied": 1.0}
        assert (gauge(runtime, "consumer_last_progress_timestamp_seconds", notes) or 0) > 0

        # Not running: the loop's task has ended (as a crash of the old loop ended it).
        task = notes._task
        assert task is not None
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        status, body = await readiness(reader)
        assert status == 503
        assert body["checks"]["consumers"] == "error: ConsumerNotHealthy"
        assert gauge(runtime, "consumer_up", notes) == 0.0

        await notes.start()
        await eventually(ready, within=15)
        assert gauge(runtime, "consumer_up", notes) == 1.0
        await publish_note(settings, "之后")

        async def both_applied() -> bool:
            return await count(runtime, applied) == 2

        await eventually(both_applied, within=15)
