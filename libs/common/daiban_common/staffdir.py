"""Who the directory's staff are and where they work: a replica of routing's staff, and a cache of it.

Routing owns the directory. After a seed it publishes every staff member of the county
(`StaffPublished`), and one `StaffChanged` per later edit. A service whose routes record what staff
do under their name (intake: acceptance, supplements, handover) keeps `(staff_id, org)` in a small
table of its own schema (`staff_directory`), fed by `staff_subscription`, and refuses a token whose
subject is nobody of the directory at the token's org (`known_staff_member`), from a set in memory
(`CachedKeySet`, reloaded after the consumer commits), so checking a request costs no query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, String, Table, delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from daiban_common.auth import Principal
from daiban_common.consumer import Subscription, on
from daiban_common.errors import Forbidden
from daiban_common.messaging import defined_once
from daiban_common.openapi import ProblemDoc
from daiban_common.orgunits import CachedKeySet, invalidate_on_commit, latest_published
from daiban_common.uow import UnitOfWork
from daiban_contracts.directory import StaffChanged, StaffPublished
from daiban_contracts.envelope import Envelope
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.subjects import CopyKind

if TYPE_CHECKING:
    from daiban_common.service import ServiceSpec

__all__ = [
    "NOT_IN_DIRECTORY",
    "NOT_IN_DIRECTORY_DOC",
    "SYSTEM_PREFIX",
    "deliver_seeded_staff",
    "known_staff_member",
    "replica_staff",
    "staff_replica",
    "staff_subscription",
]

NOT_IN_DIRECTORY = "/problems/not-in-directory"
# How the OpenAPI documents of routing and intake show the refusal.
NOT_IN_DIRECTORY_DOC = ProblemDoc(
    403,
    "The token's subject is not a staff member of the directory at the token's org",
    type=NOT_IN_DIRECTORY,
    title="Not a staff member of the directory",
    detail="身份“someone”不是370285101000人员目录中的工作人员，不能办理；请联系管理员登记",
)
# Services acting on their own (timers, consumers) are no one of the directory.
SYSTEM_PREFIX = "system:"


def staff_replica(schema: str, metadata: MetaData | None = None) -> Table:
    """The replica table `<schema>.staff_directory` (defined once per metadata)."""

    def define(md: MetaData) -> Table:
        return Table(
            "staff_directory",
            md,
            Column("staff_id", String(64), primary_key=True),
            Column("org", String(12), nullable=False),
            schema=schema,
        )

    return defined_once("staff_directory", schema, metadata, define)


def _key(org: str, staff_id: str) -> str:
    return f"{org}/{staff_id}"


def replica_staff(engine: AsyncEngine, schema: str) -> CachedKeySet:
    """The staff of `<schema>.staff_directory` in memory, as `org/staff_id` keys."""
    table = staff_replica(schema)

    async def load(conn: AsyncConnection) -> set[str]:
        return {
            _key(org, staff_id) for staff_id, org in await conn.execute(select(table.c.staff_id, table.c.org))
        }

    return CachedKeySet(engine, load, unavailable="暂时无法核对人员目录，请稍后重试")


async def known_staff_member(staff: CachedKeySet, principal: Principal) -> None:
    """403 unless the caller is a staff member of the directory at the token's org (systems aside).

    A valid token is not enough to act for the administration: what staff do is recorded under
    their name, so the person must be one the directory knows, where the token says they work.
    """
    if principal.sub.startswith(SYSTEM_PREFIX) or await staff.is_known(_key(principal.org, principal.sub)):
        return
    raise Forbidden(
        f"身份“{principal.sub}”不是{principal.org}人员目录中的工作人员，不能办理；请联系管理员登记",
        type=NOT_IN_DIRECTORY,
        title="Not a staff member of the directory",
    )


async def _apply_published(conn: AsyncConnection, table: Table, payload: StaffPublished) -> None:
    """Add or move every staff member published (a redelivery changes nothing). Removals travel as
    `StaffChanged` (deleted), so a snapshot never takes away someone it does not list."""
    county = OrgCode.parse(payload.county)
    rows = [
        {"staff_id": m.staff_id, "org": m.org}
        for m in payload.staff
        if OrgCode.parse(m.org).is_within(county)
    ]
    if rows:
        stmt = pg_insert(table).values(rows)
        await conn.execute(
            stmt.on_conflict_do_update(index_elements=[table.c.staff_id], set_={"org": stmt.excluded.org})
        )


async def _apply_changed(conn: AsyncConnection, table: Table, payload: StaffChanged) -> None:
    if payload.after is None:
        await conn.execute(delete(table).where(table.c.staff_id == payload.staff_id))
        return
    stmt = pg_insert(table).values(staff_id=payload.staff_id, org=payload.after.org)
    await conn.execute(
        stmt.on_conflict_do_update(index_elements=[table.c.staff_id], set_={"org": stmt.excluded.org})
    )


def staff_subscription(county: str, schema: str, known: CachedKeySet) -> Subscription:
    """The consumer of routing's staff events that keeps `<schema>.staff_directory` (and `known`)."""
    table = staff_replica(schema)

    async def published(envelope: Envelope, payload: StaffPublished, uow: UnitOfWork) -> None:
        await _apply_published(await uow.session.connection(), table, payload)
        invalidate_on_commit(uow, known)

    async def changed(envelope: Envelope, payload: StaffChanged, uow: UnitOfWork) -> None:
        await _apply_changed(await uow.session.connection(), table, payload)
        invalidate_on_commit(uow, known)

    return Subscription(
        name="staff",
        handlers=dict([on(StaffPublished, published), on(StaffChanged, changed)]),
        within=county,
        # The county's directory comes down to township nodes; a township's changes go up.
        copies=[CopyKind.published, CopyKind.countywide],
    )


async def deliver_seeded_staff(engine: AsyncEngine, specs: Sequence[ServiceSpec]) -> int:
    """Hand the staff a directory seed just published to the `staff_directory` replicas of this
    node's services at seed time, before any bus is up, so that the demo's people can act at once
    (`deliver_seeded_org_units` does the same for org units). Returns how many replicas were filled."""
    published = await latest_published(engine, specs, StaffPublished)
    filled = 0
    async with engine.begin() as conn:
        for spec in specs:
            found = await conn.execute(
                text("SELECT to_regclass(:name)"), {"name": f"{spec.schema}.staff_directory"}
            )
            if found.scalar() is None:
                continue
            filled += 1
            for payload in published:
                await _apply_published(conn, staff_replica(spec.schema), payload)
    return filled if published else 0
