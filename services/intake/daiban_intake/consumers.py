"""Which events intake applies: the catalogue's item versions, routing's moves of its cases, and who
the directory's staff are."""

from __future__ import annotations

from typing import cast

from daiban_common.consumer import Subscription, on
from daiban_common.orgunits import replica_subscription
from daiban_common.runtime import ServiceRuntime
from daiban_common.schedules import schedule_subscription
from daiban_common.staffdir import staff_subscription
from daiban_contracts.catalogue import ItemPublished
from daiban_intake.context import IntakeContext
from daiban_intake.domain.routing_events import ROUTING_EVENTS
from daiban_intake.handlers.catalogue import record_version
from daiban_intake.handlers.progress import progress_handler


def subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
    # Items are published with the county as envelope org; cases move anywhere in the county, so
    # the filter is the county's subtree and the handler skips cases accepted at other nodes
    # (outside this node's subtree, or below a child node of DAIBAN_CHILD_NODES).
    county = runtime.node_org.county.value
    context = cast(IntakeContext, runtime.context)
    apply_progress = progress_handler(context.hosts)
    return [
        Subscription(name="catalogue", handlers=dict([on(ItemPublished, record_version)]), within=county),
        Subscription(
            name="progress",
            handlers=dict(on(event, apply_progress) for event in ROUTING_EVENTS),
            within=county,
        ),
        replica_subscription(runtime),
        staff_subscription(county, runtime.spec.schema, context.staff),
        schedule_subscription(runtime),
    ]
