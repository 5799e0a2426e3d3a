"""Which org units this node's county has: a replica of routing's directory, and a cache of it.

Routing owns the directory and publishes the county's org units (`OrgUnitsPublished`). Every other
service that authenticates people keeps them in a small table of its own schema
(`org_units_replica`), fed by the subscription `org_units_subscription` builds. `CachedKeySet`
answers "is this a known org unit?" from a set in memory, reloaded when the replica changes in
this process and after a short time otherwise (another process of the same service may have
applied the event), so checking every request's token costs no query.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Column, MetaData, String, Table, delete, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from daiban_common.consumer import Subscription, on
from daiban_common.errors import ServiceUnavailable
from daiban_common.messaging import defined_once, messaging_tables
from daiban_common.uow import UnitOfWork
from daiban_contracts.directory import OrgUnitsPublished
from daiban_contracts.envelope import Envelope, EventData
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.subjects import CopyKind

if TYPE_CHECKING:
    from daiban_common.runtime import ServiceRuntime
    from daiban_common.service import ServiceSpec

__all__ = [
    "CachedKeySet",
    "apply_org_units",
    "deliver_seeded_org_units",
    "latest_published",
    "org_units_replica",
    "org_units_subscription",
    "replica_known_orgs",
    "replica_of",
    "replica_subscription",
]

log = logging.getLogger(__name__)

# Long enough that the set is read a few times a minute at most, short enough that a unit added
# by an event another process applied is known soon after.
DEFAULT_TTL_SECONDS = 30.0


def org_units_replica(schema: str, metadata: MetaData | None = None) -> Table:
    """The replica table `<schema>.org_units` (defined once per metadata)."""

    def define(md: MetaData) -> Table:
        return Table(
            "org_units",
            md,
            Column("code", String(12), primary_key=True),
            Column("name", String, nullable=False),
            Column("tier", String(16), nullable=False),
            Column("parent_code", String(12)),
            schema=schema,
        )

    return defined_once("org_units", schema, metadata, define)


# The keys, or a mapping of them to the names people read beside them (`CachedKeySet.names`).
Loader = Callable[[AsyncConnection], Awaitable[Collection[str]]]


class CachedKeySet:
    """A replica's keys in memory (org codes for `KnownOrgs`, `org/staff_id` for the staff
    directory): loaded on first use, reloaded after `invalidate()` or `ttl`. When its loader reads
    names too (`names_of`), it answers them (`names`): the org names an acceptance's receipt shows
    cost no query either, and are as fresh as the set.

    An empty directory is never kept (a node whose directory is not there yet must learn it as soon
    as it arrives); a reload that fails keeps the last set, and with none answers 503.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        load: Loader,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        unavailable: str = "暂时无法核对区划单位，请稍后重试",
    ) -> None:
        self._engine = engine
        self._unavailable = unavailable
        self._load = load
        self._ttl = ttl_seconds
        self._codes: frozenset[str] = frozenset()
        self._names: Mapping[str, str] | None = None
        self._loaded_at: float | None = None
        # Bumped by `invalidate`: a load that began before a commit may not have seen it, and is
        # used once but not kept (kept, it hid that commit for a whole `ttl`).
        self._generation = 0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._generation += 1
        self._loaded_at = None

    def _fresh(self) -> bool:
        return self._loaded_at is not None and time.monotonic() - self._loaded_at < self._ttl

    async def is_known(self, org: str) -> bool:
        if not self._fresh():
            await self._reload()
        return org in self._codes

    async def names(self, codes: Iterable[str | None]) -> dict[str, str] | None:
        """The names of those of `codes` the set has; None when its loader reads no names."""
        if not self._fresh():
            await self._reload()
        names = self._names
        if names is None:
            return None
        return {code: names[code] for code in codes if code and code in names}

    async def _reload(self) -> None:
        async with self._lock:
            if self._fresh():
                return
            started = time.monotonic()
            generation = self._generation
            try:
                async with self._engine.connect() as conn:
                    loaded = await self._load(conn)
            except Exception as exc:
                if not self._codes:
                    raise ServiceUnavailable(self._unavailable) from exc
                log.warning("cannot reload a replica's keys (%s); keeping the last %d", exc, len(self._codes))
                self._loaded_at = started if generation == self._generation else None
                return
            self._codes = frozenset(loaded)
            self._names = dict(loaded) if isinstance(loaded, Mapping) else None
            self._loaded_at = started if loaded and generation == self._generation else None


def names_of(table: Table) -> Loader:
    """Codes with their names (a county's directory is a few hundred units)."""

    async def load(conn: AsyncConnection) -> dict[str, str]:
        return {str(code): str(name) for code, name in await conn.execute(select(table.c.code, table.c.name))}

    return load


def codes_of(table: Table) -> Loader:
    async def load(conn: AsyncConnection) -> set[str]:
        return set((await conn.execute(select(table.c.code))).scalars())

    return load


def replica_known_orgs(engine: AsyncEngine, schema: str) -> CachedKeySet:
    return CachedKeySet(engine, names_of(org_units_replica(schema)))


async def apply_org_units(uow: UnitOfWork, table: Table, payload: OrgUnitsPublished) -> None:
    """Make the replica hold exactly the county's units as published (a redelivery changes nothing)."""
    await _apply(await uow.session.connection(), table, payload)


async def _apply(conn: AsyncConnection, table: Table, payload: OrgUnitsPublished) -> None:
    county = OrgCode.parse(payload.county)
    rows = [
        {"code": u.code, "name": u.name, "tier": u.tier.value, "parent_code": u.parent_code}
        for u in payload.units
        if OrgCode.parse(u.code).is_within(county)
    ]
    codes = [row["code"] for row in rows]
    await conn.execute(
        delete(table).where(table.c.code.like(county.subtree_prefix + "%"), table.c.code.not_in(codes))
    )
    if rows:
        stmt = pg_insert(table).values(rows)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.code],
                set_={
                    "name": stmt.excluded.name,
                    "tier": stmt.excluded.tier,
                    "parent_code": stmt.excluded.parent_code,
                },
            )
        )


def invalidate_on_commit(uow: UnitOfWork, known: CachedKeySet | None) -> None:
    """Forget `known`'s set once this unit of work commits (not before: a reload would miss it)."""
    if known is None:
        return
    event.listen(uow.session.sync_session, "after_commit", lambda _session: known.invalidate(), once=True)


def org_units_subscription(county: str, table: Table, known: CachedKeySet | None) -> Subscription:
    """The consumer of `OrgUnitsPublished` that keeps `table` (and `known`) up to date."""

    async def apply(envelope: Envelope, payload: OrgUnitsPublished, uow: UnitOfWork) -> None:
        await apply_org_units(uow, table, payload)
        invalidate_on_commit(uow, known)

    return Subscription(
        name="org-units",
        handlers=dict([on(OrgUnitsPublished, apply)]),
        within=county,
        copies=[CopyKind.published],
    )


# ---------------------------------------------------------------------------------------------
# For a service's composition root: `known_orgs=replica_of`, and `replica_subscription(runtime)`
# among its subscriptions.


def replica_of(runtime: ServiceRuntime) -> CachedKeySet:
    """`ServiceSpec.known_orgs` of a service that keeps the replica in its own schema."""
    return replica_known_orgs(runtime.engine, runtime.spec.schema)


def replica_subscription(runtime: ServiceRuntime) -> Subscription:
    """The consumer feeding `<schema>.org_units` with the org units of the node's county."""
    known = runtime.known_orgs
    return org_units_subscription(
        runtime.node_org.county.value,
        org_units_replica(runtime.spec.schema),
        known if isinstance(known, CachedKeySet) else None,
    )


P = TypeVar("P", bound=EventData)


async def latest_published(engine: AsyncEngine, specs: Sequence[ServiceSpec], kind: type[P]) -> list[P]:
    """The last event of type `kind` in the outbox of each of `specs` that has one (what a seed
    just published, read before any bus carries it)."""
    published: list[P] = []
    async with engine.connect() as conn:
        for spec in specs:
            outbox = messaging_tables(spec.schema).outbox
            rows = await conn.execute(
                select(outbox.c.envelope)
                .where(outbox.c.type == kind.event_type)
                .order_by(outbox.c.seq.desc())
                .limit(1)
            )
            for (raw,) in rows:
                payload = Envelope.from_bytes(raw.encode()).payload()
                assert isinstance(payload, kind)
                published.append(payload)
    return published


async def deliver_seeded_org_units(engine: AsyncEngine, specs: Sequence[ServiceSpec]) -> int:
    """Hand the org units a seed just published to the replicas of this node's services, at seed
    time, before any bus is up (`daiban seed`/`daiban run`), so no token of a known unit is
    refused while the first events travel. The same event reaches the consumers later and changes
    nothing. Returns how many replicas were filled."""
    published = await latest_published(engine, specs, OrgUnitsPublished)
    replicas = [spec for spec in specs if spec.known_orgs is replica_of]
    async with engine.begin() as conn:
        for spec in replicas:
            for payload in published:
                await _apply(conn, org_units_replica(spec.schema), payload)
    return len(replicas) if published else 0
