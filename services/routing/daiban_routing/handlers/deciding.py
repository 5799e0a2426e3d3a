"""Claiming and deciding tasks: approve, refuse, or ask for a supplement (一次性告知)."""

from __future__ import annotations

from datetime import datetime

from daiban_common.auth import Principal
from daiban_common.calendar import to_shanghai_date
from daiban_common.errors import Conflict, InvalidInput
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import Outcome
from daiban_contracts.ids import uuid7
from daiban_contracts.routing import CaseDecided, CasePaused, SupplementRequested
from daiban_routing.domain.decisions import TaskVerdict, combine
from daiban_routing.handlers.access import ensure_window_staff, staff_ref, task_for
from daiban_routing.handlers.cases import note
from daiban_routing.handlers.holding import take_up
from daiban_routing.handlers.moving import send_down
from daiban_routing.models import Case, PauseRecord, Task
from daiban_routing.presenters import status_label
from daiban_routing.queries.cases import CaseStatus, TaskStatus, tasks_of
from daiban_routing.schemas.work import DecideIn, DecisionKind


async def claim(uow: UnitOfWork, principal: Principal, task_id: str, now: datetime) -> Task:
    """Take a task from the window's queue, start on one's own, or take over from an absent holder."""
    async with uow:
        task, case = await task_for(uow.session, principal, task_id)
        await ensure_window_staff(uow.session, principal, task)
        if task.status not in (TaskStatus.queued, TaskStatus.assigned, TaskStatus.in_review):
            raise Conflict(f"该任务当前状态为“{status_label(task.status)}”，不能领取")
        await take_up(uow, principal, task, case, now)
        await uow.commit()
    return task


def _check(body: DecideIn) -> None:
    match body.decision:
        case DecisionKind.approve if not (body.result or "").strip():
            raise InvalidInput.field("result", "准予办理须填写办理结果，例如证照编号")
        case DecisionKind.refuse if not body.reasons or not body.legal_basis:
            field = "reasons" if not body.reasons else "legal_basis"
            raise InvalidInput.field(field, "不予办理须写明理由及法律依据")
        case DecisionKind.supplement if not body.issues:
            raise InvalidInput.field("issues", "要求补正须一次性列明所有缺少或有误的材料")


async def decide(uow: UnitOfWork, principal: Principal, task_id: str, body: DecideIn, now: datetime) -> Task:
    _check(body)
    async with uow:
        task, case = await task_for(uow.session, principal, task_id)
        await ensure_window_staff(uow.session, principal, task)
        if task.status == TaskStatus.decided:
            raise Conflict("该任务已作出决定，不能重复决定")
        if case.status == CaseStatus.paused:
            raise Conflict("办件处于暂停计时状态，请先恢复计时（或等待补正）再作决定")
        # Only the holder decides: deciding an unclaimed task claims it first.
        await take_up(uow, principal, task, case, now)
        if body.decision is DecisionKind.supplement:
            _request_supplement(uow, principal, task, case, body, now)
        else:
            await _record_decision(uow, principal, task, case, body, now)
        await uow.commit()
    return task


def _request_supplement(
    uow: UnitOfWork, principal: Principal, task: Task, case: Case, body: DecideIn, now: datetime
) -> None:
    if case.supplement_requested:
        raise Conflict("补正只能一次性告知：本办件已要求过一次补正")
    issues = [issue.model_dump(mode="json") for issue in body.issues]
    uow.session.add(
        PauseRecord(
            id=str(uuid7()),
            case_number=case.case_number,
            task_id=task.id,
            kind="supplement",
            reason="等待申请人补正材料",
            issues=issues,
            started_at=now,
            started_by=principal.sub,
        )
    )
    task.status = TaskStatus.paused
    case.status = CaseStatus.paused
    case.supplement_requested = True
    uow.session.add_all([task, case])
    uow.emit(
        SupplementRequested(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            org=task.org,
            issues=tuple(body.issues),
            requested_by=staff_ref(principal),
            requested_at=now,
        ),
        subject=case.case_number,
        org=case.accepting_org,
        actor=principal.sub,
    )
    uow.emit(
        CasePaused(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            org=task.org,
            procedure=None,
            reason="等待申请人补正材料",
            expected_working_days=0,
            paused_at=now,
        ),
        subject=case.case_number,
        org=task.org,
        actor=principal.sub,
    )
    names = "、".join(issue.material_name for issue in body.issues)
    note(
        uow,
        case,
        at=now,
        org=task.org,
        actor=principal.sub,
        kind="supplement_requested",
        text=f"{task.department_name}要求补正（一次性告知）：{names}；计时暂停",
    )


async def _record_decision(
    uow: UnitOfWork, principal: Principal, task: Task, case: Case, body: DecideIn, now: datetime
) -> None:
    approved = body.decision is DecisionKind.approve
    task.status = TaskStatus.decided
    task.outcome = (Outcome.approved if approved else Outcome.refused).value
    task.result = body.result if approved else None
    task.reasons = [] if approved else list(body.reasons)
    task.legal_basis = [] if approved else list(body.legal_basis)
    task.decided_at = now
    task.decided_by = staff_ref(principal).model_dump(mode="json")
    uow.session.add(task)
    text = f"准予办理：{task.result}" if approved else "不予办理：" + "；".join(task.reasons)
    note(
        uow,
        case,
        at=now,
        org=task.org,
        actor=principal.sub,
        kind="task_decided",
        text=f"{task.department_name}{text}",
    )
    tasks = await tasks_of(uow.session, case.case_number)
    verdict = combine(
        [
            TaskVerdict(
                department=t.department,
                department_name=t.department_name,
                lead=t.lead,
                outcome=Outcome(t.outcome) if t.outcome else None,
                result=t.result,
                reasons=tuple(t.reasons),
                legal_basis=tuple(t.legal_basis),
            )
            for t in tasks
        ]
    )
    if verdict is None:
        if case.status == CaseStatus.assigned:
            case.status = CaseStatus.in_review
        uow.session.add(case)
        return
    case.status = CaseStatus.decided
    case.outcome = verdict.outcome.value
    case.result = verdict.result
    case.reasons = list(verdict.reasons)
    case.legal_basis = list(verdict.legal_basis)
    case.decided_at = now
    case.decided_by = task.decided_by
    uow.session.add(case)
    uow.emit(
        CaseDecided(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            org=task.org,
            outcome=verdict.outcome,
            result=verdict.result,
            reasons=verdict.reasons,
            legal_basis=verdict.legal_basis,
            decided_by=staff_ref(principal),
            decided_at=now,
            due_date=case.due_date,
            on_time=to_shanghai_date(now) <= case.due_date,
        ),
        subject=case.case_number,
        org=task.org,
        actor=principal.sub,
    )
    label = verdict.outcome.label
    note(
        uow,
        case,
        at=now,
        org=task.org,
        actor=principal.sub,
        kind="decided",
        text=f"办件已办结：{label}",
    )
    await send_down(uow, case, now)
