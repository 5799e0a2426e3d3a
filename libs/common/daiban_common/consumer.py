"""Durable pull consumers that apply each event exactly once.

Each event is applied in one unit of work together with its inbox row, so a redelivery finds the
row and changes nothing. Ack only after commit; nak with a growing delay on transient failures;
park the event in the dead-letter table once it has failed `max_deliver` times, or at once when it
can never succeed (malformed, unknown type, a PermanentFailure raised by the handler).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.trace import Tracer
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from daiban_common.events import Envelope, EventData, MalformedEvent, UnknownEventType
from daiban_common.messaging import MessagingTables
from daiban_common.metrics import ServiceMetrics
from daiban_common.telemetry import consumer_span
from daiban_common.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

# Seconds a pull request waits for messages; also how long a stop may take to be noticed.
FETCH_TIMEOUT = 1.0
# Time to finish the batch in hand after the last fetch before the loop is cancelled.
STOP_GRACE = 10.0

Handler = Callable[[Envelope, Any, UnitOfWork], Awaitable[None]]


class PermanentFailure(Exception):
    """Raised by a handler for an event that will never apply (e.g. it names an unknown case)."""


@dataclass(frozen=True)
class Subscription:
    """What one durable consumer listens to and how it applies each event type."""

    name: str
    filter_subjects: list[str]
    handlers: Mapping[str, Handler]
    # Types not in `handlers` are acknowledged and skipped, unless a catch-all is given.
    default_handler: Handler | None = None
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL
    extra: dict[str, Any] = field(default_factory=dict)


class EventConsumer:
    def __init__(
        self,
        *,
        subscription: Subscription,
        js: JetStreamContext,
        stream: str,
        engine: AsyncEngine,
        tables: MessagingTables,
        uow_factory: UnitOfWorkFactory,
        tracer: Tracer,
        metrics: ServiceMetrics | None = None,
        max_deliver: int = 5,
        batch: int = 64,
        ack_wait: float = 30.0,
    ) -> None:
        self._sub = subscription
        self._js = js
        self._stream = stream
        self._engine = engine
        self._uow_factory = uow_factory
        self._tracer = tracer
        self._metrics = metrics
        self._max_deliver = max_deliver
        self._batch = batch
        self._ack_wait = ack_wait
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._dead_letters = tables.dead_letters
        self._inbox = tables.inbox

    @property
    def name(self) -> str:
        return self._sub.name

    async def start(self) -> None:
        config = ConsumerConfig(
            durable_name=self._sub.name,
            filter_subjects=self._sub.filter_subjects,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=self._sub.deliver_policy,
            ack_wait=self._ack_wait,
            # We count deliveries ourselves and park the event; the server must keep redelivering.
            max_deliver=-1,
            max_ack_pending=self._batch * 4,
        )
        psub = await self._js.pull_subscribe(
            self._sub.filter_subjects[0], durable=self._sub.name, stream=self._stream, config=config
        )
        self._task = asyncio.create_task(self._run(psub), name=f"consumer-{self._sub.name}")

    def request_stop(self) -> None:
        """Let the loop end at its next fetch timeout, so no pull request is left open on the server."""
        self._stopping = True

    async def stop(self) -> None:
        self.request_stop()
        if self._task is None:
            return
        # Cancelling a pending fetch leaves its inbox subscription behind and makes a later drain
        # wait for it; a fetch ends on its own within FETCH_TIMEOUT, then the loop sees _stopping.
        done, _ = await asyncio.wait({self._task}, timeout=FETCH_TIMEOUT + STOP_GRACE)
        if not done:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self, psub: Any) -> None:
        while not self._stopping:
            try:
                msgs = await psub.fetch(self._batch, timeout=FETCH_TIMEOUT)
            except (NatsTimeoutError, TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fetch failed for consumer %s", self._sub.name)
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                await self.process(msg)

    async def process(self, msg: Msg) -> str:
        """Apply one message; returns the outcome (applied, duplicate, skipped, retried, dead_lettered)."""
        attempts = msg.metadata.num_delivered if msg.metadata else 1
        try:
            envelope = Envelope.from_bytes(msg.data)
        except MalformedEvent as exc:
            return await self._park(msg, None, str(exc), attempts)
        handler = self._sub.handlers.get(envelope.type, self._sub.default_handler)
        if handler is None:
            await msg.ack()
            return self._count(envelope.type, "skipped")
        try:
            payload: EventData | None = envelope.payload()
        except (MalformedEvent, UnknownEventType) as exc:
            if self._sub.default_handler is None or not isinstance(exc, UnknownEventType):
                return await self._park(msg, envelope, str(exc), attempts)
            payload = None
        try:
            with consumer_span(
                self._tracer,
                f"apply {envelope.type}",
                envelope.traceparent,
                {"messaging.consumer": self._sub.name, "messaging.message.id": envelope.id},
            ):
                applied = await self._apply(envelope, payload, handler)
        except PermanentFailure as exc:
            return await self._park(msg, envelope, str(exc), attempts)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if attempts >= self._max_deliver:
                log.exception("event %s failed %d times; parking it", envelope.id, attempts)
                return await self._park(msg, envelope, f"{type(exc).__name__}: {exc}", attempts)
            log.warning("event %s failed (attempt %d): %r", envelope.id, attempts, exc)
            await msg.nak(delay=min(0.5 * 2 ** (attempts - 1), 30.0))
            return self._count(envelope.type, "retried")
        await msg.ack()
        return self._count(envelope.type, "applied" if applied else "duplicate")

    async def _apply(self, envelope: Envelope, payload: EventData | None, handler: Handler) -> bool:
        async with self._uow_factory() as uow:
            inbox = self._inbox
            result = await uow.session.exec(
                pg_insert(inbox)
                .values(consumer=self._sub.name, event_id=envelope.id, type=envelope.type)
                .on_conflict_do_nothing()
                .returning(inbox.c.event_id)
            )
            if result.first() is None:
                return False
            await handler(envelope, payload, uow)
            await uow.commit()
            return True

    async def _park(self, msg: Msg, envelope: Envelope | None, error: str, attempts: int) -> str:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(self._dead_letters).values(
                    consumer=self._sub.name,
                    event_id=envelope.id if envelope else (msg.headers or {}).get("Nats-Msg-Id"),
                    subject=msg.subject,
                    type=envelope.type if envelope else None,
                    payload=msg.data.decode("utf-8", errors="replace"),
                    headers=dict(msg.headers or {}),
                    error=error[:4000],
                    attempts=attempts,
                )
            )
        await msg.ack()
        if self._metrics is not None:
            self._metrics.dead_letters_total.labels(consumer=self._sub.name).inc()
        return self._count(envelope.type if envelope else "malformed", "dead_lettered")

    def _count(self, type_name: str, outcome: str) -> str:
        if self._metrics is not None:
            self._metrics.events_consumed_total.labels(
                consumer=self._sub.name, type=type_name, outcome=outcome
            ).inc()
        return outcome
