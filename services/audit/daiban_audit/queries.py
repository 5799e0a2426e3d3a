"""The read side: entries, chain verification, checkpoints and statistics, scoped in SQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from daiban_audit.domain.chain import (
    CHAIN,
    GENESIS_HASH,
    Anchor,
    ChainVerifier,
    Entry,
    Verdict,
    stored_entry_hash,
)
from daiban_audit.domain.stats import Dimension, figures, parse_key
from daiban_audit.models import (
    SCHEMA,
    ChainHead,
    Checkpoint,
    HeldCheckpoint,
    LogEntry,
    StatCounter,
    org_units,
)
from daiban_common.auth import subtree_clause
from daiban_common.pagination import PageParams, after_clause, paginate
from daiban_common.uow import UnitOfWork

VERIFY_BATCH = 2000
# The first batches are smaller (growing fourfold up to VERIFY_BATCH): nothing is hashed while
# PostgreSQL prepares the first one, so a short first batch starts the overlap sooner.
VERIFY_FIRST_BATCH = 250
# Verification reads plain rows (no ORM objects), instants already in `rfc3339_utc` form
# (microseconds, `Z`; checked by every verification of a real chain) and `data` as JSON text in
# UTF-8 bytes (what orjson parses, without a str in between).
_VERIFY_ROWS = f"""
SELECT seq, event_id, type, source, subject,
       to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       org, actor, convert_to(data::text, 'UTF8'), prev_hash, hash
FROM {SCHEMA}.{LogEntry.__tablename__}
WHERE seq > $1 AND ($2::bigint IS NULL OR seq <= $2::bigint)
ORDER BY seq LIMIT $3
"""


async def _settle(pending: asyncio.Task[Any] | None) -> None:
    """Wait out a prefetch no longer needed: the connection must be idle before the session ends."""
    if pending is not None:
        await asyncio.wait([pending])


def _row_hash(row: Any) -> str:
    return stored_entry_hash(
        seq=row[0],
        event_id=row[1],
        type=row[2],
        source=row[3],
        subject=row[4],
        time=row[5],
        recorded_at=row[6],
        org=row[7],
        actor=row[8],
        data_json=row[9],
        prev_hash=row[10],
    )


@dataclass(frozen=True)
class EntryFilter:
    scope_org: str
    subject: str | None = None
    actor: str | None = None
    org: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_entries(
    uow: UnitOfWork, filters: EntryFilter, page: PageParams
) -> tuple[list[LogEntry], str | None]:
    """Entries in chain order, within the caller's subtree (and the filter's org, if any)."""
    stmt = select(LogEntry).where(subtree_clause(col(LogEntry.org), filters.scope_org))
    if filters.org is not None:
        stmt = stmt.where(subtree_clause(col(LogEntry.org), filters.org))
    if filters.subject is not None:
        stmt = stmt.where(col(LogEntry.subject) == filters.subject)
    if filters.actor is not None:
        stmt = stmt.where(col(LogEntry.actor) == filters.actor)
    if filters.type is not None:
        stmt = stmt.where(col(LogEntry.type) == filters.type)
    if filters.since is not None:
        stmt = stmt.where(col(LogEntry.time) >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(col(LogEntry.time) < filters.until)
    after = page.key(int)
    if after is not None:
        stmt = stmt.where(after_clause([col(LogEntry.seq)], after))
    stmt = stmt.order_by(col(LogEntry.seq)).limit(page.limit + 1)
    rows = list((await uow.session.exec(stmt)).all())
    return paginate(rows, page, key=lambda entry: (entry.seq,))


def as_entry(row: LogEntry) -> Entry:
    return Entry(**{name: getattr(row, name) for name in Entry.__slots__})


async def own_anchors(uow: UnitOfWork, head: ChainHead | None) -> list[Anchor]:
    """The node's own checkpoints and chain head: they catch a careless truncation, not a careful
    one (whoever controls the database can change them too; the parent's copies are the real test)."""
    anchors = [
        Anchor(cp.size, cp.head_hash, f"本节点{cp.signed_at:%Y-%m-%d %H:%M:%S}签署的检查点")
        for cp in (await uow.session.exec(select(Checkpoint).where(Checkpoint.chain == CHAIN))).all()
    ]
    if head is not None and head.size > 0:
        anchors.append(Anchor(head.size, head.head_hash, "链头记录"))
    return anchors


@dataclass(frozen=True)
class UnsignedTail:
    """The entries after the node's last signed checkpoint: nothing outside the node vouches for
    them yet, so the checkpoint rules keep this tail short in count and in time."""

    entries: int
    oldest_recorded_at: datetime | None
    age_seconds: float | None


async def unsigned_tail(uow: UnitOfWork, head: ChainHead | None) -> UnsignedTail:
    size = head.size if head is not None else 0
    signed = (
        await uow.session.exec(select(func.max(col(Checkpoint.size))).where(col(Checkpoint.chain) == CHAIN))
    ).one()
    first = int(signed or 0) + 1
    if size < first:
        return UnsignedTail(0, None, None)
    oldest = (await uow.session.exec(select(LogEntry.recorded_at).where(LogEntry.seq == first))).first()
    if oldest is None:
        return UnsignedTail(size - first + 1, None, None)
    age = max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
    return UnsignedTail(size - first + 1, oldest, round(age, 3))


async def verify_chain(
    uow: UnitOfWork, *, from_seq: int, to_seq: int | None, extra_anchors: Sequence[Anchor] = ()
) -> tuple[Verdict, UnsignedTail]:
    """Walk the stored chain in batches and check it against its own and the supplied anchors,
    the chain head among them; also say how much of the chain no checkpoint covers yet."""
    # One snapshot for the head and every batch: an entry appended while we read is then neither
    # half seen nor mistaken for one written past the head.
    await uow.session.connection(
        execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    )
    head = await uow.session.get(ChainHead, CHAIN)
    prev_hash: str | None = GENESIS_HASH
    if from_seq > 1:
        # A range starts from the stored hash before it; the entries before are checked separately.
        before = await uow.session.get(LogEntry, from_seq - 1)
        prev_hash = before.hash if before is not None else None
    verifier = ChainVerifier(
        from_seq=from_seq,
        to_seq=to_seq,
        prev_hash=prev_hash,
        anchors=[*await own_anchors(uow, head), *extra_anchors],
        head_size=head.size if head is not None else 0,
    )
    driver: Any = (await (await uow.session.connection()).get_raw_connection()).driver_connection

    async def batch_after(seq: int, limit: int) -> list[Any]:
        return list(await driver.fetch(_VERIFY_ROWS, seq, to_seq, limit))

    # The next batch is asked for before this one is hashed, so PostgreSQL reads and formats
    # rows on the other core meanwhile (one query in flight at a time, as asyncpg requires).
    limit = min(VERIFY_FIRST_BATCH, VERIFY_BATCH)
    pending: asyncio.Task[list[Any]] | None = asyncio.ensure_future(batch_after(from_seq - 1, limit))
    while pending is not None:
        rows = await pending
        pending = None
        if len(rows) == limit:
            limit = min(limit * 4, VERIFY_BATCH)
            pending = asyncio.ensure_future(batch_after(rows[-1][0], limit))
            await asyncio.sleep(0)  # let it send the query
        try:
            verifier.feed_rows(rows, _row_hash)
        except Exception:
            await _settle(pending)
            raise
        if verifier.failed:
            await _settle(pending)
            break
    return verifier.finish(), await unsigned_tail(uow, head)


async def list_own_checkpoints(uow: UnitOfWork, page: PageParams) -> tuple[list[Checkpoint], str | None]:
    stmt = select(Checkpoint)
    after = page.key(int)
    if after is not None:
        stmt = stmt.where(after_clause([col(Checkpoint.size)], after))
    rows = list((await uow.session.exec(stmt.order_by(col(Checkpoint.size)).limit(page.limit + 1))).all())
    return paginate(rows, page, key=lambda cp: (cp.size,))


async def list_held_checkpoints(
    uow: UnitOfWork, node_org: str, page: PageParams
) -> tuple[list[HeldCheckpoint], str | None]:
    stmt = select(HeldCheckpoint).where(col(HeldCheckpoint.node_org) == node_org)
    after = page.key(int)
    if after is not None:
        stmt = stmt.where(after_clause([col(HeldCheckpoint.id)], after))
    stmt = stmt.order_by(col(HeldCheckpoint.id)).limit(page.limit + 1)
    rows = list((await uow.session.exec(stmt)).all())
    return paginate(rows, page, key=lambda cp: (cp.id,))


async def summed_counters(
    uow: UnitOfWork, *, org: str, dimension: Dimension, since: date, until: date, by_day: bool = False
) -> dict[str, dict[str, int]]:
    """metric -> value per group key (the dimension's key, or the day), over [since, until]."""
    group = col(StatCounter.day) if by_day else col(StatCounter.key)
    stmt = (
        select(group, col(StatCounter.metric), func.sum(col(StatCounter.value)))
        .where(
            col(StatCounter.org) == org,
            col(StatCounter.dimension) == dimension.value,
            col(StatCounter.day) >= since,
            col(StatCounter.day) <= until,
        )
        .group_by(group, col(StatCounter.metric))
    )
    grouped: dict[str, dict[str, int]] = {}
    for key, metric, value in (await uow.session.exec(stmt)).all():
        label = key.isoformat() if isinstance(key, date) else str(key)
        grouped.setdefault(label, {})[metric] = int(value or 0)
    return grouped


async def org_names(uow: UnitOfWork, codes: set[str]) -> dict[str, str]:
    """Names of org units from the county's replica; a code it lacks is left out."""
    if not codes:
        return {}
    stmt = select(org_units.c.code, org_units.c.name).where(org_units.c.code.in_(sorted(codes)))
    return {str(code): str(name) for code, name in (await uow.session.exec(stmt)).all()}


async def statistics(
    uow: UnitOfWork, *, org: str, since: date, until: date, group_by: Dimension | None, by_day: bool
) -> dict[str, Any]:
    """Totals and groups; each group says the org unit it belongs to (`org`, `org_name`) and its
    `code` within it, `key` staying the counter key."""
    totals = await summed_counters(uow, org=org, dimension=Dimension.total, since=since, until=until)
    result: dict[str, Any] = {"totals": figures(totals.get("", {})), "groups": []}
    dimension = None if by_day else group_by
    if by_day:
        grouped = await summed_counters(
            uow, org=org, dimension=Dimension.total, since=since, until=until, by_day=True
        )
    elif group_by is not None:
        grouped = await summed_counters(uow, org=org, dimension=group_by, since=since, until=until)
    else:
        grouped = {}
    keys = {key: parse_key(dimension, key) for key in grouped}
    names = await org_names(uow, {org} | {k.org for k in keys.values() if k.org is not None})
    result["org_name"] = names.get(org)
    result["groups"] = [
        {
            "key": key,
            "org": (unit := keys[key].org),
            "org_name": names.get(unit) if unit is not None else None,
            "code": keys[key].code,
            **figures(counts),
        }
        for key, counts in sorted(grouped.items())
    ]
    return result
