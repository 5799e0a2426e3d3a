"""Whether the suite has finished the work behind the last load: outboxes published, consumers caught up."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg

from daiban_common import bus
from daiban_common.bus import Credential
from daiban_common.service import discover_services

SCHEMAS = tuple(spec.schema for spec in discover_services().values())


@dataclass(frozen=True)
class Backlog:
    outbox: int
    consumers: int

    @property
    def empty(self) -> bool:
        return self.outbox == 0 and self.consumers == 0


async def backlog(
    conn: asyncpg.Connection, nats_url: str, stream: str = "DAIBAN", credential: Credential | None = None
) -> Backlog:
    outbox = 0
    for schema in SCHEMAS:
        outbox += await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")
    nc = await bus.connect(nats_url, name="bench-backlog", credential=credential)
    try:
        infos = await nc.jetstream().consumers_info(stream)
    finally:
        await nc.close()
    waiting = sum((info.num_pending or 0) + (info.num_ack_pending or 0) for info in infos)
    return Backlog(outbox, waiting)


async def wait_drained(
    conn: asyncpg.Connection, nats_url: str, within: float, credential: Credential | None = None
) -> tuple[bool, float]:
    """Wait until nothing is left to publish or apply; (drained, seconds waited)."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < within:
        if (await backlog(conn, nats_url, credential=credential)).empty:
            # Twice in a row: an event applied just now may have written a new outbox row.
            quiet += 1
            if quiet >= 2:
                return True, time.monotonic() - started
        else:
            quiet = 0
        await asyncio.sleep(0.5)
    return False, time.monotonic() - started
