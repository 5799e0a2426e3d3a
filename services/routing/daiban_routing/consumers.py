"""Which events routing applies: one durable consumer for the case events of this node's subtree,
another for the official schedules loaded anywhere in the county.

One consumer rather than one per type keeps a case's events in the order they were published
(a forward is applied before the decision that follows it). Its filters are derived from the
table, one per event class.
"""

from __future__ import annotations

from collections.abc import Callable

from daiban_common.consumer import Handler, P, PermanentFailure, Subscription, on
from daiban_common.runtime import ServiceRuntime
from daiban_common.settings import Settings
from daiban_common.uow import UnitOfWork
from daiban_contracts.calendar import CalendarYearPublished
from daiban_contracts.case import CaseAccepted, CaseSupplemented
from daiban_contracts.envelope import Envelope
from daiban_contracts.routing import CaseForwarded, CaseReceived, CaseReturnedDown
from daiban_contracts.subjects import CopyKind
from daiban_routing.handlers.calendar import on_year_published
from daiban_routing.handlers.moving import (
    on_case_accepted,
    on_case_forwarded,
    on_case_received,
    on_case_returned_down,
)
from daiban_routing.handlers.pausing import on_case_supplemented


def _hosted_only(settings: Settings) -> Callable[[Handler[P]], Handler[P]]:
    """Events about org units that run their own node (DAIBAN_CHILD_NODES) are theirs to apply.
    Each node's stream holds only its own (Subjects.node_stream), so one here was misrouted: it is
    parked with the reason rather than applied by two nodes."""

    def guard(handler: Handler[P]) -> Handler[P]:
        async def apply(envelope: Envelope, payload: P, uow: UnitOfWork) -> None:
            if not settings.hosts(envelope.org):
                raise PermanentFailure(f"事件所涉单位{envelope.org}由其自己的节点办理，不属于本节点")
            await handler(envelope, payload, uow)

        return apply

    return guard


def subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
    hosted = _hosted_only(runtime.settings)
    return [
        Subscription(
            name="cases",
            handlers=dict(
                [
                    on(CaseAccepted, hosted(on_case_accepted)),
                    on(CaseForwarded, hosted(on_case_forwarded)),
                    on(CaseReceived, hosted(on_case_received)),
                    on(CaseReturnedDown, hosted(on_case_returned_down)),
                    on(CaseSupplemented, hosted(on_case_supplemented)),
                ]
            ),
        ),
        # A year's schedule is the county's: a township node takes the one loaded at the county.
        Subscription(
            name="calendar",
            handlers=dict([on(CalendarYearPublished, on_year_published)]),
            within=runtime.node_org.county.value,
            copies=[CopyKind.published],
        ),
    ]
