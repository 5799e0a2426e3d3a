"""Keeping a case's record as it changes: its timeline (the first responder's notifications) and
its deadlines after the clock moves."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.calendar import WorkCalendar, default_calendar, to_shanghai_date
from daiban_common.uow import Prepared, UnitOfWork
from daiban_routing.models import Case, TimelineEntry
from daiban_routing.queries.cases import TaskStatus, clock_of, pauses_of, tasks_of

# A line of the timeline: written, never read back while the case changes (deferred, uow.defer).
TIMELINE_LINE: Final = Prepared.insert(
    TimelineEntry.__table__,  # type: ignore[attr-defined]
    ("case_number", "first_responder_id", "at", "org", "actor", "kind", "text"),
)


def note(uow: UnitOfWork, case: Case, *, at: datetime, org: str, actor: str, kind: str, text: str) -> None:
    """Add a line to the case's timeline; the first responder reads it as a notification (首问负责)."""
    case.last_activity_at = max(case.last_activity_at, at)
    uow.defer(
        TIMELINE_LINE,
        {
            "case_number": case.case_number,
            "first_responder_id": case.first_responder_id,
            "at": at,
            "org": org,
            "actor": actor,
            "kind": kind,
            "text": text,
        },
    )


async def refresh_due(
    session: AsyncSession, case: Case, now: datetime, calendar: WorkCalendar | None = None
) -> None:
    """Recompute the case's deadline and its tasks' sub-deadlines after a pause or extension, or
    on `calendar` once a year's official schedule is loaded into it."""
    calendar = calendar or default_calendar()
    clock = clock_of(case, await pauses_of(session, case.case_number))
    today = to_shanghai_date(now)
    due = clock.due(today, calendar)
    case.due_date, case.due_provisional = due.date, due.provisional
    for task in await tasks_of(session, case.case_number):
        if task.status != TaskStatus.decided:
            task.due_date = clock.due(today, calendar, limit=task.limit_working_days).date
            session.add(task)
    session.add(case)
