"""Who holds a task (AB岗): only its holder acts on it; the other post takes it over while the
holder is away, and a supervisor may give it to someone else. Each change of holder is an event."""

from __future__ import annotations

from datetime import datetime

from daiban_common.auth import Principal
from daiban_common.errors import Conflict, InvalidInput
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import StaffRef
from daiban_contracts.routing import TakeoverReason, TaskClaimed, TaskTakenOver
from daiban_routing.domain.assignment import Holding, Post, holding, post_of
from daiban_routing.handlers.access import known_staff, staff_ref, task_for
from daiban_routing.handlers.cases import note
from daiban_routing.models import Case, Staff, Task, Window
from daiban_routing.queries.cases import CaseStatus, TaskStatus
from daiban_routing.queries.lookup import duty_of
from daiban_routing.schemas.work import ReassignIn


async def take_up(uow: UnitOfWork, principal: Principal, task: Task, case: Case, now: datetime) -> None:
    """The caller holds `task` from now on, or a 409 while another holder is at work.

    A task nobody has started is claimed (announced: the case is in review); one held by someone
    away (on leave, off duty) is taken over (announced too, with who held it).
    """
    holder = await uow.session.get(Staff, task.staff_id) if task.staff_id else None
    match holding(task.staff_id, principal.sub, holder_at_work=duty_of(holder).at(now)):
        case Holding.held:
            name = holder.name if holder is not None else task.staff_id
            raise Conflict(
                f"该任务由在岗的{name}承办，只有承办人可以办理；承办人请假或不在岗时，B岗方可接办",
                title="Another person on duty holds the task",
            )
        case Holding.take_over:
            await _change_holder(
                uow, task, case, principal, staff_ref(principal), TakeoverReason.holder_absent, now
            )
        case Holding.free | Holding.own:
            task.staff_id = principal.sub
    if task.claimed_at is None:
        _claimed(uow, principal, task, case, now)


def _claimed(uow: UnitOfWork, principal: Principal, task: Task, case: Case, now: datetime) -> None:
    task.claimed_at = now
    task.status = TaskStatus.in_review
    if case.status == CaseStatus.assigned:
        case.status = CaseStatus.in_review
    uow.session.add_all([task, case])
    _announce(
        uow,
        case,
        TaskClaimed(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            org=task.org,
            task_id=task.id,
            department=task.department,
            window=task.window_number,
            claimed_by=staff_ref(principal),
            claimed_at=now,
        ),
        by=principal.sub,
        at=now,
        kind="claimed",
        text=f"{principal.name}开始办理（{task.department_name}）",
    )


async def _change_holder(
    uow: UnitOfWork,
    task: Task,
    case: Case,
    by: Principal,
    to: StaffRef,
    reason: TakeoverReason,
    now: datetime,
) -> None:
    before = task.staff_id
    window = await uow.session.get(Window, task.window_id) if task.window_id else None
    task.staff_id = to.staff_id
    if window is not None:
        task.post = post_of(to.staff_id, window.a_post, window.b_post, Post(task.post)).value
    if task.status == TaskStatus.queued:
        task.status = TaskStatus.assigned
    uow.session.add(task)
    _announce(
        uow,
        case,
        TaskTakenOver(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            org=task.org,
            task_id=task.id,
            department=task.department,
            window=task.window_number,
            from_staff_id=before,
            to_staff=to,
            reason=reason,
            taken_over_at=now,
        ),
        by=by.sub,
        at=now,
        kind="taken_over",
        text=f"{task.department_name}改由{to.name}承办：{reason.label}",
    )


def _announce(
    uow: UnitOfWork,
    case: Case,
    event: TaskClaimed | TaskTakenOver,
    *,
    by: str,
    at: datetime,
    kind: str,
    text: str,
) -> None:
    """The event, at the deciding org unit, and its line on the case's timeline."""
    uow.emit(event, subject=case.case_number, org=event.org, actor=by)
    note(uow, case, at=at, org=event.org, actor=by, kind=kind, text=text)


async def reassign(
    uow: UnitOfWork, principal: Principal, task_id: str, body: ReassignIn, now: datetime
) -> Task:
    """A supervisor gives an open task to another person of its window (who must be at work)."""
    async with uow:
        await known_staff(uow.session, principal)
        task, case = await task_for(uow.session, principal, task_id)
        if task.status == TaskStatus.decided or case.status not in CaseStatus.OPEN:
            raise Conflict("该任务已作出决定，不能改派")
        window = await uow.session.get(Window, task.window_id) if task.window_id else None
        if window is None:
            raise Conflict("该任务尚无办理窗口，请先在目录中为该部门设置窗口")
        target = await uow.session.get(Staff, body.staff_id)
        if (
            target is None
            or target.org != window.org
            or not (target.id in (window.a_post, window.b_post) or window.number in target.windows)
        ):
            raise InvalidInput.field("staff_id", f"该工作人员不是{window.number}号窗口的工作人员")
        if target.id == task.staff_id:
            raise Conflict(f"该任务已由{target.name}承办，无需改派")
        if not duty_of(target).at(now):
            raise InvalidInput.field("staff_id", f"{target.name}当前不在岗，不能改派给其承办")
        to = StaffRef(staff_id=target.id, name=target.name, org=target.org)
        await _change_holder(uow, task, case, principal, to, TakeoverReason.reassigned, now)
        await uow.commit()
    return task
