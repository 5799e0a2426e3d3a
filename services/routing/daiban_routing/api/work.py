"""HTTP routes of the work side: they translate requests into commands and nothing more."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from daiban_common import clock
from daiban_common.auth import CurrentPrincipal, Principal, Role, require_roles
from daiban_common.deps import UowDep
from daiban_common.idempotency import IdempotencyKey, once
from daiban_common.pagination import Page, PageParamsDep
from daiban_common.query_params import only_params
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_contracts.text import StoredText
from daiban_routing import presenters
from daiban_routing.api import problem_docs as docs
from daiban_routing.handlers import deciding, holding, pausing, visits
from daiban_routing.queries import work as queries
from daiban_routing.schemas.work import (
    DecideIn,
    ExtensionIn,
    HomeVisitIn,
    NotificationOut,
    PauseIn,
    ReassignIn,
    RouteOut,
    TaskOut,
)

WindowStaff = Annotated[Principal, Depends(require_roles(Role.clerk, Role.approver))]
Supervisor = Annotated[Principal, Depends(require_roles(Role.supervisor))]
Agent = Annotated[Principal, Depends(require_roles(Role.agent, Role.clerk))]

_ERRORS = {
    401: {"description": "缺少或无效的身份令牌"},
    403: {"description": "角色无权操作、不是人员目录中的工作人员，或任务不属于您的窗口"},
    404: {"description": "不存在，或不在您的辖区内"},
    409: {"description": "与当前状态冲突（如任务由在岗的他人承办、重复决定、未暂停却恢复、第二次延期）"},
    422: {"description": "输入有误"},
}


def _now() -> datetime:
    return clock.now()


router = APIRouter(prefix="/v1", tags=["work"], responses=_ERRORS)  # type: ignore[arg-type]


@router.get(
    "/tasks",
    summary="List tasks in the caller's subtree, green channel first",
    description="任务列表（本辖区，绿色通道优先）",
    dependencies=[Depends(only_params("org", "window", "staff_id", "status", "limit", "cursor"))],
)
async def list_tasks(
    principal: CurrentPrincipal,
    uow: UowDep,
    page: PageParamsDep,
    org: Annotated[
        str | None,
        Query(
            description="12位区划代码，含其下级",
            pattern=ORG_CODE_PATTERN,
        ),
    ] = None,
    window: Annotated[StoredText | None, Query(description="窗口编号")] = None,
    staff_id: Annotated[StoredText | None, Query(description="工作人员编号")] = None,
    status: Annotated[str | None, Query(pattern="^(queued|assigned|in_review|paused|decided)$")] = None,
) -> Page[TaskOut]:
    async with uow:
        return await queries.list_tasks(
            uow.session, principal, page, org=org, window=window, staff=staff_id, status=status
        )


@router.post("/tasks/{task_id}/claim", summary="Claim a task", description="领取任务", responses=docs.CLAIM)
async def claim(task_id: StoredText, principal: WindowStaff, uow: UowDep) -> TaskOut:
    return presenters.task_out(await deciding.claim(uow, principal, task_id, _now()))


@router.post(
    "/tasks/{task_id}/decide",
    summary="Decide a task: approve, refuse or request a supplement",
    description="作出决定：准予、不予办理或要求补正",
    responses=docs.DECIDE,
)
async def decide(task_id: StoredText, body: DecideIn, principal: WindowStaff, uow: UowDep) -> TaskOut:
    return presenters.task_out(await deciding.decide(uow, principal, task_id, body, _now()))


@router.post(
    "/tasks/{task_id}/reassign",
    summary="Reassign a task to another staff member on duty at the same window (supervisors)",
    description="改派任务（监察人员）：交由本窗口另一位在岗人员承办",
    responses=docs.REASSIGN,
)
async def reassign(task_id: StoredText, body: ReassignIn, principal: Supervisor, uow: UowDep) -> TaskOut:
    return presenters.task_out(await holding.reassign(uow, principal, task_id, body, _now()))


@router.post(
    "/tasks/{task_id}/pause",
    summary="Start a special procedure and pause the clock",
    description="启动特别程序，暂停计时",
    responses=docs.PAUSE,
)
async def pause(task_id: StoredText, body: PauseIn, principal: WindowStaff, uow: UowDep) -> RouteOut:
    case = await pausing.pause(uow, principal, task_id, body, _now())
    return await _route(uow, principal, case.case_number)


@router.post(
    "/tasks/{task_id}/resume",
    summary="End the special procedure and resume the clock",
    description="结束特别程序，恢复计时",
    responses=docs.RESUME,
)
async def resume(task_id: StoredText, principal: WindowStaff, uow: UowDep) -> RouteOut:
    case = await pausing.resume(uow, principal, task_id, _now())
    return await _route(uow, principal, case.case_number)


@router.post(
    "/cases/{case_number}/extension",
    summary="Approve an extension (once per case)",
    description="批准延期（每件一次）",
    response_model=RouteOut,
    responses=docs.EXTENSION,
)
async def extension(
    case_number: StoredText,
    body: ExtensionIn,
    request: Request,
    principal: Supervisor,
    key: IdempotencyKey,
    uow: UowDep,
) -> Response:
    keyed = once(request, principal.sub, key, body)
    answer = presenters.ROUTE_AFTER
    return answer.respond(await pausing.extend(uow, principal, case_number, body, _now(), keyed, answer))


@router.post(
    "/cases/{case_number}/home-visit",
    summary="Book a home visit",
    description="预约上门服务",
    response_model=RouteOut,
    responses=docs.HOME_VISIT,
)
async def home_visit(
    case_number: StoredText,
    body: HomeVisitIn,
    request: Request,
    principal: Agent,
    key: IdempotencyKey,
    uow: UowDep,
) -> Response:
    keyed = once(request, principal.sub, key, body)
    answer = presenters.ROUTE_AFTER
    return answer.respond(
        await visits.book_home_visit(uow, principal, case_number, body, _now(), keyed, answer)
    )


@router.get(
    "/cases/{case_number}/route",
    summary="A case's route: hops, tasks, pauses, decisions and timeline",
    description="办件流转轨迹：各次流转、任务、暂停、决定与时间线",
    responses=docs.CASE,
)
async def route(case_number: StoredText, principal: CurrentPrincipal, uow: UowDep) -> RouteOut:
    return await _route(uow, principal, case_number)


@router.get(
    "/notifications", summary="Case updates for the first responder", description="首问责任人的办件动态"
)
async def notifications(
    principal: CurrentPrincipal, uow: UowDep, page: PageParamsDep
) -> Page[NotificationOut]:
    async with uow:
        return await queries.notifications(uow.session, principal, page)


async def _route(uow: UowDep, principal: Principal, number: str) -> RouteOut:
    async with uow:
        return await queries.route_of(uow.session, principal, number)
