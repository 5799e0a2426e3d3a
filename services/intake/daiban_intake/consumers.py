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
from daiban_contracts.crossing import FOLLOWED_BY_ACCEPTING_NODE
from daiban_contracts.ingress import INGRESS_EVENTS
from daiban_contracts.subjects import CopyKind
from daiban_intake.context import IntakeContext
from daiban_intake.handlers.catalogue import version_recorder
from daiban_intake.handlers.ingress import INGRESS, ingress_handler
from daiban_intake.handlers.progress import progress_handler


def subscriptions(runtime: ServiceRuntime) -> list[Subscription]:
    # Items are the county's publications (a township node reads the copies the county sends it);
    # the moves of a case reach intake as the progress copies addressed to the node that accepted
    # it (daiban_contracts.crossing), wherever the case is.
    county = runtime.node_org.county.value
    context = cast(IntakeContext, runtime.context)
    apply_progress = progress_handler(context.hosts)
    ingress = ingress_handler(context, runtime.subjects)
    return [
        Subscription(
            name="catalogue",
            handlers=dict([on(ItemPublished, version_recorder(context.acceptance.items))]),
            within=county,
            copies=[CopyKind.published],
        ),
        Subscription(
            name="progress",
            handlers=dict(on(event, apply_progress) for event in FOLLOWED_BY_ACCEPTING_NODE),
            copies=[CopyKind.progress],
            events=False,
        ),
        replica_subscription(runtime),
        staff_subscription(county, runtime.spec.schema, context.staff),
        schedule_subscription(runtime),
        # What township systems push through the door (daiban_contracts.ingress), about this
        # node's subtree; the HTTP door records its events under this consumer's name too.
        Subscription(
            name=INGRESS,
            handlers=dict(on(event, ingress) for event in INGRESS_EVENTS),
            ingress=True,
            events=False,
        ),
    ]
