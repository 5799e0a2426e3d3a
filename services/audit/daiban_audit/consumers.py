"""The audit service's durable consumers: the log, the statistics, and children's checkpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from daiban_audit.context import AuditContext
from daiban_audit.handlers.ledger import append_entry, keep_checkpoint
from daiban_audit.handlers.stats import (
    on_accepted,
    on_assigned,
    on_complaint,
    on_decided,
    on_evaluated,
    on_forwarded,
    on_notice,
    on_rectification,
    on_supplement_requested,
)
from daiban_common.consumer import Subscription, on
from daiban_common.orgunits import replica_subscription
from daiban_common.runtime import ServiceRuntime
from daiban_common.schedules import schedule_subscription
from daiban_common.uow import UnitOfWork
from daiban_contracts.audit import CheckpointSigned
from daiban_contracts.case import (
    CaseAccepted,
    CaseEvaluated,
    ComplaintFiled,
    OneTimeNoticeIssued,
    RectificationOpened,
)
from daiban_contracts.envelope import Envelope
from daiban_contracts.routing import CaseAssigned, CaseDecided, CaseForwarded, SupplementRequested
from daiban_contracts.subjects import CopyKind

T = TypeVar("T")


def _given(
    ctx: AuditContext,
) -> Callable[
    [Callable[[AuditContext, Envelope, T, UnitOfWork], Awaitable[None]]],
    Callable[[Envelope, T, UnitOfWork], Awaitable[None]],
]:
    """Binds the context to the handlers that need it (the settings, the key, the calendar)."""

    def bind(
        handler: Callable[[AuditContext, Envelope, T, UnitOfWork], Awaitable[None]],
    ) -> Callable[[Envelope, T, UnitOfWork], Awaitable[None]]:
        async def apply(envelope: Envelope, payload: T, uow: UnitOfWork) -> None:
            await handler(ctx, envelope, payload, uow)

        return apply

    return bind


def subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
    ctx = cast(AuditContext, runtime.context)
    given = _given(ctx)
    # Children address their checkpoints to this node's own org; standing in for the parent, the
    # node also takes those addressed to its parent (its own, in a single-node network).
    checkpoint_subjects = [runtime.subjects.at(ctx.node_org, CheckpointSigned)]
    if ctx.settings.stand_in_for_parent and ctx.parent_org is not None:
        checkpoint_subjects.append(runtime.subjects.at(ctx.parent_org, CheckpointSigned))
    return [
        # Every event of the node, of every type: the catch-all sees unknown types too.
        Subscription(name="log", default_handler=given(append_entry)),
        Subscription(
            name="stats",
            handlers=dict(
                [
                    on(CaseAccepted, given(on_accepted)),
                    on(CaseForwarded, on_forwarded),
                    on(CaseAssigned, on_assigned),
                    on(OneTimeNoticeIssued, on_notice),
                    on(SupplementRequested, on_supplement_requested),
                    on(CaseDecided, given(on_decided)),
                    on(CaseEvaluated, on_evaluated),
                    on(ComplaintFiled, on_complaint),
                    on(RectificationOpened, on_rectification),
                ]
            ),
            # At the county, a township node's cases count through the copies it sends up.
            copies=[CopyKind.countywide],
        ),
        Subscription(
            name="checkpoints",
            handlers=dict([on(CheckpointSigned, given(keep_checkpoint))]),
            subjects=checkpoint_subjects,
        ),
        replica_subscription(runtime),
        # Its statistics count working days.
        schedule_subscription(runtime),
    ]
