"""Directory reads, every list scoped in SQL to the caller's org subtree and paginated."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, can_see, subtree_clause
from daiban_common.errors import FieldError, NotFound
from daiban_common.pagination import Page, PageParams, after_clause, paginate
from daiban_routing.models import Department, OrgUnit, Staff, Window
from daiban_routing.presenters import department_out, org_out, public_point_out, staff_out, window_out
from daiban_routing.queries.work import parse_org_filter
from daiban_routing.schemas.directory import (
    DepartmentOut,
    OrgDetailOut,
    OrgOut,
    PublicServicePointOut,
    StaffOut,
    WindowOut,
)


async def _page(
    session: AsyncSession, stmt: Any, order: list[Any], page: PageParams, kinds: tuple[type, ...], key: Any
) -> tuple[list[Any], str | None]:
    after = page.key(*kinds)
    if after is not None:
        stmt = stmt.where(after_clause(order, after))
    rows = list(await session.exec(stmt.order_by(*order).limit(page.limit + 1)))
    return paginate(rows, page, key=key)


async def list_orgs(
    session: AsyncSession, principal: Principal, page: PageParams, *, parent: str | None, tier: str | None
) -> Page[OrgOut]:
    stmt = select(OrgUnit).where(subtree_clause(col(OrgUnit.code), principal.org))
    if parent is not None:
        stmt = stmt.where(OrgUnit.parent_code == parse_org_filter(principal, parent).value)
    if tier is not None:
        stmt = stmt.where(OrgUnit.tier == tier)
    rows, cursor = await _page(session, stmt, [col(OrgUnit.code)], page, (str,), lambda o: (o.code,))
    return Page(items=[org_out(o) for o in rows], next_cursor=cursor)


async def org_detail(session: AsyncSession, principal: Principal, code: str) -> OrgDetailOut:
    org = await session.get(OrgUnit, code) if can_see(principal, code) else None
    if org is None:
        raise NotFound("区划单位不存在")
    children = await session.exec(
        select(OrgUnit).where(OrgUnit.parent_code == code).order_by(col(OrgUnit.code))
    )
    return OrgDetailOut(**org_out(org).model_dump(), children=[org_out(c) for c in children])


def _unknown_org(code: str, field: str) -> NotFound:
    return NotFound(f"区划单位{code}不存在", errors=[FieldError(field, "目录中没有该区划单位")])


def _with_parent() -> Any:
    parent = aliased(OrgUnit)
    return select(OrgUnit, parent).outerjoin(parent, col(OrgUnit.parent_code) == parent.code)


async def public_points(
    session: AsyncSession, page: PageParams, *, org: str | None, tier: str | None
) -> Page[PublicServicePointOut]:
    """The directory's service points anyone may read, `org`'s subtree when given; no scoping by
    caller: a point's name, address and hours are public."""
    stmt = _with_parent()
    if org is not None:
        if await session.get(OrgUnit, org) is None:
            raise _unknown_org(org, "org")
        stmt = stmt.where(subtree_clause(col(OrgUnit.code), org))
    if tier is not None:
        stmt = stmt.where(OrgUnit.tier == tier)
    rows, cursor = await _page(session, stmt, [col(OrgUnit.code)], page, (str,), lambda r: (r[0].code,))
    return Page(items=[public_point_out(o, p) for o, p in rows], next_cursor=cursor)


async def public_point(session: AsyncSession, code: str) -> PublicServicePointOut:
    row = (await session.exec(_with_parent().where(OrgUnit.code == code))).first()
    if row is None:
        raise _unknown_org(code, "org")
    return public_point_out(*row)


async def list_departments(
    session: AsyncSession, principal: Principal, page: PageParams, *, org: str | None, code: str | None
) -> Page[DepartmentOut]:
    scope = parse_org_filter(principal, org)
    stmt = select(Department).where(
        subtree_clause(col(Department.org), principal.org), subtree_clause(col(Department.org), scope)
    )
    if code is not None:
        stmt = stmt.where(Department.code == code)
    rows, cursor = await _page(
        session,
        stmt,
        [col(Department.org), col(Department.code)],
        page,
        (str, str),
        lambda d: (d.org, d.code),
    )
    return Page(items=[department_out(d) for d in rows], next_cursor=cursor)


async def list_windows(
    session: AsyncSession, principal: Principal, page: PageParams, *, org: str | None, department: str | None
) -> Page[WindowOut]:
    scope = parse_org_filter(principal, org)
    stmt = select(Window).where(
        subtree_clause(col(Window.org), principal.org), subtree_clause(col(Window.org), scope)
    )
    if department is not None:
        stmt = stmt.where(col(Window.departments).contains([department]))
    rows, cursor = await _page(
        session, stmt, [col(Window.org), col(Window.number)], page, (str, str), lambda w: (w.org, w.number)
    )
    return Page(items=[window_out(w) for w in rows], next_cursor=cursor)


async def list_staff(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    org: str | None,
    window: str | None,
    role: str | None,
) -> Page[StaffOut]:
    scope = parse_org_filter(principal, org)
    stmt = select(Staff).where(
        subtree_clause(col(Staff.org), principal.org), subtree_clause(col(Staff.org), scope)
    )
    if window is not None:
        stmt = stmt.where(col(Staff.windows).contains([window]))
    if role is not None:
        stmt = stmt.where(Staff.role == role)
    rows, cursor = await _page(session, stmt, [col(Staff.id)], page, (str,), lambda s: (s.id,))
    return Page(items=[staff_out(s) for s in rows], next_cursor=cursor)


async def visible(session: AsyncSession, principal: Principal, model: type[Any], key: str) -> Any:
    """One directory row by id; 404 when missing or outside the caller's subtree."""
    row = await session.get(model, key)
    if row is None or not can_see(principal, row.org):
        raise NotFound("记录不存在")
    return row
