"""Audit chain verification in one process: entries/s of `verify_chain` over N appended entries.

The bench's audit phase measures one cold HTTP request over a few thousand entries, so the first
use of a connection dominates it. This probe appends N entries through the log's own write path
(`append_entry`, in units of work of 1,000 events, as the consumer applies a fetch) on embedded
PostgreSQL (the rest of N sealed by the same code and copied in: `--through-append`), then times
`verify_chain` several times on the service's own pool: the first call
(statements not prepared yet on a fresh connection), the calls after, and `GET /v1/audit/verify`
through the in-memory client. With `--profile` it prints the top functions of one warm call.

    .venv/bin/python -m bench.verify_probe --entries 50000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import time
from datetime import UTC, datetime
from typing import Any, cast

import orjson

from bench.audit import notices
from bench.probe import _node
from daiban_audit import queries
from daiban_audit.context import AuditContext
from daiban_audit.domain.chain import CHAIN, GENESIS_HASH, Entry, sealed
from daiban_audit.domain.masking import mask_personal_data
from daiban_audit.handlers.ledger import append_entry
from daiban_audit.models import SCHEMA
from daiban_contracts.envelope import Envelope
from tests.integration.audit.journey import bearer
from tests.servers import running

APPEND_BATCH = 1000
COLUMNS = list(Entry.__slots__)


async def _append(service: Any, entries: int, through: int) -> float:
    """The first `through` entries through `append_entry` (1,000 per unit of work); the rest sealed
    by the same code (`sealed`, masking) and copied in, the chain head moved with them."""
    ctx = cast(AuditContext, service.runtime.context)
    started = time.perf_counter()
    envelopes = notices(entries)
    for offset in range(0, min(through, entries), APPEND_BATCH):
        async with service.runtime.uow() as uow:
            for i in range(offset, min(offset + APPEND_BATCH, through, entries)):
                await append_entry(ctx, envelopes[i], envelopes[i].payload(), uow)
                await uow.session.flush()
                uow.session.expunge_all()
            await uow.commit()
    if entries > through:
        await _copy_in(service, envelopes[through:])
    return time.perf_counter() - started


async def _copy_in(service: Any, envelopes: list[Envelope]) -> None:
    async with service.runtime.engine.begin() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        head = f"SELECT size, head_hash FROM {SCHEMA}.chain_heads WHERE chain = $1"
        size, prev = await driver.fetchrow(head, CHAIN) or (0, GENESIS_HASH)
        records = []
        for envelope in envelopes:
            entry = sealed(
                Entry(
                    seq=size + 1, event_id=envelope.id, type=envelope.type, source=envelope.source,
                    subject=envelope.subject, time=envelope.time, recorded_at=datetime.now(UTC),
                    org=envelope.org, actor=envelope.actor, data=mask_personal_data(envelope.data),
                    prev_hash=prev,
                )
            )  # fmt: skip
            size, prev = entry.seq, entry.hash
            values = {**{n: getattr(entry, n) for n in COLUMNS}, "data": orjson.dumps(entry.data).decode()}
            records.append(tuple(values[n] for n in COLUMNS))
        await driver.copy_records_to_table("entries", schema_name=SCHEMA, columns=COLUMNS, records=records)
        await driver.execute(
            f"INSERT INTO {SCHEMA}.chain_heads (chain, size, head_hash, checkpointed_size) "
            "VALUES ($1, $2, $3, 0) "
            "ON CONFLICT (chain) DO UPDATE SET size = excluded.size, head_hash = excluded.head_hash",
            CHAIN, size, prev,
        )  # fmt: skip


async def _verify_once(service: Any, cpu: list[float] | None = None) -> tuple[float, int]:
    async with service.runtime.uow() as uow:
        started, cpu0 = time.perf_counter(), time.process_time()
        verdict, _tail = await queries.verify_chain(uow, from_seq=1, to_seq=None)
        elapsed = time.perf_counter() - started
        if cpu is not None:
            cpu.append(time.process_time() - cpu0)
    assert verdict.ok, verdict
    return elapsed, verdict.checked


async def probe(entries: int, rounds: int, profile: bool, through: int) -> dict[str, Any]:
    async with _node("370285000000") as (_servers, settings), running("audit", settings) as service:
        for consumer in service.runtime.consumers:
            await consumer.stop()
        append_s = await _append(service, entries, through)
        # A fresh pool: the first call pays what a request on a new connection pays.
        await service.runtime.engine.dispose()
        first, checked = await _verify_once(service)
        cpu: list[float] = []
        warm = [(await _verify_once(service, cpu))[0] for _ in range(rounds)]
        headers = bearer(settings)
        http = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = await service.client.get("/v1/audit/verify", headers=headers)
            http.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.json()["ok"], response.text
        result: dict[str, Any] = {
            "entries": checked,
            "prepared_s": round(append_s, 1),
            "first_call_per_s": round(checked / first),
            "warm_per_s": [round(checked / s) for s in warm],
            "warm_median_per_s": round(checked / statistics.median(warm)),
            "warm_us_per_entry": round(statistics.median(warm) / checked * 1e6, 2),
            # This process's CPU (not the wall clock): what other processes on the cores change least.
            "warm_cpu_us_per_entry": round(min(cpu) / checked * 1e6, 2),
            "http_in_memory_per_s": [round(checked / s) for s in http],
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await _verify_once(service)
            profiler.disable()
            stats = pstats.Stats(profiler)
            result["calls_per_entry"] = round(stats.total_calls / checked, 1)  # type: ignore[attr-defined]
            stats.sort_stats("tottime").print_stats(15)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one warm call")
    parser.add_argument(
        "--through-append", type=int, default=1000, help="entries appended by append_entry (the rest: copied)"
    )
    args = parser.parse_args()
    result = asyncio.run(probe(args.entries, args.rounds, args.profile, args.through_append))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
