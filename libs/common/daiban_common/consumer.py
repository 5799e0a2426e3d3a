"""Durable pull consumers that apply each event exactly once.

Each event is applied together with its inbox row, so a redelivery finds the row and changes
nothing. The events of one fetch are applied in one unit of work (one commit for many events,
each starting from the database as if alone); when one of them fails, the unit of work rolls back
whole and the events are applied one by one, each in its own, where the failing one is counted,
retried and parked alone. Ack only after commit; nak with a growing delay on transient failures;
park the event in the dead-letter table (and terminate it in JetStream) once it has failed
`max_deliver` times, or at once when it can never succeed (malformed, unknown type, a
PermanentFailure raised by the handler).

Only the event's own fault counts. PostgreSQL or NATS being away (daiban_common.faults) is no
reason to park anything: the event is handed back with a delay, the rest of the batch with it, and
the loop waits before it fetches again. The loop itself outlives any exception, and reports whether
it is running and making progress (`health()`, the consumer_* metrics, `/readyz`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.trace import Tracer
from sqlalchemy import Insert, Table, bindparam, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from daiban_common import db
from daiban_common.deadletters.logline import log_parked
from daiban_common.deadletters.rules import parked_org, storable
from daiban_common.faults import is_unavailable
from daiban_common.messaging import MessagingTables
from daiban_common.metrics import ServiceMetrics
from daiban_common.provenance import inconsistency
from daiban_common.telemetry import consumer_span
from daiban_common.uow import Prepared, UnitOfWork, UnitOfWorkFactory
from daiban_contracts.crossing import copied_as
from daiban_contracts.envelope import Envelope, EventData, MalformedEvent, UnknownEventType, payload_class
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.subjects import CopyKind, Subjects

log = logging.getLogger(__name__)

# Seconds a pull request waits for messages; also how long a stop may take to be noticed.
FETCH_TIMEOUT = 1.0
# Time to finish the batch in hand after the last fetch before the loop is cancelled.
STOP_GRACE = 10.0
# Handlers are quick (a few statements); a message whose consumer was killed mid-way is
# redelivered after this long. Longer work keeps its messages with in_progress() heartbeats.
DEFAULT_ACK_WAIT = 10.0
# A consumer that has neither finished a message nor found its stream empty for this long is
# reported as stalled (`/readyz` 503).
DEFAULT_STALL_AFTER = 60.0
# Backoff while PostgreSQL or NATS is away: short enough to resume within seconds of its return.
_UNAVAILABLE_BACKOFF_MAX = 5.0
# How long the reachability check before counting a failure against the event may take.
_DB_CHECK_TIMEOUT = 2.0
# Handler faults counted per stream sequence; bounded so that messages deleted from the stream
# while failing cannot grow it without limit.
_MAX_TRACKED_FAULTS = 10_000

P = TypeVar("P", bound=EventData)
# A handler applies one event of its payload class inside the consumer's unit of work (which
# commits it with the inbox row). A catch-all (`default_handler`) may get None for a type this
# process does not know.
Handler = Callable[[Envelope, P, UnitOfWork], Awaitable[None]]


# The subject the event being applied was delivered on. The broker guarantees who may publish on
# it, which the envelope can only claim: an ingress subject names the outside system that pushed
# the event (daiban_contracts.ingress), and its handler reads the system from here.
delivered_on: ContextVar[str | None] = ContextVar("delivered_on", default=None)


class PermanentFailure(Exception):
    """Raised by a handler for an event that will never apply (e.g. it names an unknown case)."""


class ConsumerNotHealthy(RuntimeError):
    """A consumer whose loop is not running or has made no progress for too long."""


def on(event: type[P], handler: Handler[P]) -> tuple[type[EventData], Handler[Any]]:
    """One entry of a handler table, checked by the type checker: `dict([on(CaseAccepted, f)])`
    with `async def f(envelope: Envelope, payload: CaseAccepted, uow: UnitOfWork)`."""
    return event, handler


@dataclass(frozen=True)
class Subscription:
    """What one durable consumer of a service listens to and how it applies each event class.

    The filters come from the table: one per handled class within the `within` org's subtree
    (the node's org when None), the whole subtree with a catch-all, or `subjects` when given.
    """

    # Short and per service ("progress"); the runtime names the durable per node and service.
    name: str
    handlers: Mapping[type[EventData], Handler[Any]] = field(default_factory=dict)
    within: str | OrgCode | None = None
    # Every event of the subtree that `handlers` does not take, unknown types included; without
    # one, events of other classes on the filters are acknowledged and skipped.
    default_handler: Handler[Any] | None = None
    # Explicit filters, replacing the derived ones (e.g. events addressed to a parent org).
    subjects: Sequence[str] = ()
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL
    # Copies other nodes send this node of the handled classes (daiban_contracts.crossing), read
    # beside the events of the subtree; with `events=False` instead of them.
    copies: Sequence[CopyKind] = ()
    # What outside systems push of the handled classes to their ingress subjects in the subtree
    # (daiban_contracts.ingress), read beside the events of the subtree; with `events=False`
    # instead of them.
    ingress: bool = False
    events: bool = True

    def filter_subjects(self, subjects: Subjects, node_org: str | OrgCode) -> list[str]:
        if self.subjects:
            return list(self.subjects)
        within = self.within if self.within is not None else node_org
        found: set[str] = set()
        if self.events and (self.default_handler is not None or not self.handlers):
            found.add(subjects.within(within))
        elif self.events:
            found.update(subjects.within(within, event) for event in self.handlers)
        found.update(
            subjects.copy(node_org, kind, event)
            for kind in self.copies
            for event in self.handlers
            if copied_as(kind, event.event_type)
        )
        if self.ingress:
            found.update(subjects.ingress_within(within, "*", event) for event in self.handlers)
        return sorted(found)

    def route(self, envelope: Envelope) -> tuple[Handler[Any], EventData | None] | None:
        """The handler and typed payload of `envelope`, or None when this subscription skips it.

        The payload is None for a type this process does not know (only a catch-all takes those).
        Raises MalformedEvent when the data does not fit its registered class.
        """
        try:
            event_class: type[EventData] | None = payload_class(envelope.type)
        except UnknownEventType:
            event_class = None
        handler = self.handlers.get(event_class) if event_class is not None else None
        if handler is None:
            handler = self.default_handler
        if handler is None:
            return None
        return handler, envelope.payload() if event_class is not None else None


class EventConsumer:
    def __init__(
        self,
        *,
        subscription: Subscription,
        name: str,
        filter_subjects: Sequence[str],
        js: JetStreamContext,
        stream: str,
        engine: AsyncEngine,
        tables: MessagingTables,
        uow_factory: UnitOfWorkFactory,
        tracer: Tracer,
        metrics: ServiceMetrics | None = None,
        max_deliver: int = 5,
        batch: int = 64,
        ack_wait: float = DEFAULT_ACK_WAIT,
        stall_after: float = DEFAULT_STALL_AFTER,
        subjects: Subjects | None = None,
    ) -> None:
        self._sub = subscription
        # The subjects' root to check each event's provenance against (daiban_common.provenance);
        # None: no check (a unit test's consumer).
        self._subjects = subjects
        self._name = name
        self._filters = list(filter_subjects)
        self._js = js
        self._stream = stream
        self._engine = engine
        self._uow_factory = uow_factory
        self._tracer = tracer
        self._metrics = metrics
        self._max_deliver = max_deliver
        self._batch = batch
        self._ack_wait = ack_wait
        self._stall_after = stall_after
        self._task: asyncio.Task[None] | None = None
        self._psub: Any = None
        self._stopping = False
        self._dead_letters = tables.dead_letters
        self._inbox = tables.inbox
        # Handler faults per stream sequence, seen by this process. JetStream's num_delivered
        # also counts deliveries lost to an outage or to an expired ack_wait, which are not the
        # event's fault; after a restart an event gets its full budget again, never less.
        self._faults: dict[int, int] = {}
        self._failures = 0  # consecutive deliveries or fetches that met an unavailable server
        self._last_progress = time.monotonic()
        # The metrics' children of this consumer, looked up once: `labels()` cost ~15 Python
        # calls, three times an event. Outcomes by (type, outcome) as they first occur.
        self._consumed: dict[tuple[str, str], Any] = {}
        if metrics is not None:
            metrics.consumer_up.labels(consumer=self.name).set_function(lambda: 1.0 if self.running else 0.0)
            self._progress_gauge = metrics.consumer_last_progress.labels(consumer=self.name)
            self._failures_gauge = metrics.consumer_consecutive_failures.labels(consumer=self.name)
            self._failures_gauge.set(0)
            self._mark_progress()

    @property
    def name(self) -> str:
        return self._name

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def health(self) -> str | None:
        """None while the loop runs and progresses; otherwise why not, for logs and `/readyz`."""
        if not self.running:
            return f"consumer {self.name} is not running"
        idle = time.monotonic() - self._last_progress
        if idle > self._stall_after:
            return (
                f"consumer {self.name} has made no progress for {idle:.0f} s "
                f"({self._failures} consecutive failures)"
            )
        return None

    async def start(self) -> None:
        self._stopping = False
        config = ConsumerConfig(
            name=self._name,
            durable_name=self._name,
            filter_subjects=self._filters,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=self._sub.deliver_policy,
            ack_wait=self._ack_wait,
            # We count deliveries ourselves and park the event; the server must keep redelivering.
            max_deliver=-1,
            max_ack_pending=self._batch * 4,
        )
        await self._update_config(config)
        psub = await self._js.pull_subscribe(
            self._filters[0], durable=self._name, stream=self._stream, config=config
        )
        self._psub = psub
        self._last_progress = time.monotonic()
        self._task = asyncio.create_task(self._run(psub), name=f"consumer-{self._name}")
        self._task.add_done_callback(self._ended)

    async def _update_config(self, config: ConsumerConfig) -> None:
        """A durable created before its ack_wait or filters changed (a new release, a township
        node joining) keeps the old ones unless it is updated."""
        try:
            info = await self._js.consumer_info(self._stream, self._name)
        except Exception:  # NotFoundError: pull_subscribe creates it with `config`
            return
        same_wait = info.config.ack_wait is not None and abs(info.config.ack_wait - self._ack_wait) < 0.001
        filters = info.config.filter_subjects or (
            [info.config.filter_subject] if info.config.filter_subject else []
        )
        if same_wait and sorted(filters) == sorted(self._filters):
            return
        try:
            await self._js.add_consumer(self._stream, config=config)
        except Exception as exc:
            log.warning("consumer %s: could not update its configuration: %r", self.name, exc)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._stopping:
            return
        # The loop catches every Exception; only a cancellation or a BaseException ends it.
        reason = "cancelled" if task.cancelled() else repr(task.exception())
        log.error("consumer %s stopped unexpectedly (%s); /readyz reports it", self.name, reason)

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
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._task = None
        await self._unsubscribe()

    async def _unsubscribe(self) -> None:
        """Close the fetch inbox (the durable consumer stays on the server).

        nats-py takes late status messages (a fetch's 408 arriving after its timeout) off the inbox
        queue without marking them done, so a connection drain would wait its whole drain_timeout
        for an inbox nobody reads any more; closing it once the loop has ended spares every stop
        that wait.
        """
        psub, self._psub = self._psub, None
        if psub is not None:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()

    async def _run(self, psub: Any) -> None:
        while not self._stopping:
            try:
                await self._step(psub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Whatever went wrong, the next fetch may work: never let the task end.
                delay = self._failed()
                if is_unavailable(exc):
                    log.warning("consumer %s: %r; retrying in %.1f s", self.name, exc, delay)
                else:
                    log.exception("consumer %s: unexpected error; retrying in %.1f s", self.name, delay)
                await asyncio.sleep(delay)

    async def _step(self, psub: Any) -> None:
        try:
            msgs = await psub.fetch(self._batch, timeout=FETCH_TIMEOUT)
        except (NatsTimeoutError, TimeoutError):
            # Nothing to do is progress too: the consumer has caught up with its stream.
            self._mark_progress()
            return
        async with self._heartbeat(msgs) as unfinished:
            units = self._units(msgs)
            for position, unit in enumerate(units):
                if isinstance(unit, list):
                    outcome = await self._apply_batch(unit)
                    if outcome == "failed":
                        # Which event failed, and whether it failed by itself, is for each one
                        # alone to show: the batch left nothing behind, so apply them one by one.
                        for index, routed in enumerate(unit):
                            outcome = await self.process(routed.msg)
                            unfinished.discard(id(routed.msg))
                            if outcome == "unavailable":
                                rest = [r.msg for r in unit[index + 1 :]]
                                await self._give_up_step(rest + _messages(units[position + 1 :]))
                                return
                        continue
                    done = [routed.msg for routed in unit]
                else:
                    outcome = await self.process(unit)
                    done = [unit]
                for msg in done:
                    unfinished.discard(id(msg))
                if outcome == "unavailable":
                    # The rest of the batch would meet the same outage, one connect timeout
                    # each: hand it back and wait before fetching again.
                    handed = done if isinstance(unit, list) else []
                    await self._give_up_step(handed + _messages(units[position + 1 :]))
                    return

    async def _give_up_step(self, msgs: Sequence[Msg]) -> None:
        delay = self._backoff()
        await self._hand_back(msgs, delay)
        await asyncio.sleep(delay)

    def _units(self, msgs: Sequence[Msg]) -> list[Msg | list[_Routed]]:
        """The fetched messages in order, as runs applied in one transaction each, and single
        messages applied alone: those that do not decode or route to a handler (parked or
        skipped by `process`), and those that failed before in this process (a failing event
        must not take the rest of a batch down with it again)."""
        units: list[Msg | list[_Routed]] = []
        run: list[_Routed] = []
        for msg in msgs:
            routed = None if _seq(msg) in self._faults else self._routed(msg)
            if routed is not None:
                run.append(routed)
                continue
            if run:
                units.append(run)
                run = []
            units.append(msg)
        if run:
            units.append(run)
        # A run of one is applied as a single message: the same statements, and its failure
        # handled at once.
        return [unit[0].msg if isinstance(unit, list) and len(unit) == 1 else unit for unit in units]

    def _routed(self, msg: Msg) -> _Routed | None:
        try:
            envelope = Envelope.from_bytes(msg.data)
            routed = self._sub.route(envelope)
        except Exception:  # malformed, or anything else: `process` deals with it alone
            return None
        if routed is None or self._inconsistency(msg, envelope) is not None:
            return None
        return _Routed(msg, envelope, routed[1], routed[0])

    async def _apply_batch(self, batch: Sequence[_Routed]) -> str:
        """Apply a run of events in one unit of work, each with its inbox row; ack them after the
        commit. Returns ok, failed (nothing applied: the caller applies them one by one) or
        unavailable (nothing applied, PostgreSQL away: the caller hands them back)."""
        applied: list[bool] = []
        try:
            async with self._uow_factory() as uow:
                # One statement claims the inbox rows of the whole run: a round trip per run, not
                # per event. The rows roll back with the run if any event fails.
                unclaimed = await self._claim(uow, batch)
                for routed in batch:
                    fresh = routed.envelope.id in unclaimed
                    unclaimed.discard(routed.envelope.id)  # the same event twice: once
                    if fresh:
                        with consumer_span(
                            self._tracer,
                            f"apply {routed.envelope.type}",
                            routed.envelope.traceparent,
                            {"messaging.consumer": self._name, "messaging.message.id": routed.envelope.id},
                        ):
                            await self._handle_in(
                                uow, routed.envelope, routed.payload, routed.handler, routed.msg.subject
                            )
                    applied.append(fresh)
                await uow.commit()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_unavailable(exc) or not await self._database_reachable():
                delay = self._failed()
                log.warning(
                    "consumer %s: a batch of %d events not applied, %r; handed back for %.1f s",
                    self.name,
                    len(batch),
                    exc,
                    delay,
                )
                for routed in batch:
                    self._count(routed.envelope.type, "unavailable")
                return "unavailable"
            log.info(
                "consumer %s: a batch of %d events failed at event %d (%r); applying them one by one",
                self.name,
                len(batch),
                len(applied) + 1,
                exc,
            )
            return "failed"
        for routed, fresh in zip(batch, applied, strict=True):
            await routed.msg.ack()
            self._done(routed.msg, routed.envelope.type, "applied" if fresh else "duplicate")
        return "ok"

    @contextlib.asynccontextmanager
    async def _heartbeat(self, msgs: Sequence[Msg]) -> AsyncIterator[set[int]]:
        """Tell JetStream the messages of the batch not yet finished are being worked on.

        ack_wait is short; a batch behind a slow database or a long handler would otherwise be
        redelivered while it is still being applied.
        """
        unfinished = {id(msg) for msg in msgs}
        by_id = {id(msg): msg for msg in msgs}

        async def beat() -> None:
            while True:
                await asyncio.sleep(max(self._ack_wait / 3, 0.1))
                for key in list(unfinished):
                    with contextlib.suppress(Exception):
                        await by_id[key].in_progress()

        task = asyncio.create_task(beat(), name=f"consumer-{self.name}-heartbeat")
        try:
            yield unfinished
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _hand_back(self, msgs: Sequence[Msg], delay: float) -> None:
        for msg in msgs:
            with contextlib.suppress(Exception):
                await msg.nak(delay=delay)

    async def process(self, msg: Msg) -> str:
        """Apply one message; returns the outcome.

        applied, duplicate, skipped, retried (the event failed, tried again later), dead_lettered
        (parked and terminated), unavailable (PostgreSQL or NATS away: handed back, not counted).
        """
        try:
            envelope = Envelope.from_bytes(msg.data)
        except MalformedEvent as exc:
            return await self._park(msg, None, str(exc), 1)
        if (reason := self._inconsistency(msg, envelope)) is not None:
            return await self._park(msg, envelope, reason, 1)
        try:
            routed = self._sub.route(envelope)
        except MalformedEvent as exc:
            return await self._park(msg, envelope, str(exc), 1)
        if routed is None:
            await msg.ack()
            return self._done(msg, envelope.type, "skipped")
        handler, payload = routed
        try:
            with consumer_span(
                self._tracer,
                f"apply {envelope.type}",
                envelope.traceparent,
                {"messaging.consumer": self._name, "messaging.message.id": envelope.id},
            ):
                applied = await self._apply(envelope, payload, handler, msg.subject)
        except PermanentFailure as exc:
            return await self._park(msg, envelope, str(exc), self._faults.get(_seq(msg), 0) + 1)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_unavailable(exc) or not await self._database_reachable():
                # A handler may wrap a lost connection in its own error: a database that does
                # not answer right after the failure is the reason, not the event.
                return await self._unavailable(msg, envelope, exc)
            faults = self._count_fault(msg)
            if faults >= self._max_deliver:
                log.exception("event %s failed %d times; parking it", envelope.id, faults)
                return await self._park(msg, envelope, f"{type(exc).__name__}: {exc}", faults)
            log.warning("event %s failed (attempt %d): %r", envelope.id, faults, exc)
            await msg.nak(delay=min(0.5 * 2 ** (faults - 1), 30.0))
            return self._done(msg, envelope.type, "retried", finished=False)
        await msg.ack()
        return self._done(msg, envelope.type, "applied" if applied else "duplicate")

    def _inconsistency(self, msg: Msg, envelope: Envelope) -> str | None:
        if self._subjects is None:
            return None
        return inconsistency(self._subjects, msg.subject, envelope)

    async def _apply(
        self, envelope: Envelope, payload: EventData | None, handler: Handler[Any], subject: str
    ) -> bool:
        async with self._uow_factory() as uow:
            if not await self._apply_in(uow, envelope, payload, handler, subject):
                return False
            await uow.commit()
            return True

    async def _apply_in(
        self,
        uow: UnitOfWork,
        envelope: Envelope,
        payload: EventData | None,
        handler: Handler[Any],
        subject: str,
    ) -> bool:
        """Apply one event in `uow` with its inbox row; False when the row says it was applied."""
        if not await first_application(uow, self._name, envelope):
            return False
        await self._handle_in(uow, envelope, payload, handler, subject)
        return True

    async def _claim(self, uow: UnitOfWork, batch: Sequence[_Routed]) -> set[str]:
        """Insert the inbox rows of a run; returns the ids not applied before."""
        ids = list({r.envelope.id: r.envelope.type for r in batch}.items())
        rows = await uow.fetch(
            _INBOX_ROWS[self._inbox],
            {"consumer": self._name, "event_ids": [i for i, _ in ids], "types": [t for _, t in ids]},
        )
        return {row[0] for row in rows}

    async def _handle_in(
        self,
        uow: UnitOfWork,
        envelope: Envelope,
        payload: EventData | None,
        handler: Handler[Any],
        subject: str,
    ) -> None:
        token = delivered_on.set(subject)
        try:
            await handler(envelope, payload, uow)
        finally:
            delivered_on.reset(token)
        # Each event starts from the database, as it did in a unit of work of its own: the next
        # one in a batch must not see ORM objects this one loaded (a Core statement of a later
        # handler would leave them stale), and sees the rows this one deferred.
        await uow.flush()
        if not uow.session_idle:
            uow.session.expunge_all()

    async def _park(self, msg: Msg, envelope: Envelope | None, error: str, attempts: int) -> str:
        try:
            async with self._engine.begin() as conn:
                parked = await conn.execute(
                    insert(self._dead_letters)
                    .values(
                        consumer=self._name,
                        event_id=_event_id(msg, envelope),
                        subject=msg.subject,
                        type=storable(envelope.type if envelope else None),
                        payload=storable(msg.data.decode("utf-8", errors="replace")),
                        headers={storable(k): storable(v) for k, v in (msg.headers or {}).items()},
                        error=storable(error[:4000]),
                        attempts=attempts,
                        org=parked_org(envelope, msg.subject),
                    )
                    .returning(self._dead_letters.c.id, self._dead_letters.c.event_id)
                )
                row = parked.one()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The dead-letter table is in the database that may be away: keep the event in the
            # stream until it can be parked (or, once the database is back, applied).
            return await self._unavailable(msg, envelope, exc)
        self._log_parked(row, msg, envelope, error)
        # Committed first, then terminated: JetStream never redelivers it and its advisory
        # (`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED`) shows it.
        await msg.term()
        if self._metrics is not None:
            self._metrics.dead_letters_total.labels(consumer=self._name).inc()
        return self._done(msg, envelope.type if envelope else "malformed", "dead_lettered")

    def _log_parked(self, row: Any, msg: Msg, envelope: Envelope | None, error: str) -> None:
        log_parked(
            dead_letter_id=row.id,
            consumer=self._name,
            event_id=row.event_id,
            type=envelope.type if envelope else None,
            subject=msg.subject,
            org=parked_org(envelope, msg.subject),
            reason=error,
        )

    @property
    def subscription(self) -> Subscription:
        return self._sub

    async def apply_again(self, uow: UnitOfWork, envelope: Envelope, subject: str) -> bool:
        """Apply a parked event in `uow` as its delivery on `subject` would have been, with its
        inbox row (a replay, daiban_common.deadletters); False when this consumer applied it
        already. Raises PermanentFailure when this consumer takes no such event, MalformedEvent
        for bad data."""
        # A corrected envelope meets the checks a delivery meets: a replay is no way around them.
        if self._subjects is not None and (reason := inconsistency(self._subjects, subject, envelope)):
            raise PermanentFailure(reason)
        routed = self._sub.route(envelope)
        if routed is None:
            raise PermanentFailure(f"消费者{self._name}不处理{envelope.type}类型的事件")
        handler, payload = routed
        return await self._apply_in(uow, envelope, payload, handler, subject)

    async def _unavailable(self, msg: Msg, envelope: Envelope | None, exc: BaseException) -> str:
        delay = self._failed()
        log.warning(
            "consumer %s: event %s not applied, %r; handed back for %.1f s",
            self.name,
            envelope.id if envelope else "(malformed)",
            exc,
            delay,
        )
        with contextlib.suppress(Exception):
            await msg.nak(delay=delay)
        return self._count(envelope.type if envelope else "malformed", "unavailable")

    async def _database_reachable(self) -> bool:
        try:
            async with asyncio.timeout(_DB_CHECK_TIMEOUT):
                await db.ping(self._engine)
        except asyncio.CancelledError:
            raise
        except Exception:
            return False
        return True

    def _count_fault(self, msg: Msg) -> int:
        seq = _seq(msg)
        faults = self._faults.pop(seq, 0) + 1
        self._faults[seq] = faults
        while len(self._faults) > _MAX_TRACKED_FAULTS:
            del self._faults[next(iter(self._faults))]
        return faults

    def _failed(self) -> float:
        """Count one more consecutive failure; returns the delay to wait before the next try."""
        self._failures += 1
        if self._metrics is not None:
            self._failures_gauge.set(self._failures)
        return self._backoff()

    def _backoff(self) -> float:
        return float(min(0.5 * 2.0 ** max(self._failures - 1, 0), _UNAVAILABLE_BACKOFF_MAX))

    def _mark_progress(self) -> None:
        self._last_progress = time.monotonic()
        if self._metrics is None:
            self._failures = 0
            return
        if self._failures:
            # The gauge follows the count, which only `_failed` raises from 0.
            self._failures = 0
            self._failures_gauge.set(0)
        self._progress_gauge.set(time.time())

    def _done(self, msg: Msg, type_name: str, outcome: str, *, finished: bool = True) -> str:
        """A delivery handled by the consumer itself (not lost to an outage): progress."""
        if finished:
            self._faults.pop(_seq(msg), None)
        self._mark_progress()
        return self._count(type_name, outcome)

    def _count(self, type_name: str, outcome: str) -> str:
        if self._metrics is not None:
            counter = self._consumed.get((type_name, outcome))
            if counter is None:
                counter = self._metrics.events_consumed_total.labels(
                    consumer=self._name, type=type_name, outcome=outcome
                )
                self._consumed[(type_name, outcome)] = counter
            counter.inc()
        return outcome


class _InboxRow(dict[Table, Insert]):
    """The inbox statement of each inbox table, built once (with parameters, so compiled once)."""

    def __missing__(self, inbox: Table) -> Insert:
        stmt = (
            pg_insert(inbox)
            .values(consumer=bindparam("consumer"), event_id=bindparam("event_id"), type=bindparam("type"))
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id)
        )
        self[inbox] = stmt
        return stmt


_INBOX_ROW = _InboxRow()


class _InboxRows(dict[Table, Prepared]):
    """The inbox statement of a whole run: the ids and types as two arrays, so it is one
    statement text (compiled and prepared once) whatever the run's length; run on the driver
    (daiban_common.uow.Prepared: SQLAlchemy's execution of it cost more than the driver's)."""

    def __missing__(self, inbox: Table) -> Prepared:
        stmt = Prepared(
            text(
                f'INSERT INTO "{inbox.schema}".{inbox.name} (consumer, event_id, type) '
                "SELECT :consumer, e.event_id, e.type "
                "FROM unnest(CAST(:event_ids AS varchar[]), CAST(:types AS text[])) AS e(event_id, type) "
                "ON CONFLICT DO NOTHING RETURNING event_id"
            )
        )
        self[inbox] = stmt
        return stmt


_INBOX_ROWS = _InboxRows()


async def first_application(uow: UnitOfWork, consumer: str, envelope: Envelope) -> bool:
    """Record in `uow` that `consumer` applies `envelope`; False if it already has (a duplicate).

    Also for events of a consumer's subjects that arrive another way (an HTTP door beside the
    consumer): recorded under the consumer's name, they are duplicates whichever way came first.
    """
    conn = await uow.session.connection()
    result = await conn.execute(
        _INBOX_ROW[uow.tables.inbox], {"consumer": consumer, "event_id": envelope.id, "type": envelope.type}
    )
    return result.first() is not None


@dataclass(frozen=True)
class _Routed:
    """A fetched message, decoded and routed to its handler."""

    msg: Msg
    envelope: Envelope
    payload: EventData | None
    handler: Handler[Any]


def _messages(units: Sequence[Msg | list[_Routed]]) -> list[Msg]:
    return [m for unit in units for m in ([r.msg for r in unit] if isinstance(unit, list) else [unit])]


def _seq(msg: Msg) -> int:
    """The message's stream sequence: the same for every redelivery of it."""
    try:
        return int(msg.metadata.sequence.stream)
    except Exception:  # not a JetStream message (unit tests); each one is its own
        return id(msg)


def _event_id(msg: Msg, envelope: Envelope | None) -> str | None:
    """The id a dead letter is filed under: the envelope's, else the one its publisher set, cut to
    the column's 64 characters (an outside publisher's header could be longer)."""
    found = envelope.id if envelope else (msg.headers or {}).get("Nats-Msg-Id")
    return storable(found[:64]) if found else None
