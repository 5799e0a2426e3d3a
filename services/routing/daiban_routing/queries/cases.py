"""Loading and keeping a case's record: its clock, its timeline, its summary for events."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.calendar import default_calendar, to_shanghai_date
from daiban_common.contracts.case import CaseSummary, StaffRef
from daiban_routing.domain.clock import Clock, Pause
from daiban_routing.models import Case, PauseRecord, Task, TimelineEntry


class CaseStatus:
    """The states of routing's state machine (ARCHITECTURE.md, "The case lifecycle")."""

    forwarded = "forwarded"
    assigned = "assigned"
    in_review = "in_review"
    paused = "paused"
    escalated = "escalated"
    decided = "decided"
    returned_down = "returned_down"
    ready_for_handover = "ready_for_handover"

    OPEN = (assigned, in_review, paused, escalated)


class TaskStatus:
    queued = "queued"
    assigned = "assigned"
    in_review = "in_review"
    paused = "paused"
    decided = "decided"

    OPEN = (queued, assigned, in_review, paused)


async def load_case(session: AsyncSession, number: str, *, lock: bool = False) -> Case | None:
    stmt = select(Case).where(Case.case_number == number)
    if lock:
        # Parallel tasks of a joint case are decided concurrently; one of them must see the other.
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def pauses_of(session: AsyncSession, number: str) -> list[PauseRecord]:
    stmt = select(PauseRecord).where(PauseRecord.case_number == number).order_by(col(PauseRecord.started_at))
    return list(await session.exec(stmt))


async def tasks_of(session: AsyncSession, number: str) -> list[Task]:
    stmt = (
        select(Task).where(Task.case_number == number).order_by(col(Task.lead).desc(), col(Task.created_at))
    )
    return list(await session.exec(stmt))


def to_pause(record: PauseRecord) -> Pause:
    return Pause(
        start=to_shanghai_date(record.started_at),
        end=to_shanghai_date(record.ended_at) if record.ended_at else None,
        kind=record.kind,
        expected_working_days=record.expected_working_days,
    )


def clock_of(case: Case, pauses: list[PauseRecord]) -> Clock:
    return Clock(
        start=case.start_date,
        limit_working_days=case.limit_working_days,
        extension_working_days=case.extension_working_days,
        pauses=tuple(to_pause(p) for p in pauses),
    )


async def refresh_due(session: AsyncSession, case: Case, now: datetime) -> None:
    """Recompute the case's deadline and its tasks' sub-deadlines after a pause or extension."""
    calendar = default_calendar()
    clock = clock_of(case, await pauses_of(session, case.case_number))
    today = to_shanghai_date(now)
    due = clock.due(today, calendar)
    case.due_date, case.due_provisional = due.date, due.provisional
    for task in await tasks_of(session, case.case_number):
        if task.status != TaskStatus.decided:
            task.due_date = clock.due(today, calendar, limit=task.limit_working_days).date
            session.add(task)
    session.add(case)


def summary_of(case: Case) -> CaseSummary:
    return CaseSummary.model_validate(case.summary)


def note(
    session: AsyncSession, case: Case, *, at: datetime, org: str, actor: str, kind: str, text: str
) -> None:
    """Add a line to the case's timeline; the first responder reads it as a notification (首问负责)."""
    case.last_activity_at = max(case.last_activity_at, at)
    session.add(case)
    session.add(
        TimelineEntry(
            case_number=case.case_number,
            first_responder_id=case.first_responder_id,
            at=at,
            org=org,
            actor=actor,
            kind=kind,
            text=text,
        )
    )


def staff_ref_of(data: dict[str, object] | None) -> StaffRef | None:
    return StaffRef.model_validate(data) if data else None
