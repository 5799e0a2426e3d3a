"""A running service: its engine, NATS connection, relay and consumers, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import configure_mappers
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common import bus, db
from daiban_common.auth import KnownOrgs
from daiban_common.consumer import ConsumerNotHealthy, EventConsumer, Subscription
from daiban_common.jobs import JobRunner
from daiban_common.messaging import MessagingTables, messaging_tables
from daiban_common.metrics import ServiceMetrics
from daiban_common.relay import OutboxLanes, OutboxRelay
from daiban_common.service import ServiceSpec
from daiban_common.settings import Settings
from daiban_common.telemetry import instrument_engine, setup_tracing, tracer_for
from daiban_common.uow import UnitOfWork
from daiban_contracts.crossing import Topology
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.subjects import Subjects

log = logging.getLogger(__name__)


class NotReady(RuntimeError):
    pass


class ServiceRuntime:
    """Everything one service instance holds while it runs.

    The database must be reachable at start. NATS need not be: the service accepts work into its
    outbox while the bus is away and starts its relay and consumers when the connection is made.
    """

    def __init__(
        self,
        spec: ServiceSpec,
        settings: Settings,
        *,
        span_processors: Sequence[SpanProcessor] = (),
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.node_org = OrgCode.parse(settings.org)
        self.source = f"/daiban/{settings.node_name}/{spec.name}"
        self.tracer_provider: TracerProvider = setup_tracing(
            spec.name, settings, extra_processors=span_processors
        )
        self.tracer: Tracer = tracer_for(self.tracer_provider)
        self.metrics = ServiceMetrics(spec.name)
        self.tables: MessagingTables = messaging_tables(spec.schema)
        self.engine: AsyncEngine = db.create_engine(settings.database_url)
        if settings.otlp_endpoint or span_processors:
            # A span per SQL statement is a tenth of a request's CPU; without an exporter (or a
            # test's processor) nobody ever sees one. Requests, relay and consumers keep their
            # spans either way: they carry the traceparent from request to event to consumer.
            instrument_engine(self.engine, self.tracer_provider)
        self.sessions: async_sessionmaker[AsyncSession] = db.session_factory(self.engine)
        self.known_orgs: KnownOrgs | None = spec.known_orgs(self) if spec.known_orgs else None
        self.subjects = Subjects(settings.subject_root)
        self.topology = Topology.of(settings.org, settings.child_nodes)
        # Built once per process, after everything above that it may use.
        self.context: object = spec.context(self)
        self.jobs = JobRunner(spec.name, spec.jobs(self))
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[EventConsumer] = []
        self.bus_ready = asyncio.Event()
        self._bus_task: asyncio.Task[None] | None = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.sessions,
            self.tables,
            source=self.source,
            subjects=self.subjects,
            topology=self.topology,
            on_commit=self._wake_relay,
        )

    def durable_name(self, subscription: Subscription) -> str:
        """Durable consumer names are per node and service, so two nodes on one server never share one."""
        return f"{self.settings.node_name}-{self.spec.name}-{subscription.name}"

    def _wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def start(self) -> None:
        await db.ping(self.engine)
        # SQLAlchemy sets up its mapped attributes lazily, at the first ORM object or query. An
        # object built without the ORM (model_construct, as acceptance's answer is) reads its fields
        # through those attributes and fails before that: a township node's first acceptance did.
        configure_mappers()
        self.jobs.start()
        self._bus_task = asyncio.create_task(self._connect_bus(), name=f"{self.spec.name}-bus")

    async def _connect_bus(self) -> None:
        delay = 0.2
        while True:
            try:
                nc = await bus.connect(
                    self.settings.nats_url,
                    name=self.source,
                    credential=bus.credential_for(self.settings, self.spec.name),
                )
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cannot reach NATS at %s (%s); retrying", self.settings.nats_url, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.nc = nc
        self.js = nc.jetstream()
        await bus.ensure_stream(
            self.js,
            self.settings.stream_name,
            self.subjects.node_stream(self.node_org, self.settings.child_nodes),
        )
        self.relay = OutboxRelay(
            engine=self.engine,
            tables=self.tables,
            js=self.js,
            tracer=self.tracer,
            metrics=self.metrics,
            batch=self.settings.outbox_batch,
            lanes=OutboxLanes(self.subjects, self.topology),
        )
        self.relay.start()
        for subscription in self.spec.subscriptions(self):
            filters = subscription.filter_subjects(self.subjects, self.node_org)
            if not filters:
                raise ValueError(f"subscription {subscription.name} of {self.spec.name} reads nothing")
            consumer = EventConsumer(
                subscription=subscription,
                name=self.durable_name(subscription),
                filter_subjects=filters,
                js=self.js,
                stream=self.settings.stream_name,
                engine=self.engine,
                tables=self.tables,
                uow_factory=self.uow,
                tracer=self.tracer,
                metrics=self.metrics,
                max_deliver=self.settings.consumer_max_deliver,
                batch=self.settings.consumer_batch,
                ack_wait=self.settings.consumer_ack_wait,
                stall_after=self.settings.consumer_stall_seconds,
                subjects=self.subjects,
            )
            await consumer.start()
            self.consumers.append(consumer)
        self.bus_ready.set()
        log.info("%s connected to NATS with %d consumers", self.spec.name, len(self.consumers))

    async def check_database(self) -> None:
        await db.ping(self.engine)

    async def check_bus(self) -> None:
        if not self.bus_ready.is_set() or self.nc is None or not self.nc.is_connected:
            raise NotReady("NATS is not connected")

    async def check_consumers(self) -> None:
        """Every consumer's loop runs and progresses (none yet while NATS is away: check_bus says so)."""
        problems = [problem for consumer in self.consumers if (problem := consumer.health())]
        if problems:
            raise ConsumerNotHealthy("; ".join(problems))

    async def stop(self) -> None:
        await self.jobs.stop()
        if self._bus_task is not None:
            self._bus_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._bus_task
        for consumer in self.consumers:
            consumer.request_stop()
        await asyncio.gather(*(consumer.stop() for consumer in self.consumers))
        self.consumers = []
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
            self.nc = None
        self.bus_ready.clear()
        await self.engine.dispose()
        self.tracer_provider.shutdown()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceRuntime]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()
