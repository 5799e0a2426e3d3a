"""Routes for admins: the registry of outside systems that push events through the door."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from daiban_common.auth import Principal, Role, require_roles
from daiban_common.deps import UowDep
from daiban_common.openapi import ProblemDoc
from daiban_common.pagination import Page, PageParamsDep
from daiban_common.query_params import only_params
from daiban_common.uow import UnitOfWork
from daiban_contracts.text import StoredText
from daiban_intake import presenters_door as present
from daiban_intake.api.http import problems
from daiban_intake.context import ContextDep
from daiban_intake.handlers.systems import (
    SYSTEM_NOT_FOUND,
    Issued,
    register_system,
    reissue_token,
    revoke_system,
    systems_of,
)
from daiban_intake.queries.orgs import org_names
from daiban_intake.schemas_door import RegisterSystem, SystemIssued, SystemOut

router = APIRouter(prefix="/v1/systems", tags=["systems"])

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]

_NOT_FOUND = ProblemDoc(404, "外部系统不存在或不在您的辖区", detail=SYSTEM_NOT_FOUND)
_EXISTS = ProblemDoc(
    409,
    "标识已被使用",
    detail="外部系统标识jiangshan-hall已被使用（停用的系统标识也不再复用）",
    type="/problems/system-exists",
    title="System already registered",
)
_REVOKED = ProblemDoc(
    409,
    "系统已停用",
    detail="外部系统已停用，不能再签发令牌",
    type="/problems/system-revoked",
    title="System revoked",
)


async def _answer(issued: Issued, uow: UnitOfWork) -> SystemIssued:
    async with uow:
        names = await org_names(uow.session, [issued.system.township])
    return present.issued(issued, names)


@router.post(
    "",
    status_code=201,
    summary="Register an outside system for a township; its HTTP token is shown this once",
    description=(
        "登记乡镇的外部系统（大厅系统、好差评终端等），返回其HTTP令牌（仅此一次，系统只保存其摘要）。"
        "不接受Idempotency-Key：令牌不得存入幂等记录；重试得到409，可用/token重新签发。"
    ),
    response_model=SystemIssued,
    responses=problems(401, 403, _EXISTS, 422),
)
async def register(body: RegisterSystem, principal: Admin, uow: UowDep, context: ContextDep) -> SystemIssued:
    return await _answer(await register_system(body, principal=principal, hosts=context.hosts, uow=uow), uow)


@router.get(
    "",
    summary="Outside systems of the caller's subtree",
    description="本辖区登记的外部系统（含已停用的）",
    responses=problems(401, 403, 422),
    dependencies=[Depends(only_params("limit", "cursor"))],
)
async def list_systems(principal: Admin, page: PageParamsDep, uow: UowDep) -> Page[SystemOut]:
    async with uow:
        rows, next_cursor = await systems_of(uow.session, principal, page)
        names = await org_names(uow.session, [row.township for row in rows])
        return Page(items=[present.system_out(row, names) for row in rows], next_cursor=next_cursor)


@router.post(
    "/{system}/token",
    summary="Issue a new HTTP token; the old one stops working at once",
    description="重新签发HTTP令牌，旧令牌立即失效",
    response_model=SystemIssued,
    responses=problems(401, 403, _NOT_FOUND, _REVOKED),
)
async def new_token(system: StoredText, principal: Admin, uow: UowDep) -> SystemIssued:
    return await _answer(await reissue_token(system, principal=principal, uow=uow), uow)


@router.delete(
    "/{system}",
    summary="Revoke an outside system: its token stops working at once",
    description="停用外部系统：令牌立即失效，其经NATS推送的事件进入死信",
    response_model=SystemOut,
    responses=problems(401, 403, _NOT_FOUND),
)
async def revoke(system: StoredText, principal: Admin, uow: UowDep) -> SystemOut:
    row = await revoke_system(system, principal=principal, uow=uow)
    async with uow:
        names = await org_names(uow.session, [row.township])
    return present.system_out(row, names)
