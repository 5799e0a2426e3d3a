"""Outbox -> JetStream: events per second and commit-to-ack lag, against raw publish_async."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import nats
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import func, insert, select
from sqlmodel import SQLModel

from daiban_common import bus, db
from daiban_common.messaging import messaging_tables
from daiban_common.relay import OutboxRelay
from daiban_common.telemetry import tracer_for
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import OneTimeNoticeIssued, StaffRef
from daiban_contracts.envelope import make_envelope
from daiban_contracts.subjects import Subjects

SCHEMA = "bench_relay"


def sample_payload() -> OneTimeNoticeIssued:
    from datetime import UTC, datetime

    return OneTimeNoticeIssued(
        notice_number="N3702851012012026112200001",
        item_implementation_code="XK-00105-001-370285000000-01",
        item_name="建设工程规划许可",
        org="370285101201",
        issued_by=StaffRef(staff_id="village-agent", name="村代办员", org="370285101201"),
        issues=(),
        issued_at=datetime.now(UTC),
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def run(
    database_url: str, nats_url: str, events: int = 20_000, lag_events: int = 3_000
) -> dict[str, Any]:
    engine = db.create_engine(database_url, pool_size=20)
    tables = messaging_tables(SCHEMA)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        await conn.exec_driver_sql(f'CREATE SCHEMA "{SCHEMA}"')
        await conn.run_sync(
            lambda sync: SQLModel.metadata.create_all(
                sync, tables=[tables.outbox, tables.inbox, tables.dead_letters]
            )
        )
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await bus.ensure_stream(js, "BENCH", ["bench.>"])
    envelope = make_envelope(
        sample_payload(), source="/bench", subject="N1", org="370285101201", actor="bench"
    )
    body = envelope.model_dump_json().encode()
    subject = "bench.370285.101.201.notice.issued"

    # Ceiling: the same payloads straight to the same stream, pipelined the way the relay does.
    started = time.perf_counter()
    window = 256
    for offset in range(0, events, window):
        futures = [
            await js.publish_async(subject, body, headers={"Nats-Msg-Id": f"raw-{offset + i}"})
            for i in range(min(window, events - offset))
        ]
        await asyncio.gather(*futures)
    raw_rate = events / (time.perf_counter() - started)

    # Relay throughput: a backlog of committed rows drained by one relay.
    rows = [
        {"event_id": f"ev-{i}", "subject": subject, "type": envelope.type, "envelope": body.decode()}
        for i in range(events)
    ]
    async with engine.begin() as conn:
        for offset in range(0, events, 5_000):
            await conn.execute(insert(tables.outbox), rows[offset : offset + 5_000])
    relay = OutboxRelay(
        engine=engine, tables=tables, js=js, tracer=tracer_for(TracerProvider()), batch=window
    )
    started = time.perf_counter()
    while await relay.publish_pending():
        pass
    relay_rate = events / (time.perf_counter() - started)

    # Lag under a steady load: units of work commit events while the relay runs.
    sessions = db.session_factory(engine)
    relay.start()
    rate = 1_000.0

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, tables, source="/bench", subjects=Subjects("bench"), on_commit=relay.wake)

    async def produce(i: int) -> None:
        async with uow() as unit:
            unit.emit(sample_payload(), subject=f"N{i}", org="370285101201", actor="bench")
            await unit.commit()

    started = time.perf_counter()
    tasks = []
    for i in range(lag_events):
        tasks.append(asyncio.create_task(produce(i)))
        delay = started + (i + 1) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.gather(*tasks)
    while True:
        async with engine.connect() as conn:
            pending = await conn.scalar(
                select(func.count()).select_from(tables.outbox).where(tables.outbox.c.published_at.is_(None))
            )
        if not pending:
            break
        await asyncio.sleep(0.05)
    await relay.stop()
    async with engine.connect() as conn:
        lags = [
            row[0]
            for row in await conn.execute(
                select(
                    func.extract("epoch", tables.outbox.c.published_at - tables.outbox.c.created_at)
                ).where(tables.outbox.c.event_id.not_like("ev-%"))
            )
        ]
    lag_ms = [float(v) * 1000 for v in lags]
    await nc.close()
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f'DROP SCHEMA "{SCHEMA}" CASCADE')
    await engine.dispose()
    return {
        "events": events,
        "raw_publish_per_s": round(raw_rate),
        "relay_per_s": round(relay_rate),
        "relay_ratio": round(relay_rate / raw_rate, 3),
        "lag_load_per_s": rate,
        "lag_p50_ms": round(percentile(lag_ms, 0.5), 1),
        "lag_p99_ms": round(percentile(lag_ms, 0.99), 1),
        "lag_mean_ms": round(statistics.fmean(lag_ms), 1) if lag_ms else None,
    }
