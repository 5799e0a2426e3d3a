"""Reads of the work side: task queues, a case's route, the first responder's notifications."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, ensure_within, subtree_clause
from daiban_common.errors import InvalidInput, NotFound
from daiban_common.pagination import Page, PageParams, after_clause, paginate
from daiban_contracts.case import MaterialIssue
from daiban_contracts.catalogue import SpecialProcedure
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_routing.models import Hop, Task, TimelineEntry
from daiban_routing.presenters import status_label, task_out
from daiban_routing.queries.cases import (
    can_see_case,
    load_case,
    pauses_of,
    staff_ref_of,
    summary_of,
    tasks_of,
)
from daiban_routing.schemas.work import (
    DecisionOut,
    HopOut,
    NotificationOut,
    PauseOut,
    RouteOut,
    TaskOut,
    TimelineOut,
)


def parse_org_filter(principal: Principal, org: str | None) -> OrgCode:
    """The org a list is asked for (default: the caller's own); 422 if invalid, 404 if outside."""
    if org is None:
        return principal.org_code
    try:
        code = OrgCode.parse(org)
    except InvalidOrgCode as exc:
        raise InvalidInput.field("org", str(exc)) from None
    ensure_within(principal, code)
    return code


async def list_tasks(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    org: str | None,
    window: str | None,
    staff: str | None,
    status: str | None,
) -> Page[TaskOut]:
    scope = parse_org_filter(principal, org)
    stmt = select(Task).where(
        subtree_clause(col(Task.org), principal.org), subtree_clause(col(Task.org), scope)
    )
    if window is not None:
        stmt = stmt.where(Task.window_number == window)
    if staff is not None:
        stmt = stmt.where(Task.staff_id == staff)
    if status is not None:
        stmt = stmt.where(Task.status == status)
    order = [col(Task.priority), col(Task.created_at), col(Task.id)]
    after = page.key(int, datetime, str)
    if after is not None:
        stmt = stmt.where(after_clause(order, after))
    rows = list(await session.exec(stmt.order_by(*order).limit(page.limit + 1)))
    items, cursor = paginate(rows, page, key=lambda t: (t.priority, t.created_at, t.id))
    return Page(items=[task_out(t) for t in items], next_cursor=cursor)


_PAUSE_LABELS = {"supplement": "补正"} | {p.value: p.label for p in SpecialProcedure}


async def route_of(session: AsyncSession, principal: Principal, number: str) -> RouteOut:
    # Several queries make one view: read them from one snapshot, or a hop committed between two
    # of them would show a task without the hop that brought it.
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return await route_after_change(session, principal, number)


async def route_after_change(session: AsyncSession, principal: Principal, number: str) -> RouteOut:
    """The route as a write sees it, in its own transaction (holding the case's row lock): what a
    creating POST answers, and stores for its Idempotency-Key replay."""
    case = await load_case(session, number)
    if case is None or not can_see_case(principal, case):
        raise NotFound("办件不存在")
    summary = summary_of(case)
    hops = await session.exec(
        select(Hop).where(Hop.case_number == number).order_by(col(Hop.sent_at), col(Hop.hop))
    )
    tasks = await tasks_of(session, number)
    pauses = await pauses_of(session, number)
    timeline = await session.exec(
        select(TimelineEntry).where(TimelineEntry.case_number == number).order_by(col(TimelineEntry.id))
    )
    return RouteOut(
        case_number=number,
        item_name=summary.item.name,
        kind=summary.item.kind.value,
        handling_level=summary.item.handling_level.value,
        accepting_org=case.accepting_org,
        holding_org=case.current_org,
        deciding_org=case.deciding_org,
        status=case.status,
        status_label=status_label(case.status),
        green_channel=case.green_channel,
        home_visit=case.home_visit,
        first_responder=summary.first_responder,
        accepted_at=case.accepted_at,
        due_date=case.due_date,
        due_date_provisional=case.due_provisional,
        limit_working_days=case.limit_working_days,
        extension_working_days=case.extension_working_days,
        extension_reason=case.extension_reason,
        outcome=case.outcome,
        result=case.result,
        reasons=case.reasons,
        legal_basis=case.legal_basis,
        escalated_authority=case.escalated_authority,
        follow_up_date=case.follow_up_date,
        hops=[
            HopOut(
                direction=h.direction,
                hop=h.hop,
                from_org=h.from_org,
                to_org=h.to_org,
                sent_at=h.sent_at,
                received_at=h.received_at,
            )
            for h in hops
        ],
        tasks=[task_out(t) for t in tasks],
        pauses=[
            PauseOut(
                id=p.id,
                kind=p.kind,
                kind_label=_PAUSE_LABELS.get(p.kind, p.kind),
                reason=p.reason,
                expected_working_days=p.expected_working_days,
                issues=[MaterialIssue.model_validate(i) for i in p.issues],
                started_at=p.started_at,
                ended_at=p.ended_at,
            )
            for p in pauses
        ],
        decisions=[
            DecisionOut(
                task_id=t.id,
                department=t.department,
                department_name=t.department_name,
                outcome=t.outcome,
                result=t.result,
                reasons=t.reasons,
                legal_basis=t.legal_basis,
                decided_at=t.decided_at,
                decided_by=staff_ref_of(t.decided_by),
            )
            for t in tasks
            if t.outcome
        ],
        timeline=[TimelineOut(at=e.at, org=e.org, actor=e.actor, kind=e.kind, text=e.text) for e in timeline],
    )


async def notifications(
    session: AsyncSession, principal: Principal, page: PageParams
) -> Page[NotificationOut]:
    """Every change to the cases the caller accepted (首问负责制), newest first."""
    stmt = select(TimelineEntry).where(TimelineEntry.first_responder_id == principal.sub)
    after = page.key(int)
    if after is not None:
        stmt = stmt.where(col(TimelineEntry.id) < after[0])
    rows = list(await session.exec(stmt.order_by(col(TimelineEntry.id).desc()).limit(page.limit + 1)))
    items, cursor = paginate(rows, page, key=lambda e: (e.id,))
    return Page(
        items=[
            NotificationOut(
                id=e.id or 0, case_number=e.case_number, at=e.at, org=e.org, kind=e.kind, text=e.text
            )
            for e in items
        ],
        next_cursor=cursor,
    )
