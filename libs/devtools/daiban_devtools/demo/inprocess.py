"""The suite inside one process: each service's own app, and a bus that carries their events.

`InProcessSuite` builds every service's FastAPI app exactly as `daiban serve` does (its routes, its
schema, its outbox) and reaches it through an in-memory HTTP client, without starting relays,
consumers or timers. `InProcessBus` stands in for NATS: it reads each service's outbox in order and
hands every event to the subscriptions whose subject filters match, through the same inbox table
as the durable consumers. So when the suite is later started and the relays publish those events,
each consumer finds them already applied and skips them, as it would a redelivery. Like the
durable consumers, each subscription takes its events in order and the subscriptions work side by
side; the events a subscription gets in one round are applied in one transaction.

The moment a consumer applies an event is the event's time plus `delay` (see `daiban_common.clock`):
a case forwarded in March is received in March, not on the day the demo was seeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

import httpx
from fastapi import FastAPI
from sqlalchemy import event, insert, literal, select, text, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert

from daiban_common import clock
from daiban_common.app import create_app
from daiban_common.consumer import Handler, PermanentFailure, Subscription
from daiban_common.runtime import ServiceRuntime
from daiban_common.service import ServiceSpec
from daiban_common.settings import Settings
from daiban_common.uow import UnitOfWork
from daiban_contracts.envelope import Envelope, EventData, MalformedEvent


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, a final `>` is one or more."""
    want, have = pattern.split("."), subject.split(".")
    for index, token in enumerate(want):
        if token == ">":
            return len(have) > index
        if index >= len(have) or (token != "*" and token != have[index]):
            return False
    return len(have) == len(want)


@dataclass(frozen=True)
class _Route:
    runtime: ServiceRuntime
    subscription: Subscription
    # The durable consumer's name and filters, so its inbox rows are the ones the consumer keeps.
    name: str
    filters: list[str]


@dataclass(frozen=True)
class _Work:
    envelope: Envelope
    subject: str
    raw: str
    payload: EventData | None
    handler: Handler[Any]


@dataclass
class BusStats:
    delivered: int = 0
    duplicates: int = 0
    dead_letters: int = 0


class InProcessBus:
    """Carries events from the services' outboxes to their subscriptions, in outbox order."""

    def __init__(self, runtimes: Sequence[ServiceRuntime], *, delay: timedelta = timedelta(seconds=2)):
        self._runtimes = list(runtimes)
        self._routes = [
            _Route(rt, sub, rt.durable_name(sub), sub.filter_subjects(rt.subjects, rt.node_org))
            for rt in self._runtimes
            for sub in rt.spec.subscriptions(rt)
        ]
        self._cursors = {rt.spec.name: 0 for rt in self._runtimes}
        self._delay = delay
        self._lock = asyncio.Lock()
        self.stats = BusStats()

    async def drain(self) -> int:
        """Deliver every event not yet carried, and what those cause, until all is quiet.

        Each subscription takes its events in outbox order, one at a time, as a durable consumer
        does; different subscriptions work side by side, as the services' consumers do.
        """
        carried = 0
        async with self._lock:
            while True:
                rows = await self._new_rows()
                if not rows:
                    return carried
                queues: dict[int, list[tuple[Envelope, str, str]]] = {}
                for name, seq, subject, raw in rows:
                    self._cursors[name] = seq
                    envelope = Envelope.from_bytes(raw.encode())
                    for index, route in enumerate(self._routes):
                        if any(subject_matches(f, subject) for f in route.filters):
                            queues.setdefault(index, []).append((envelope, subject, raw))
                await asyncio.gather(
                    *(self._consume(self._routes[index], queue) for index, queue in queues.items())
                )
                carried += len(rows)

    async def _new_rows(self) -> list[tuple[str, int, str, str]]:
        """New rows of every outbox, service by service, in one query (a node's services share a
        database, one schema each)."""
        parts = []
        for index, runtime in enumerate(self._runtimes):
            outbox = runtime.tables.outbox
            parts.append(
                select(
                    literal(index).label("service"), outbox.c.seq, outbox.c.subject, outbox.c.envelope
                ).where(outbox.c.seq > self._cursors[runtime.spec.name])
            )
        stmt = union_all(*parts).order_by(text("service"), text("seq"))
        async with self._runtimes[0].engine.connect() as conn:
            return [
                (self._runtimes[int(r[0])].spec.name, int(r[1]), str(r[2]), str(r[3]))
                for r in await conn.execute(stmt)
            ]

    async def _consume(self, route: _Route, queue: list[tuple[Envelope, str, str]]) -> None:
        """Apply a subscription's events of one round in one transaction, each with its inbox row
        (all or none, as one by one would); if one can never apply, one by one, parking that one."""
        work: list[_Work] = []
        for envelope, subject, raw in queue:
            item = await self._prepare(route, envelope, subject, raw)
            if item is not None:
                work.append(item)
        if not work:
            return
        try:
            async with route.runtime.uow() as uow:
                applied = [await self._apply(route, uow, item) for item in work]
                await uow.commit()
        except PermanentFailure:
            for item in work:
                await self._deliver(route, item)
            return
        self.stats.delivered += sum(applied)
        self.stats.duplicates += len(applied) - sum(applied)

    async def _prepare(self, route: _Route, envelope: Envelope, subject: str, raw: str) -> _Work | None:
        """The handler and typed payload of an event, or None (skipped, or parked as malformed)."""
        try:
            routed = route.subscription.route(envelope)
        except MalformedEvent as exc:
            await self._park(route, envelope, subject, raw, str(exc))
            return None
        if routed is None:
            return None  # the durable consumer acknowledges and skips these too
        handler, payload = routed
        return _Work(envelope, subject, raw, payload, handler)

    async def _apply(self, route: _Route, uow: UnitOfWork, item: _Work) -> bool:
        """Inbox row and handler in `uow`; False if this consumer has applied the event before."""
        inbox = route.runtime.tables.inbox
        with clock.at(item.envelope.time + self._delay):
            fresh = await uow.session.exec(
                pg_insert(inbox)
                .values(consumer=route.name, event_id=item.envelope.id, type=item.envelope.type)
                .on_conflict_do_nothing()
                .returning(inbox.c.event_id)
            )
            if fresh.first() is None:
                return False
            await item.handler(item.envelope, item.payload, uow)
            return True

    async def _deliver(self, route: _Route, item: _Work) -> None:
        async with route.runtime.uow() as uow:
            try:
                applied = await self._apply(route, uow, item)
            except PermanentFailure as exc:
                await uow.rollback()
                await self._park(route, item.envelope, item.subject, item.raw, str(exc))
                return
            await uow.commit()
        self.stats.delivered += applied
        self.stats.duplicates += not applied

    async def _park(self, route: _Route, envelope: Envelope, subject: str, raw: str, error: str) -> None:
        """What the durable consumer does with an event that can never apply: keep it, with why."""
        async with route.runtime.engine.begin() as conn:
            await conn.execute(
                insert(route.runtime.tables.dead_letters).values(
                    consumer=route.name,
                    event_id=envelope.id,
                    subject=subject,
                    type=envelope.type,
                    payload=raw,
                    headers={},
                    error=error[:4000],
                    attempts=1,
                )
            )
        self.stats.dead_letters += 1


def _relaxed_commit(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO off")
    cursor.close()


class InProcessSuite:
    """Every service's app in this process, an HTTP client for each, and the bus between them."""

    def __init__(self, settings: Settings, specs: Sequence[ServiceSpec], *, delay: timedelta) -> None:
        self.settings = settings
        self.apps: dict[str, FastAPI] = {spec.name: create_app(spec, settings) for spec in specs}
        self.runtimes: dict[str, ServiceRuntime] = {
            name: app.state.runtime for name, app in self.apps.items()
        }
        self.clients: dict[str, httpx.AsyncClient] = {
            name: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=True),
                base_url=f"http://{name}",
                timeout=60,
            )
            for name, app in self.apps.items()
        }
        for runtime in self.runtimes.values():
            # A bulk load: a crash halfway loses the history either way, so commits need not wait
            # for the WAL to reach the disk (this session only; the services keep the default).
            event.listen(runtime.engine.sync_engine, "connect", _relaxed_commit)
        self.bus = InProcessBus(list(self.runtimes.values()), delay=delay)

    def client(self, service: str) -> httpx.AsyncClient:
        return self.clients[service]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        for runtime in self.runtimes.values():
            await runtime.engine.dispose()
            runtime.tracer_provider.shutdown()
