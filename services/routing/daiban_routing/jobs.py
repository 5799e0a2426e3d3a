"""Routing's periodic work: the supervision sweep, announcing the flags raised and cleared."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from daiban_common.runtime import ServiceRuntime
from daiban_common.service import Job
from daiban_routing.context import RoutingContext
from daiban_routing.handlers.supervision import sweep

log = logging.getLogger(__name__)


def jobs(runtime: ServiceRuntime) -> Sequence[Job]:
    context = cast(RoutingContext, runtime.context)
    interval = context.settings.sweep_interval_seconds
    if interval <= 0:  # DAIBAN_ROUTING_SWEEP_INTERVAL_SECONDS=0 switches the sweep off
        return []

    async def run_sweep() -> None:
        result = await sweep(runtime.uow(), context.policy, datetime.now(UTC))
        if result.raised or result.cleared:
            log.info("supervision sweep: %d raised, %d cleared", result.raised, result.cleared)

    return [Job(name="supervision-sweep", every=interval, run=run_sweep)]
