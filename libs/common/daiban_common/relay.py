"""The outbox relay: publishes committed events to JetStream and marks them sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from nats.js import JetStreamContext
from opentelemetry.trace import Tracer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from daiban_common.faults import is_unavailable
from daiban_common.messaging import MessagingTables
from daiban_common.metrics import ServiceMetrics
from daiban_common.telemetry import inject_headers, producer_span

log = logging.getLogger(__name__)


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
    ) -> None:
        self._engine = engine
        self._outbox = tables.outbox
        self._js = js
        self._tracer = tracer
        self._metrics = metrics
        self._batch = batch
        self._poll_interval = poll_interval
        self._ack_timeout = ack_timeout
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

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
        outbox = self._outbox
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
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
                    .order_by(outbox.c.seq)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                # Nothing left that another relay is not publishing: no count query on every
                # idle wake-up (it was a fifth of the relay's statements).
                if self._metrics is not None:
                    self._metrics.outbox_pending.set(0)
                return 0
            futures: list[asyncio.Future[Any]] = []
            for row in rows:
                with producer_span(
                    self._tracer,
                    f"publish {row.type}",
                    row.traceparent,
                    {"messaging.message.id": row.event_id},
                ):
                    headers = inject_headers({"Nats-Msg-Id": row.event_id})
                futures.append(
                    await self._js.publish_async(row.subject, row.envelope.encode(), headers=headers)
                )
            results = await asyncio.wait_for(
                asyncio.gather(*futures, return_exceptions=True), self._ack_timeout
            )
            acked = [
                row
                for row, result in zip(rows, results, strict=True)
                if not isinstance(result, BaseException)
            ]
            failed = len(rows) - len(acked)
            if acked:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.seq.in_([row.seq for row in acked]))
                    .values(published_at=func.now())
                )
            self._observe(acked)
            if failed:
                first_error = next(r for r in results if isinstance(r, BaseException))
                raise RuntimeError(f"{failed} of {len(rows)} events were not acknowledged: {first_error!r}")
            return len(acked)

    def _observe(self, rows: list[Any]) -> None:
        if self._metrics is None:
            return
        now = datetime.now(UTC)
        for row in rows:
            self._metrics.outbox_lag_seconds.observe((now - row.created_at).total_seconds())
            self._metrics.events_published_total.labels(type=row.type).inc()

    async def _report_pending(self) -> None:
        """What is waiting while the relay cannot publish (the gauge to alert on); best effort."""
        if self._metrics is None:
            return
        pending = select(func.count()).select_from(self._outbox).where(self._outbox.c.published_at.is_(None))
        try:
            async with asyncio.timeout(2.0), self._engine.connect() as conn:
                count = await conn.scalar(pending)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be what is away
            return
        self._metrics.outbox_pending.set(count or 0)
