"""Routing's periodic work: the supervision sweep, announcing the flags raised and cleared; the
loaded official schedules, into the process calendar at start and again now and then."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from daiban_common.runtime import ServiceRuntime
from daiban_common.service import Job
from daiban_routing.context import RoutingContext
from daiban_routing.handlers.calendar import load_published_years
from daiban_routing.handlers.supervision import sweep

log = logging.getLogger(__name__)
# Another routing process of the node may load a year; this one counts with it within a minute.
CALENDAR_RELOAD_SECONDS = 60.0


def jobs(runtime: ServiceRuntime) -> Sequence[Job]:
    context = cast(RoutingContext, runtime.context)

    async def load_calendar() -> None:
        async with runtime.uow() as uow:
            await load_published_years(uow.session)

    calendar = Job(name="calendar-years", every=CALENDAR_RELOAD_SECONDS, run=load_calendar, at_start=True)
    interval = context.settings.sweep_interval_seconds
    if interval <= 0:  # DAIBAN_ROUTING_SWEEP_INTERVAL_SECONDS=0 switches the sweep off
        return [calendar]

    async def run_sweep() -> None:
        result = await sweep(runtime.uow(), context.policy, datetime.now(UTC))
        if result.raised or result.cleared:
            log.info("supervision sweep: %d raised, %d cleared", result.raised, result.cleared)

    return [calendar, Job(name="supervision-sweep", every=interval, run=run_sweep)]
