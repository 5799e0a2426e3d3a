"""Loading open cases with what supervision needs to evaluate them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.calendar import to_shanghai_date
from daiban_routing.domain.supervision import CaseWatch
from daiban_routing.models import Case, PauseRecord, Task
from daiban_routing.queries.cases import CaseStatus, TaskStatus, clock_of


async def open_cases(
    session: AsyncSession, where: Sequence[Any], *, after: str | None = None, batch: int = 500
) -> list[tuple[Case, CaseWatch]]:
    """One batch of open cases (by case number) with their clocks; pauses and tasks in two queries."""
    stmt = select(Case).where(col(Case.status).in_(CaseStatus.OPEN), *where)
    if after is not None:
        stmt = stmt.where(col(Case.case_number) > after)
    cases = list(await session.exec(stmt.order_by(col(Case.case_number)).limit(batch)))
    if not cases:
        return []
    numbers = [c.case_number for c in cases]
    pauses: dict[str, list[PauseRecord]] = defaultdict(list)
    for record in await session.exec(
        select(PauseRecord)
        .where(col(PauseRecord.case_number).in_(numbers))
        .order_by(col(PauseRecord.started_at))
    ):
        pauses[record.case_number].append(record)
    waiting = set(
        await session.exec(
            select(Task.case_number).where(
                col(Task.case_number).in_(numbers),
                col(Task.status).in_((TaskStatus.queued, TaskStatus.assigned)),
            )
        )
    )
    return [
        (
            case,
            CaseWatch(
                clock=clock_of(case, pauses[case.case_number]),
                last_activity=to_shanghai_date(case.last_activity_at),
                waiting=case.case_number in waiting,
            ),
        )
        for case in cases
    ]
