"""Which events routing applies: one durable consumer for the case events of this node's subtree.

One consumer rather than one per type keeps a case's events in the order they were published
(a forward is applied before the decision that follows it).
"""

from __future__ import annotations

from typing import Any

from daiban_common.consumer import Handler, Subscription, on
from daiban_common.contracts.case import CaseAccepted, CaseSupplemented
from daiban_common.contracts.routing import CaseForwarded, CaseReceived, CaseReturnedDown
from daiban_common.events import Envelope, EventData
from daiban_common.runtime import ServiceRuntime
from daiban_common.settings import Settings
from daiban_common.uow import UnitOfWork
from daiban_routing.handlers.moving import (
    on_case_accepted,
    on_case_forwarded,
    on_case_received,
    on_case_returned_down,
)
from daiban_routing.handlers.pausing import on_case_supplemented

_HANDLERS = dict(
    [
        on(CaseAccepted, on_case_accepted),
        on(CaseForwarded, on_case_forwarded),
        on(CaseReceived, on_case_received),
        on(CaseReturnedDown, on_case_returned_down),
        on(CaseSupplemented, on_case_supplemented),
    ]
)


def _only_hosted(settings: Settings, handler: Handler[Any]) -> Handler[Any]:
    """Events about org units that run their own node (DAIBAN_CHILD_NODES) are theirs to apply."""

    async def apply(envelope: Envelope, payload: EventData, uow: UnitOfWork) -> None:
        if settings.hosts(envelope.org):
            await handler(envelope, payload, uow)

    return apply


def subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
    return [
        Subscription(
            name="cases",
            handlers={event: _only_hosted(runtime.settings, handler) for event, handler in _HANDLERS.items()},
        )
    ]
