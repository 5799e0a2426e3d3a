"""The audit service's durable consumers: the log, the statistics, and children's checkpoints."""

from __future__ import annotations

from typing import Any

from daiban_audit.context import audit_context
from daiban_audit.ledger import append_entry, keep_checkpoint
from daiban_audit.projections import stats_handlers
from daiban_common.consumer import Subscription, on
from daiban_common.orgunits import replica_subscription
from daiban_common.runtime import ServiceRuntime
from daiban_common.uow import UnitOfWork
from daiban_contracts.audit import CheckpointSigned
from daiban_contracts.envelope import Envelope


def subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
    ctx = audit_context(runtime)

    async def log_event(envelope: Envelope, payload: Any, uow: UnitOfWork) -> None:
        await append_entry(ctx, envelope, payload, uow)

    async def keep(envelope: Envelope, payload: CheckpointSigned, uow: UnitOfWork) -> None:
        await keep_checkpoint(ctx, envelope, payload, uow)

    # Children address their checkpoints to this node's own subject; standing in for the parent,
    # the node also takes those addressed to its parent (its own, in a single-node network).
    checkpoint_subjects = [ctx.checkpoint_subject(ctx.node_org)]
    if ctx.settings.stand_in_for_parent and ctx.parent_org is not None:
        checkpoint_subjects.append(ctx.checkpoint_subject(ctx.parent_org))
    return [
        # Every event of the node, of every type: the catch-all sees unknown types too.
        Subscription(name="log", default_handler=log_event),
        Subscription(name="stats", handlers=stats_handlers(ctx)),
        Subscription(
            name="checkpoints", handlers=dict([on(CheckpointSigned, keep)]), subjects=checkpoint_subjects
        ),
        replica_subscription(runtime),
    ]
