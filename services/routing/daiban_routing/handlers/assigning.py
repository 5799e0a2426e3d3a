"""A case arrives at the org unit that decides it: one task per department, each at a window."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from daiban_common.calendar import default_calendar, to_shanghai_date
from daiban_common.uow import Prepared, UnitOfWork
from daiban_contracts.case import CaseSummary
from daiban_contracts.catalogue import ItemKind
from daiban_contracts.ids import uuid7
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.routing import CaseAssigned, CaseEscalated, SupervisorAlerted
from daiban_routing.domain.assignment import Assignment, Post, choose
from daiban_routing.domain.decisions import task_limits
from daiban_routing.handlers import SYSTEM_ACTOR
from daiban_routing.handlers.cases import note
from daiban_routing.models import Case, Task
from daiban_routing.queries import lookup
from daiban_routing.queries.cases import CaseStatus, TaskStatus, clock_of, summary_of

_TASKS = Task.__table__  # type: ignore[attr-defined]
# What a new task holds besides what assign_at gives it: the model's defaults, as the ORM wrote them.
_OPEN_TASK: Final[dict[str, Any]] = {
    "claimed_at": None,
    "decided_at": None,
    "decided_by": None,
    "outcome": None,
    "result": None,
    "reasons": [],
    "legal_basis": [],
}
# A task as assignment creates it: nothing reads it back before the unit's next flush.
NEW_TASK: Final = Prepared.insert(_TASKS, [c.name for c in _TASKS.columns])


async def assign_at(
    uow: UnitOfWork,
    case: Case,
    org: OrgCode,
    now: datetime,
    *,
    escalate: bool = False,
    summary: CaseSummary | None = None,
) -> None:
    """Create the case's tasks at `org` and give each to a window's A post, B post or queue
    (`summary`: the case's, when the caller has it validated already). The caller writes `case`:
    its session, or case_rows for one read on the driver."""
    session = uow.session
    summary = summary or summary_of(case)
    item = summary.item
    case.deciding_org = org.value
    case.current_org = org.value
    case.status = CaseStatus.escalated if escalate else CaseStatus.assigned
    departments = [item.lead_department]
    if item.kind is ItemKind.joint:
        departments += [d for d in item.other_departments if d not in departments]
    calendar = default_calendar()
    clock = clock_of(case, [])
    today = to_shanghai_date(now)
    directory = await lookup.DIRECTORY.current(session)
    # How busy the windows are, once for all the case's departments; a task given below counts
    # for the next department at the same window.
    load = await lookup.open_tasks(
        session, {w.id for code in departments for w in directory.windows_of(org.value, code)}
    )
    for index, (code, limit) in enumerate(
        zip(departments, task_limits(case.limit_working_days, len(departments)), strict=True)
    ):
        known_name = directory.departments.get((org.value, code))
        assignment = (
            choose(lookup.candidates(directory, org.value, code, load, now))
            if known_name is not None
            else Assignment(None, None, None, Post.queue)
        )
        if assignment.window_id is not None:
            load[assignment.window_id] = load.get(assignment.window_id, 0) + 1
        task_id = str(uuid7())
        department_name = known_name if known_name is not None else code
        due_date = clock.due(today, calendar, limit=limit).date
        task = {
            **_OPEN_TASK,
            "id": task_id,
            "case_number": case.case_number,
            "org": org.value,
            "department": code,
            "department_name": department_name,
            "lead": index == 0,
            "kind": "external" if escalate else "review",
            "window_id": assignment.window_id,
            "window_number": assignment.window_number,
            "staff_id": assignment.staff_id,
            "post": assignment.post.value,
            "status": TaskStatus.queued if assignment.post is Post.queue else TaskStatus.assigned,
            "priority": 0 if case.green_channel else 1,
            "limit_working_days": limit,
            "due_date": due_date,
            "created_at": now,
        }
        uow.defer(NEW_TASK, task)
        uow.emit(
            CaseAssigned(
                case_number=case.case_number,
                accepting_org=case.accepting_org,
                org=org.value,
                task_id=task_id,
                department=code,
                window=assignment.window_number,
                staff_id=assignment.staff_id,
                post=assignment.post.value,
                due_date=due_date,
                assigned_at=now,
            ),
            subject=case.case_number,
            org=org.value,
            actor=SYSTEM_ACTOR,
        )
        where = f"{assignment.window_number}号窗口" if assignment.window_number else "待分配队列"
        who = f"（{assignment.post.label}）" if assignment.post is not Post.queue else ""
        note(
            uow,
            case,
            at=now,
            org=org.value,
            actor=SYSTEM_ACTOR,
            kind="assigned",
            text=f"已分派至{department_name}{where}{who}，办理期限{due_date.isoformat()}",
        )
        if assignment.post is Post.queue:
            reason = (
                f"{org.value}未设置{code}部门或其窗口"
                if assignment.window_id is None
                else f"{assignment.window_number}号窗口A岗、B岗均不在岗，办件在窗口队列等待"
            )
            uow.emit(
                SupervisorAlerted(
                    case_number=case.case_number,
                    accepting_org=case.accepting_org,
                    org=org.value,
                    task_id=task_id,
                    department=code,
                    window=assignment.window_number,
                    reason=reason,
                    raised_at=now,
                ),
                subject=case.case_number,
                org=org.value,
                actor=SYSTEM_ACTOR,
            )
            note(
                uow,
                case,
                at=now,
                org=org.value,
                actor=SYSTEM_ACTOR,
                kind="alert",
                text=f"已提醒监察人员：{reason}",
            )
    if escalate:
        follow_up = calendar.add_working_days(today, max(1, case.limit_working_days)).date
        case.escalated_authority = f"{item.name}的县级以上审批机关"
        case.follow_up_date = follow_up
        uow.emit(
            CaseEscalated(
                case_number=case.case_number,
                accepting_org=case.accepting_org,
                org=org.value,
                authority=case.escalated_authority,
                follow_up_date=follow_up,
                escalated_at=now,
            ),
            subject=case.case_number,
            org=org.value,
            actor=SYSTEM_ACTOR,
        )
        note(
            uow,
            case,
            at=now,
            org=org.value,
            actor=SYSTEM_ACTOR,
            kind="escalated",
            text=f"上报件：由中心全程代办，向上级机关报送，{follow_up.isoformat()}跟进",
        )
