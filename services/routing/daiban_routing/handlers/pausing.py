"""The clock: special procedures pause it, resume and supplements restart it, one extension moves it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from daiban_common.auth import Principal
from daiban_common.consumer import PermanentFailure
from daiban_common.errors import Conflict, InvalidInput, NotFound
from daiban_common.idempotency import AnswerOf, Once, Replayed, replayed
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import CaseSupplemented
from daiban_contracts.envelope import Envelope
from daiban_contracts.ids import uuid7
from daiban_contracts.routing import CaseExtended, CasePaused, CaseResumed
from daiban_routing.domain.supervision import SUPPLEMENT
from daiban_routing.handlers.access import ensure_window_staff, known_staff, staff_ref, task_for
from daiban_routing.handlers.answers import settled_route
from daiban_routing.handlers.cases import note, refresh_due
from daiban_routing.handlers.holding import take_up
from daiban_routing.models import Case, PauseRecord, Task
from daiban_routing.queries.cases import CaseStatus, TaskStatus, can_see_case, load_case, summary_of
from daiban_routing.schemas.work import ExtensionIn, PauseIn, RouteOut


async def _open_pause(uow: UnitOfWork, number: str) -> PauseRecord | None:
    stmt = select(PauseRecord).where(PauseRecord.case_number == number, col(PauseRecord.ended_at).is_(None))
    return (await uow.session.exec(stmt)).first()


async def pause(uow: UnitOfWork, principal: Principal, task_id: str, body: PauseIn, now: datetime) -> Case:
    async with uow:
        task, case = await task_for(uow.session, principal, task_id)
        await ensure_window_staff(uow.session, principal, task)
        if task.status == TaskStatus.decided or case.status not in CaseStatus.OPEN:
            raise Conflict("该任务已作出决定，不能再启动特别程序")
        if case.status == CaseStatus.paused:
            raise Conflict("办件已在暂停计时中，请先恢复计时")
        allowed = summary_of(case).item.special_procedures
        if body.procedure not in allowed:
            names = "、".join(p.label for p in allowed) or "无"
            raise InvalidInput.field(
                "procedure", f"本事项不适用“{body.procedure.label}”，可用的特别程序：{names}"
            )
        # Starting a procedure is the holder's work, like a decision.
        await take_up(uow, principal, task, case, now)
        uow.session.add(
            PauseRecord(
                id=str(uuid7()),
                case_number=case.case_number,
                task_id=task.id,
                kind=body.procedure.value,
                reason=body.reason,
                expected_working_days=body.expected_working_days,
                started_at=now,
                started_by=principal.sub,
            )
        )
        task.status = TaskStatus.paused
        case.status = CaseStatus.paused
        uow.session.add_all([task, case])
        uow.emit(
            CasePaused(
                case_number=case.case_number,
                accepting_org=case.accepting_org,
                org=task.org,
                procedure=body.procedure,
                reason=body.reason,
                expected_working_days=body.expected_working_days,
                paused_at=now,
            ),
            subject=case.case_number,
            org=task.org,
            actor=principal.sub,
        )
        note(
            uow,
            case,
            at=now,
            org=task.org,
            actor=principal.sub,
            kind="paused",
            text=f"启动{body.procedure.label}（预计{body.expected_working_days}个工作日）：{body.reason}；计时暂停",
        )
        await uow.commit()
    return case


async def _restart(
    uow: UnitOfWork, case: Case, record: PauseRecord, at: datetime, actor: str, org: str
) -> None:
    record.ended_at, record.ended_by = at, actor
    uow.session.add(record)
    await uow.session.flush()
    case.status = CaseStatus.in_review
    paused_tasks = await uow.session.exec(
        select(Task).where(Task.case_number == case.case_number, Task.status == TaskStatus.paused)
    )
    for task in paused_tasks:
        task.status = TaskStatus.in_review
        uow.session.add(task)
    await refresh_due(uow.session, case, at)
    uow.emit(
        CaseResumed(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            org=org,
            resumed_at=at,
            due_date=case.due_date,
        ),
        subject=case.case_number,
        org=org,
        actor=actor,
    )
    note(
        uow,
        case,
        at=at,
        org=org,
        actor=actor,
        kind="resumed",
        text=f"恢复计时，办结期限顺延至{case.due_date.isoformat()}",
    )


async def resume(uow: UnitOfWork, principal: Principal, task_id: str, now: datetime) -> Case:
    async with uow:
        task, case = await task_for(uow.session, principal, task_id)
        await ensure_window_staff(uow.session, principal, task)
        record = await _open_pause(uow, case.case_number)
        if record is None:
            raise Conflict("办件未处于暂停计时状态，无需恢复")
        if record.kind == SUPPLEMENT:
            raise Conflict("补正暂停须待申请人补齐材料、由受理点登记后自动恢复")
        await _restart(uow, case, record, now, principal.sub, task.org)
        await uow.commit()
    return case


async def on_case_supplemented(envelope: Envelope, payload: CaseSupplemented, uow: UnitOfWork) -> None:
    """Intake recorded the applicant's supplement: the clock runs again from then."""
    case = await load_case(uow.session, payload.case_number, lock=True)
    if case is None:
        raise PermanentFailure(f"办件{payload.case_number}不存在，无法登记补正")
    record = await _open_pause(uow, case.case_number)
    if record is None or record.kind != SUPPLEMENT:
        raise PermanentFailure(f"办件{payload.case_number}未在等待补正，补正登记无从适用")
    await _restart(
        uow,
        case,
        record,
        payload.supplemented_at,
        payload.recorded_by.staff_id,
        case.deciding_org or case.current_org,
    )


async def extend(
    uow: UnitOfWork,
    principal: Principal,
    number: str,
    body: ExtensionIn,
    now: datetime,
    once: Once,
    answer: AnswerOf[RouteOut],
) -> RouteOut | Replayed:
    """The one extension a case may have, approved by a supervisor, with its reason.

    A retry (same Idempotency-Key) replays the answer, not the 409 of a second extension.
    """
    async with uow:
        if (retry := await replayed(uow, once)) is not None:
            return retry
        await known_staff(uow.session, principal)
        case = await load_case(uow.session, number, lock=True)
        if case is None or not can_see_case(principal, case):
            raise NotFound("办件不存在")
        if case.status not in CaseStatus.OPEN:
            raise Conflict("办件不在办理中，不能延期")
        if case.extension_working_days:
            raise Conflict(f"每个办件只能延期一次，本办件已延期{case.extension_working_days}个工作日")
        case.extension_working_days = body.extra_working_days
        case.extension_reason = body.reason
        await refresh_due(uow.session, case, now)
        org = case.deciding_org or case.current_org
        uow.emit(
            CaseExtended(
                case_number=number,
                accepting_org=case.accepting_org,
                org=org,
                extra_working_days=body.extra_working_days,
                reason=body.reason,
                approved_by=staff_ref(principal),
                due_date=case.due_date,
            ),
            subject=number,
            org=org,
            actor=principal.sub,
        )
        note(
            uow,
            case,
            at=now,
            org=org,
            actor=principal.sub,
            kind="extended",
            text=f"经{principal.name}批准延期{body.extra_working_days}个工作日（{body.reason}），期限至{case.due_date.isoformat()}",
        )
        route = await settled_route(uow, principal, number, once, answer)
        await uow.commit()
    return route
