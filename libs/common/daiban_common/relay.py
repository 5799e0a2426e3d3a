"""The outbox relay: publishes committed events to JetStream and marks them sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from opentelemetry.trace import Tracer
from sqlalchemy import BigInteger, ColumnElement, and_, bindparam, func, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from daiban_common.faults import is_unavailable
from daiban_common.messaging import MessagingTables
from daiban_common.metrics import ServiceMetrics
from daiban_common.telemetry import producer_headers
from daiban_common.uow import Prepared
from daiban_contracts.crossing import Topology
from daiban_contracts.subjects import Subjects

log = logging.getLogger(__name__)

# How long a link that refused an event is left alone before its events are tried again: short,
# because a line that comes back should carry its backlog within seconds.
_HOLD_FIRST = 0.5
_HOLD_MAX = 1.0


@dataclass
class OutboxLanes:
    """The links a node's events leave by, told apart by subject, so that one link being down
    holds back only the events that take it.

    A lane is another node's stream: one per township node below a county node, and, at a
    township node, the county's (whatever lies outside its subtree). Events for the node's own
    stream take no lane: if that is refused, the node's own server is away and nothing moves.
    """

    subjects: Subjects
    topology: Topology
    _held: dict[str, tuple[float, int]] = field(default_factory=dict)
    # Worked out once: lane_of runs for every row the relay publishes.
    _lanes: dict[str, str] = field(init=False)
    _own: str = field(init=False)

    def __post_init__(self) -> None:
        self._own = self._prefix(self.topology.node_org.value)
        self._lanes = {child.value: self._prefix(child.value) for child in self.topology.child_nodes}
        if self.topology.parent_node is not None:
            self._lanes[self.topology.parent_node.value] = ""

    def _prefix(self, org_value: str) -> str:
        return f"{self.subjects.root}.{org_value[:6]}.{org_value[6:9]}."

    def lanes(self) -> dict[str, str]:
        """Lane (the receiving node's org) -> the subject prefix of its events ("" for the parent:
        every subject outside this node's own)."""
        return self._lanes

    def lane_of(self, subject: str) -> str | None:
        for lane, prefix in self._lanes.items():
            if prefix and subject.startswith(prefix):
                return lane
        parent = self.topology.parent_node
        if parent is not None and not subject.startswith(self._own):
            return parent.value
        return None

    def hold(self, lane: str) -> bool:
        """Leave `lane` alone for a while; whether it was open until now."""
        _, failures = self._held.get(lane, (0.0, 0))
        self._held[lane] = (time.monotonic() + min(_HOLD_FIRST * 2**failures, _HOLD_MAX), failures + 1)
        return failures == 0

    def release(self, lane: str) -> bool:
        """The lane carried an event; whether it had been held."""
        return self._held.pop(lane, None) is not None

    def held_now(self) -> list[str]:
        now = time.monotonic()
        return [lane for lane, (until, _) in self._held.items() if until > now]

    def rows_of(self, lane: str, subject: ColumnElement[str]) -> ColumnElement[bool]:
        """The condition on an outbox row's subject that picks the events taking `lane`."""
        prefix = self._lanes[lane]
        if prefix:
            return subject.like(f"{prefix}%")
        return subject.not_like(f"{self._own}%")

    def open_rows(
        self, subject: ColumnElement[str], held: Iterable[str] | None = None
    ) -> ColumnElement[bool]:
        """The condition on an outbox row's subject that leaves out the lanes `held` (those held
        right now by default)."""
        conditions: list[ColumnElement[bool]] = []
        own = self._own
        for lane in self.held_now() if held is None else held:
            prefix = self._lanes.get(lane)
            if prefix:
                conditions.append(subject.not_like(f"{prefix}%"))
            elif prefix == "":
                conditions.append(subject.like(f"{own}%"))
        return and_(true(), *conditions)


class OutboxRelay:
    """Publishes pending outbox rows in windows, awaiting every ack before marking them sent.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays (or a restarted one) never
    publish the same window concurrently; Nats-Msg-Id deduplicates what a crash between the ack and
    the commit would send twice.
    """

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        tables: MessagingTables,
        js: JetStreamContext,
        tracer: Tracer,
        metrics: ServiceMetrics | None = None,
        batch: int = 256,
        poll_interval: float = 0.5,
        ack_timeout: float = 5.0,
        lanes: OutboxLanes | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = tables.outbox
        self._js = js
        self._tracer = tracer
        self._metrics = metrics
        self._batch = batch
        self._poll_interval = poll_interval
        self._ack_timeout = ack_timeout
        self._lanes = lanes
        self._reported_at = 0.0
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._windows: dict[tuple[str, ...], Prepared] = {}
        self._sent = Prepared(
            update(self._outbox)
            .where(self._outbox.c.seq == func.any(bindparam("seqs", type_=ARRAY(BigInteger))))
            .values(published_at=func.now())
        )

    def wake(self) -> None:
        """Called after a commit that wrote events, so they go out without waiting for a poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            # Cleared before reading the outbox, never after: a commit that wakes the relay while
            # a window is being published must get its own pass at once. Clearing after the
            # window lost that wake-up and left the event waiting for the next poll (up to
            # poll_interval: most of the relay's lag under load).
            self._wake.clear()
            try:
                published = await self.publish_pending()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Never ends: PostgreSQL or NATS coming back is noticed within the backoff.
                failures += 1
                delay = min(0.2 * 2**failures, 5.0)
                await self._report_pending()
                if is_unavailable(exc):
                    log.warning("outbox relay: %r; retrying in %.1fs", exc, delay)
                else:
                    log.exception("outbox relay failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                continue
            if published < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def publish_pending(self) -> int:
        """Publish one window of pending rows; returns how many were published."""
        # Sorted: the same held set is the same compiled window whatever order its lanes were held in.
        held_lanes = tuple(sorted(self._lanes.held_now())) if self._lanes is not None else ()
        window = self._window(held_lanes)
        # On the driver beneath a pooled connection, as fixed prepared SQL in a transaction of its
        # own: SQLAlchemy's execution of the window's statements cost more than the statements.
        async with self._engine.connect() as pooled:
            conn: asyncpg.Connection = (await pooled.get_raw_connection()).driver_connection
            async with conn.transaction():
                return await self._publish_window(conn, window, bool(held_lanes))

    def _window(self, held: tuple[str, ...]) -> Prepared:
        """The window's SELECT leaving out the lanes `held`: one per set of held lanes, compiled once."""
        window = self._windows.get(held)
        if window is None:
            outbox = self._outbox
            window = self._windows[held] = Prepared(
                select(
                    outbox.c.seq,
                    outbox.c.event_id,
                    outbox.c.subject,
                    outbox.c.type,
                    outbox.c.envelope,
                    outbox.c.traceparent,
                    outbox.c.created_at,
                )
                .where(outbox.c.published_at.is_(None))
                .where(self._lanes.open_rows(outbox.c.subject, held) if self._lanes else true())
                .order_by(outbox.c.seq)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            )
        return window

    async def _publish_window(self, conn: asyncpg.Connection, window: Prepared, held: bool) -> int:
        """Publish the pending rows of `window` (fetched, locked, on `conn`); marks the acked sent."""
        rows = await conn.fetch(window.sql, *window.args({}))
        if held and self._report_due():
            # Rows of a held link are left out of the window: count them apart, at most once
            # a second (outbox_waiting_for_link).
            await self._report_pending()
        if not rows:
            # Nothing left that another relay is not publishing: no count query on every
            # idle wake-up (it was a fifth of the relay's statements).
            if self._metrics is not None and not held:
                self._metrics.outbox_pending.set(0)
                for lane in self._lanes.lanes() if self._lanes else ():
                    self._metrics.outbox_waiting_for_link.labels(node=lane).set(0)
            return 0
        futures: list[asyncio.Future[Any]] = []
        for row in rows:
            headers = producer_headers(
                self._tracer,
                f"publish {row['type']}",
                row["traceparent"],
                {"Nats-Msg-Id": Subjects.message_id(row["event_id"], row["subject"])},
                {"messaging.message.id": row["event_id"]},
            )
            futures.append(
                await self._js.publish_async(row["subject"], row["envelope"].encode(), headers=headers)
            )
        results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), self._ack_timeout)
        acked = [
            row for row, result in zip(rows, results, strict=True) if not isinstance(result, BaseException)
        ]
        if acked:
            sent = self._sent
            await conn.execute(sent.sql, *sent.args({"seqs": [row["seq"] for row in acked]}))
        self._observe(acked)
        refused = [
            (row, result)
            for row, result in zip(rows, results, strict=True)
            if isinstance(result, BaseException)
        ]
        local = self._hold_lanes(acked, refused)
        if local:
            raise RuntimeError(f"{len(local)} of {len(rows)} events were not acknowledged: {local[0][1]!r}")
        return len(acked)

    def _hold_lanes(
        self, acked: list[Any], refused: list[tuple[Any, BaseException]]
    ) -> list[tuple[Any, BaseException]]:
        """Hold the lanes of refused events (they wait in the outbox for their link); the refused
        events of this node's own stream, which no lane explains."""
        if self._lanes is None:
            return refused
        lanes = self._lanes
        for row in acked:
            if (lane := lanes.lane_of(row["subject"])) is not None and lanes.release(lane):
                log.info("outbox relay: the link to node %s carries events again", lane)
        local: list[tuple[Any, BaseException]] = []
        held: dict[str, BaseException] = {}
        for row, error in refused:
            lane = lanes.lane_of(row["subject"])
            if lane is None:
                local.append((row, error))
            else:
                held.setdefault(lane, error)
        for lane, error in held.items():
            if lanes.hold(lane):
                log.warning(
                    "outbox relay: the link to node %s refused %r; its events wait in the outbox",
                    lane,
                    error,
                )
        return local

    def _observe(self, rows: list[Any]) -> None:
        if self._metrics is None:
            return
        now = datetime.now(UTC)
        for row in rows:
            self._metrics.outbox_lag_seconds.observe((now - row["created_at"]).total_seconds())
            self._metrics.events_published_total.labels(type=row["type"]).inc()

    def _report_due(self) -> bool:
        """At most once a second while busy: a held link's backlog is counted, not every window."""
        now = time.monotonic()
        if now - self._reported_at < 1.0:
            return False
        self._reported_at = now
        return True

    async def _report_pending(self) -> None:
        """What is waiting while the relay cannot publish (the gauge to alert on), and of it what
        waits for each link; best effort."""
        if self._metrics is None:
            return
        pending = self._outbox.c.published_at.is_(None)
        lanes = self._lanes.lanes() if self._lanes is not None else {}
        try:
            async with asyncio.timeout(2.0), self._engine.connect() as conn:
                count = await conn.scalar(select(func.count()).select_from(self._outbox).where(pending))
                waiting = {
                    lane: await conn.scalar(
                        select(func.count())
                        .select_from(self._outbox)
                        .where(pending, self._lanes.rows_of(lane, self._outbox.c.subject))
                    )
                    if count and self._lanes is not None
                    else 0
                    for lane in lanes
                }
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be what is away
            return
        self._metrics.outbox_pending.set(count or 0)
        for lane, found in waiting.items():
            self._metrics.outbox_waiting_for_link.labels(node=lane).set(found or 0)
