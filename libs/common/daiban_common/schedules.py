"""Every service counting working days applies the official schedules routing announces.

Routing stores them (`routing.calendar_years`) and loads them itself; the other services take
them from `daiban.calendar.year_published.v1` into their process calendar.
"""

from __future__ import annotations

from daiban_common.calendar import default_calendar
from daiban_common.consumer import Subscription, on
from daiban_common.runtime import ServiceRuntime
from daiban_common.uow import UnitOfWork
from daiban_contracts.calendar import CalendarYearPublished
from daiban_contracts.envelope import Envelope


async def apply_published_year(envelope: Envelope, payload: CalendarYearPublished, uow: UnitOfWork) -> None:
    # Loading replaces the year whole, so a redelivered event changes nothing.
    default_calendar().load_year(payload.year, payload.holidays, payload.workdays)


def schedule_subscription(runtime: ServiceRuntime) -> Subscription:
    return Subscription(
        name="calendar",
        handlers=dict([on(CalendarYearPublished, apply_published_year)]),
        within=runtime.node_org.county.value,
    )
