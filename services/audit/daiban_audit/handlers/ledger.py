"""The log's write side: append an entry per event, sign checkpoints, keep children's checkpoints.

The event handlers run inside the consumer's unit of work (with its inbox row) and leave the
commit to it; the checkpoint timer's handler has one of its own. Either way an entry, the moved
chain head, a checkpoint and its outgoing event are written together or not at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from daiban_audit.context import AuditContext
from daiban_audit.domain.chain import CHAIN, Entry, sealed
from daiban_audit.domain.checkpoints import checkpoint_due, refusal
from daiban_audit.domain.masking import mask_personal_data
from daiban_audit.models import ChainHead, Checkpoint, HeldCheckpoint, LogEntry, NodeKey
from daiban_common.consumer import PermanentFailure
from daiban_common.uow import Prepared, UnitOfWork
from daiban_contracts.audit import CheckpointSigned
from daiban_contracts.envelope import Envelope, EventData

SYSTEM_ACTOR = "system:audit"


async def lock_head(uow: UnitOfWork, chain: str = CHAIN) -> ChainHead:
    """The chain's head, row-locked until commit: appends to one chain happen one at a time."""
    await uow.session.exec(pg_insert(ChainHead).values(chain=chain).on_conflict_do_nothing())
    head = (await uow.session.exec(select(ChainHead).where(ChainHead.chain == chain).with_for_update())).one()
    return head


# On the driver (daiban_common.uow.Prepared): SQLAlchemy's execution of even a compiled statement
# cost more Python calls than asyncpg's.
_ENTRIES: Final[Table] = LogEntry.__table__  # type: ignore[attr-defined]
_APPEND: Final = Prepared(
    pg_insert(_ENTRIES)
    .values({name: bindparam(name, type_=_ENTRIES.c[name].type) for name in Entry.__slots__})
    .on_conflict_do_nothing(index_elements=[_ENTRIES.c.event_id])
    .returning(_ENTRIES.c.seq)
)
_HEADS: Final[Table] = ChainHead.__table__  # type: ignore[attr-defined]
_MOVE_HEAD: Final = Prepared(
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("of_chain", type_=_HEADS.c.chain.type))
    .values(
        size=bindparam("new_size", type_=_HEADS.c.size.type),
        head_hash=bindparam("new_hash", type_=_HEADS.c.head_hash.type),
    )
)


class _Appends:
    """A transaction's appends to the chain: its head locked and read at the first, moved in
    memory by each, written once at commit (UnitOfWork.at_commit). The consumer applies a whole
    fetch in one unit of work; the row lock holds from the first append to the commit, so no one
    else reads the head before it is written, and nothing in the unit reads it from the database."""

    __slots__ = ("head", "moved")

    def __init__(self) -> None:
        self.head: ChainHead | None = None
        self.moved = False

    async def write(self, uow: UnitOfWork) -> None:
        head = self.head
        if self.moved and head is not None:
            await uow.execute(
                _MOVE_HEAD, {"of_chain": head.chain, "new_size": head.size, "new_hash": head.head_hash}
            )


async def head_for_appends(uow: UnitOfWork) -> tuple[_Appends, ChainHead]:
    """The unit's appends and their head, locked the first time. The consumer expunges the head
    from the session between events; it stays out (no flush looks at it) until a checkpoint
    updates its checkpoint columns and adds it again."""
    appends = uow.at_commit(_Appends, _Appends)
    head = appends.head
    if head is None:
        head = appends.head = await lock_head(uow)
    return appends, head


async def append_entry(
    ctx: AuditContext, envelope: Envelope, payload: EventData | None, uow: UnitOfWork
) -> None:
    """Log one event: the next entry of the chain, personal data masked, hashed with its predecessor."""
    if payload is None:
        raise PermanentFailure(f"未知的事件类型{envelope.type}，无法确认其内容，未写入审计日志")
    appends, head = await head_for_appends(uow)
    entry = sealed(
        Entry(
            seq=head.size + 1,
            event_id=envelope.id,
            type=envelope.type,
            source=envelope.source,
            subject=envelope.subject,
            time=envelope.time,
            recorded_at=datetime.now(UTC),
            org=envelope.org,
            actor=envelope.actor,
            data=mask_personal_data(envelope.data),
            prev_hash=head.head_hash,
        )
    )
    # The inbox already makes this consumer apply an event once; the unique event id is the
    # log's own guarantee, should the inbox ever be cleared: a known id inserts nothing, and the
    # head stays where it was.
    if await uow.fetchval(_APPEND, {name: getattr(entry, name) for name in Entry.__slots__}) is None:
        return
    # Written at commit (_Appends): the ORM must not write them (a checkpoint still updates the
    # head's checkpoint columns through it).
    set_committed_value(head, "size", entry.seq)
    set_committed_value(head, "head_hash", entry.hash)
    appends.moved = True
    await sign_checkpoint_if_due(ctx, uow, head, by_time=False)


async def sign_checkpoint_if_due(
    ctx: AuditContext, uow: UnitOfWork, head: ChainHead | None = None, *, by_time: bool
) -> Checkpoint | None:
    """Sign a checkpoint of the chain head if one is due, keep a copy, and send it to the parent."""
    head = head if head is not None else await lock_head(uow)
    now = datetime.now(UTC)
    due = checkpoint_due(
        size=head.size,
        checkpointed_size=head.checkpointed_size,
        checkpointed_at=head.checkpointed_at,
        now=now,
        every_entries=ctx.settings.checkpoint_every_entries,
        interval=timedelta(seconds=ctx.settings.checkpoint_interval_seconds),
        by_time=by_time,
    )
    parent = ctx.parent_org
    if not due or parent is None:
        return None
    unsigned = CheckpointSigned(
        node_org=ctx.node_org.value,
        node=ctx.node,
        chain=head.chain,
        size=head.size,
        head_hash=head.head_hash,
        signed_at=now,
        public_key=ctx.signer.public_key,
        signature="",
    )
    event = unsigned.model_copy(update={"signature": ctx.signer.sign(unsigned.statement_bytes())})
    envelope = uow.emit(
        event, subject=f"audit-chain-{ctx.node_org.value}", org=parent.value, actor=SYSTEM_ACTOR
    )
    checkpoint = Checkpoint(
        chain=head.chain,
        size=event.size,
        head_hash=event.head_hash,
        signed_at=now,
        public_key=event.public_key,
        signature=event.signature,
        event_id=envelope.id,
    )
    uow.session.add(checkpoint)
    head.checkpointed_size, head.checkpointed_at = head.size, now
    uow.session.add(head)
    return checkpoint


async def sign_overdue_checkpoint(ctx: AuditContext, uow: UnitOfWork) -> bool:
    """On a quiet node, sign a checkpoint of entries left uncovered too long; whether one was signed."""
    async with uow:
        if await sign_checkpoint_if_due(ctx, uow, by_time=True) is None:
            return False
        await uow.commit()
    return True


async def keep_checkpoint(
    ctx: AuditContext, envelope: Envelope, payload: CheckpointSigned, uow: UnitOfWork
) -> None:
    """Keep a child's checkpoint once its signature and key check out; otherwise dead-letter it."""
    pinned = await uow.session.get(NodeKey, payload.node_org)
    reason = refusal(
        payload,
        addressed_to=envelope.org,
        holder_org=ctx.node_org.value,
        pinned_key=pinned.public_key if pinned is not None else None,
    )
    if reason is not None:
        raise PermanentFailure(reason)
    if pinned is None:
        # Trust on first use: the first key a child presents is the one it must keep using.
        uow.session.add(
            NodeKey(node_org=payload.node_org, public_key=payload.public_key, first_seen_at=datetime.now(UTC))
        )
    await uow.session.exec(
        pg_insert(HeldCheckpoint)
        .values(
            node_org=payload.node_org,
            node=payload.node,
            chain=payload.chain,
            size=payload.size,
            head_hash=payload.head_hash,
            signed_at=payload.signed_at,
            public_key=payload.public_key,
            signature=payload.signature,
            event_id=envelope.id,
        )
        .on_conflict_do_nothing(index_elements=[col(HeldCheckpoint.event_id)])
    )
