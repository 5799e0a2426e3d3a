"""HTTP routes of the directory: translate requests into commands and queries, nothing more."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from daiban_common.auth import CurrentPrincipal, Principal, Role, require_roles
from daiban_common.deps import UowDep
from daiban_common.errors import InvalidInput
from daiban_common.idempotency import KEY_REUSED, IdempotencyKey, once
from daiban_common.openapi import problem_responses
from daiban_common.pagination import Page, PageParamsDep
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_contracts.text import StoredText
from daiban_routing import presenters
from daiban_routing.api import problem_docs as docs
from daiban_routing.domain.csv_rows import ImportKind
from daiban_routing.handlers import directory as commands
from daiban_routing.handlers.csv_import import import_rows
from daiban_routing.models import Department, Staff, Window
from daiban_routing.queries import directory as queries
from daiban_routing.schemas.directory import (
    DepartmentIn,
    DepartmentOut,
    DepartmentUpdate,
    DutyIn,
    ImportResult,
    OrgDetailOut,
    OrgOut,
    ServicePoint,
    StaffIn,
    StaffOut,
    StaffUpdate,
    WindowIn,
    WindowOut,
)

Editor = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]
OrgQuery = Annotated[str | None, Query(description="12位区划代码，含其下级", pattern=ORG_CODE_PATTERN)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "缺少或无效的身份令牌"},
    403: {"description": "仅限监察人员、管理员修改"},
    404: {"description": "不存在，或不在您的辖区内"},
    409: {"description": "与现有记录冲突，或仍被引用"},
    422: {"description": "输入有误"},
}
_CSV_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
}


async def _csv_text(request: Request) -> str:
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput.field("body", "CSV须为UTF-8编码") from None


def _existing(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The 200 of a POST whose record already exists as sent (under another Idempotency-Key; a
    retry under the same key replays the first answer, 201 included)."""
    return {
        200: {
            "model": model,
            "description": "The same record already exists (made under another key): it is returned",
        }
    }


router = APIRouter(prefix="/v1", tags=["directory"], responses=_ERRORS)


@router.get("/orgs", summary="List org units", description="区划单位列表")
async def list_orgs(
    principal: CurrentPrincipal,
    uow: UowDep,
    page: PageParamsDep,
    parent: OrgQuery = None,
    tier: Annotated[str | None, Query(pattern="^(county|township|village)$")] = None,
) -> Page[OrgOut]:
    async with uow:
        return await queries.list_orgs(uow.session, principal, page, parent=parent, tier=tier)


@router.get(
    "/orgs/{code}",
    summary="An org unit with its service point and child units",
    description="区划单位详情（含服务场所与下级单位）",
    responses=problem_responses(docs.ORG_NOT_FOUND),
)
async def org_detail(code: StoredText, principal: CurrentPrincipal, uow: UowDep) -> OrgDetailOut:
    async with uow:
        return await queries.org_detail(uow.session, principal, code)


@router.put(
    "/orgs/{code}/service-point",
    summary="Edit a service point (address, phone, opening hours)",
    description="修改服务场所（地址、电话、办公时间）",
)
async def service_point(code: StoredText, body: ServicePoint, principal: Editor, uow: UowDep) -> OrgOut:
    return presenters.org_out(await commands.set_service_point(uow, principal, code, body))


# ---- departments
@router.get("/departments", summary="List departments", description="部门列表")
async def list_departments(
    principal: CurrentPrincipal,
    uow: UowDep,
    page: PageParamsDep,
    org: OrgQuery = None,
    code: StoredText | None = None,
) -> Page[DepartmentOut]:
    async with uow:
        return await queries.list_departments(uow.session, principal, page, org=org, code=code)


@router.post(
    "/departments",
    status_code=201,
    summary="Create a department",
    description="新增部门",
    response_model=DepartmentOut,
    responses={**problem_responses(docs.SAME_KEY, KEY_REUSED), **_existing(DepartmentOut)},
)
async def create_department(
    body: DepartmentIn, request: Request, principal: Editor, key: IdempotencyKey, uow: UowDep
) -> Response:
    keyed = once(request, principal.sub, key, body)
    answer = presenters.DEPARTMENT_UPSERTED
    return answer.respond(await commands.create_department(uow, principal, body, keyed, answer))


@router.post(
    "/departments/import",
    summary="Import departments from CSV (org,code,name)",
    description="CSV导入部门（org,code,name）",
    openapi_extra=_CSV_BODY,
)
async def import_departments(request: Request, principal: Editor, uow: UowDep) -> ImportResult:
    return await import_rows(uow, principal, ImportKind.departments, await _csv_text(request))


@router.get("/departments/{id}", summary="A department", description="部门详情")
async def get_department(id: StoredText, principal: CurrentPrincipal, uow: UowDep) -> DepartmentOut:
    async with uow:
        return presenters.department_out(await queries.visible(uow.session, principal, Department, id))


@router.put("/departments/{id}", summary="Rename a department", description="修改部门名称")
async def update_department(
    id: StoredText, body: DepartmentUpdate, principal: Editor, uow: UowDep
) -> DepartmentOut:
    return presenters.department_out(await commands.update_department(uow, principal, id, body))


@router.delete(
    "/departments/{id}",
    status_code=204,
    summary="Delete a department",
    description="删除部门",
    responses=problem_responses(docs.RECORD_NOT_FOUND, docs.DEPARTMENT_IN_USE),
)
async def delete_department(id: StoredText, principal: Editor, uow: UowDep) -> None:
    await commands.delete_department(uow, principal, id)


# ---- windows
@router.get("/windows", summary="List windows", description="窗口列表")
async def list_windows(
    principal: CurrentPrincipal,
    uow: UowDep,
    page: PageParamsDep,
    org: OrgQuery = None,
    department: StoredText | None = None,
) -> Page[WindowOut]:
    async with uow:
        return await queries.list_windows(uow.session, principal, page, org=org, department=department)


@router.post(
    "/windows",
    status_code=201,
    summary="Create a window with its A and B posts",
    description="新增窗口（含A岗、B岗）",
    response_model=WindowOut,
    responses={**problem_responses(KEY_REUSED), **_existing(WindowOut)},
)
async def create_window(
    body: WindowIn, request: Request, principal: Editor, key: IdempotencyKey, uow: UowDep
) -> Response:
    keyed = once(request, principal.sub, key, body)
    answer = presenters.WINDOW_UPSERTED
    return answer.respond(await commands.create_window(uow, principal, body, keyed, answer))


@router.post(
    "/windows/import",
    summary="Import windows from CSV (org,number,name,departments,a_post,b_post)",
    description="CSV导入窗口（org,number,name,departments,a_post,b_post）",
    openapi_extra=_CSV_BODY,
)
async def import_windows(request: Request, principal: Editor, uow: UowDep) -> ImportResult:
    return await import_rows(uow, principal, ImportKind.windows, await _csv_text(request))


@router.get("/windows/{id}", summary="A window", description="窗口详情")
async def get_window(id: StoredText, principal: CurrentPrincipal, uow: UowDep) -> WindowOut:
    async with uow:
        return presenters.window_out(await queries.visible(uow.session, principal, Window, id))


@router.put(
    "/windows/{id}",
    summary="Edit a window (departments, A and B posts)",
    description="修改窗口（办理部门、A岗、B岗）",
)
async def update_window(id: StoredText, body: WindowIn, principal: Editor, uow: UowDep) -> WindowOut:
    return presenters.window_out(await commands.update_window(uow, principal, id, body))


@router.delete(
    "/windows/{id}",
    status_code=204,
    summary="Delete a window",
    description="删除窗口",
    responses=problem_responses(docs.RECORD_NOT_FOUND, docs.WINDOW_IN_USE),
)
async def delete_window(id: StoredText, principal: Editor, uow: UowDep) -> None:
    await commands.delete_window(uow, principal, id)


# ---- staff
@router.get("/staff", summary="List staff", description="工作人员列表")
async def list_staff(
    principal: CurrentPrincipal,
    uow: UowDep,
    page: PageParamsDep,
    org: OrgQuery = None,
    window: StoredText | None = None,
    role: Role | None = None,
) -> Page[StaffOut]:
    async with uow:
        return await queries.list_staff(
            uow.session, principal, page, org=org, window=window, role=role.value if role else None
        )


@router.post(
    "/staff",
    status_code=201,
    summary="Create a staff member",
    description="新增工作人员",
    response_model=StaffOut,
    responses={**problem_responses(KEY_REUSED), **_existing(StaffOut)},
)
async def create_staff(
    body: StaffIn, request: Request, principal: Editor, key: IdempotencyKey, uow: UowDep
) -> Response:
    keyed = once(request, principal.sub, key, body)
    answer = presenters.STAFF_UPSERTED
    return answer.respond(await commands.create_staff(uow, principal, body, keyed, answer))


@router.post(
    "/staff/import",
    summary="Import staff from CSV (id,name,role,org,windows)",
    description="CSV导入工作人员（id,name,role,org,windows）",
    openapi_extra=_CSV_BODY,
)
async def import_staff(request: Request, principal: Editor, uow: UowDep) -> ImportResult:
    return await import_rows(uow, principal, ImportKind.staff, await _csv_text(request))


@router.get("/staff/{staff_id}", summary="A staff member", description="工作人员详情")
async def get_staff(staff_id: StoredText, principal: CurrentPrincipal, uow: UowDep) -> StaffOut:
    async with uow:
        return presenters.staff_out(await queries.visible(uow.session, principal, Staff, staff_id))


@router.put("/staff/{staff_id}", summary="Edit a staff member", description="修改工作人员")
async def update_staff(staff_id: StoredText, body: StaffUpdate, principal: Editor, uow: UowDep) -> StaffOut:
    return presenters.staff_out(await commands.update_staff(uow, principal, staff_id, body))


@router.delete(
    "/staff/{staff_id}", status_code=204, summary="Delete a staff member", description="删除工作人员"
)
async def delete_staff(staff_id: StoredText, principal: Editor, uow: UowDep) -> None:
    await commands.delete_staff(uow, principal, staff_id)


@router.put(
    "/staff/{staff_id}/duty",
    summary="Set duty status and leave periods",
    description="设置在岗状态与请假时段",
)
async def set_duty(staff_id: StoredText, body: DutyIn, principal: Editor, uow: UowDep) -> StaffOut:
    return presenters.staff_out(await commands.set_duty(uow, principal, staff_id, body))
