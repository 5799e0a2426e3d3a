"""Checks and upserts of directory entries, shared by single edits, CSV imports and the seed (they
do not commit)."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, ensure_within
from daiban_common.errors import FieldError, InvalidInput, NotFound
from daiban_contracts.catalogue import department_tier
from daiban_contracts.ids import uuid7
from daiban_contracts.orgcodes import OrgCode
from daiban_routing.models import Department, OrgUnit, Staff, Window
from daiban_routing.queries import lookup
from daiban_routing.schemas.directory import DepartmentIn, StaffIn, WindowIn


class Change(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


async def org_for_edit(session: AsyncSession, principal: Principal, code: str, field: str = "org") -> OrgUnit:
    """The org unit an edit is about: 404 outside the caller's subtree, 422 if the directory lacks it."""
    ensure_within(principal, code)
    org = await lookup.org_unit(session, code)
    if org is None:
        raise InvalidInput.field(field, f"区划单位{code}不在目录中")
    return org


async def upsert_department(
    session: AsyncSession, body: DepartmentIn, prefix: str = ""
) -> tuple[Department, Change]:
    org_tier = OrgCode.parse(body.org).tier
    if department_tier(body.code) is not org_tier:
        raise InvalidInput.field(
            f"{prefix}code", f"{department_tier(body.code).label}部门不能设在{org_tier.label}单位{body.org}"
        )
    existing = await lookup.department_at(session, body.org, body.code)
    if existing is None:
        department = Department(id=str(uuid7()), org=body.org, code=body.code, name=body.name)
        session.add(department)
        return department, Change.created
    if existing.name == body.name:
        return existing, Change.unchanged
    existing.name = body.name
    session.add(existing)
    return existing, Change.updated


async def check_window(session: AsyncSession, body: WindowIn, prefix: str = "") -> None:
    """Departments served must exist at the window's org; A and B posts are two people of that org."""
    errors: list[FieldError] = []
    for index, code in enumerate(body.departments):
        if await lookup.department_at(session, body.org, code) is None:
            errors.append(FieldError(f"{prefix}departments[{index}]", f"{body.org}没有部门{code}"))
    people = await lookup.staff_by_ids(session, [p for p in (body.a_post, body.b_post) if p])
    for field in ("a_post", "b_post"):
        staff_id = getattr(body, field)
        if staff_id and (staff_id not in people or people[staff_id].org != body.org):
            errors.append(FieldError(f"{prefix}{field}", f"工作人员{staff_id}不存在或不属于{body.org}"))
    if body.b_post and body.b_post == body.a_post:
        errors.append(FieldError(f"{prefix}b_post", "B岗不能由A岗本人担任"))
    if errors:
        raise InvalidInput("窗口信息有误，请按提示修改", errors=errors)


async def upsert_window(session: AsyncSession, body: WindowIn, prefix: str = "") -> tuple[Window, Change]:
    await check_window(session, body, prefix)
    existing = await lookup.window_at(session, body.org, body.number)
    values = body.model_dump(exclude={"org", "number"})
    if existing is None:
        window = Window(id=str(uuid7()), org=body.org, number=body.number, **values)
        session.add(window)
        return window, Change.created
    if all(getattr(existing, k) == v for k, v in values.items()):
        return existing, Change.unchanged
    for key, value in values.items():
        setattr(existing, key, value)
    session.add(existing)
    return existing, Change.updated


async def check_staff_windows(session: AsyncSession, org: str, windows: list[str], prefix: str = "") -> None:
    known = set(
        await session.exec(select(Window.number).where(Window.org == org, col(Window.number).in_(windows)))
    )
    errors = [
        FieldError(f"{prefix}windows[{i}]", f"{org}没有{number}号窗口")
        for i, number in enumerate(windows)
        if number not in known
    ]
    if errors:
        raise InvalidInput("工作人员信息有误，请按提示修改", errors=errors)


async def upsert_staff(session: AsyncSession, body: StaffIn, prefix: str = "") -> tuple[Staff, Change]:
    await check_staff_windows(session, body.org, body.windows, prefix)
    existing = await session.get(Staff, body.staff_id)
    if existing is None:
        staff = Staff(
            id=body.staff_id, name=body.name, role=body.role.value, org=body.org, windows=body.windows
        )
        session.add(staff)
        return staff, Change.created
    if existing.org != body.org:
        raise InvalidInput.field(
            f"{prefix}org", f"工作人员{body.staff_id}属于{existing.org}，调动请先删除原记录"
        )
    if (existing.name, existing.role, existing.windows) == (body.name, body.role.value, body.windows):
        return existing, Change.unchanged
    existing.name, existing.role, existing.windows = body.name, body.role.value, body.windows
    session.add(existing)
    return existing, Change.updated


async def org_exists_or_404(session: AsyncSession, principal: Principal, code: str) -> OrgUnit:
    ensure_within(principal, code)
    org = await lookup.org_unit(session, code)
    if org is None:
        raise NotFound("区划单位不存在")
    return org
