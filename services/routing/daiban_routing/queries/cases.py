"""Reading a case's record: its states, its clock, its tasks and pauses, its summary for events,
who may see it."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, can_see
from daiban_common.calendar import to_shanghai_date
from daiban_contracts.case import CaseSummary, StaffRef
from daiban_routing.domain.clock import Clock, Pause
from daiban_routing.models import Case, PauseRecord, Task


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


def summary_of(case: Case) -> CaseSummary:
    return CaseSummary.model_validate(case.summary)


def staff_ref_of(data: dict[str, object] | None) -> StaffRef | None:
    return StaffRef.model_validate(data) if data else None


def can_see_case(principal: Principal, case: Case) -> bool:
    """A case is visible where it was accepted, where it is and where it was decided."""
    orgs = (case.accepting_org, case.current_org, case.deciding_org)
    return any(org is not None and can_see(principal, org) for org in orgs)
