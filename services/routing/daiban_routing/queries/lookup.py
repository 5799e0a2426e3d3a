"""Reading the directory for routing decisions (no HTTP, no scoping: callers scope)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_routing.domain.assignment import Duty, WindowCandidate
from daiban_routing.models import Department, OrgUnit, Staff, Task, Window

OPEN_TASK_STATUSES = ("queued", "assigned", "in_review", "paused")


async def org_unit(session: AsyncSession, code: str) -> OrgUnit | None:
    return await session.get(OrgUnit, code)


async def department_at(session: AsyncSession, org: str, code: str) -> Department | None:
    stmt = select(Department).where(Department.org == org, Department.code == code)
    return (await session.exec(stmt)).first()


async def window_at(session: AsyncSession, org: str, number: str) -> Window | None:
    stmt = select(Window).where(Window.org == org, Window.number == number)
    return (await session.exec(stmt)).first()


async def staff_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Staff]:
    if not ids:
        return {}
    rows = await session.exec(select(Staff).where(col(Staff.id).in_(list(ids))))
    return {s.id: s for s in rows}


def duty_of(staff: Staff | None) -> Duty:
    if staff is None:
        return Duty(on_duty=False)
    return Duty(staff.on_duty, staff.absent_from, staff.absent_until)


async def candidates(
    session: AsyncSession, org: str, department: str, now: datetime
) -> list[WindowCandidate]:
    """The windows of `org` serving `department`, with who is on duty and how busy each is."""
    windows = list(
        await session.exec(
            select(Window)
            .where(Window.org == org, col(Window.departments).contains([department]))
            .order_by(col(Window.number))
        )
    )
    if not windows:
        return []
    people = await staff_by_ids(session, [p for w in windows for p in (w.a_post, w.b_post) if p])
    load_rows = await session.exec(
        select(Task.window_id, func.count())
        .where(col(Task.window_id).in_([w.id for w in windows]), col(Task.status).in_(OPEN_TASK_STATUSES))
        .group_by(col(Task.window_id))
    )
    load = {window_id: int(n) for window_id, n in load_rows}
    return [
        WindowCandidate(
            window_id=w.id,
            number=w.number,
            a_post=w.a_post,
            b_post=w.b_post,
            a_on_duty=duty_of(people.get(w.a_post or "")).at(now),
            b_on_duty=duty_of(people.get(w.b_post or "")).at(now),
            open_tasks=load.get(w.id, 0),
        )
        for w in windows
    ]
