"""Directory edits (supervisor/admin): each one unit of work, committed here and only here.

Every edit that changes something emits its event (directory_events.py) in the same unit of work, with the
entry before and after and the editor as actor, so the audit log records it.
"""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote

from sqlmodel import col, select

from daiban_common.auth import Principal
from daiban_common.errors import Conflict, InvalidInput
from daiban_common.idempotency import AnswerOf, Once, Replayed, remember, replayed
from daiban_common.uow import UnitOfWork
from daiban_contracts.directory import ChangeSource
from daiban_routing.handlers import Upserted
from daiban_routing.handlers import directory_events as events
from daiban_routing.handlers.entries import (
    Change,
    check_staff_windows,
    check_window,
    org_exists_or_404,
    org_for_edit,
    upsert_department,
    upsert_staff,
    upsert_window,
)
from daiban_routing.models import Department, OrgUnit, Staff, Task, Window
from daiban_routing.queries import directory as queries
from daiban_routing.schemas.directory import (
    DepartmentIn,
    DepartmentUpdate,
    DutyIn,
    ServicePoint,
    StaffIn,
    StaffUpdate,
    WindowIn,
)

R = TypeVar("R")

_API = ChangeSource.api
_OPEN = ("queued", "assigned", "in_review", "paused")
_SAME_KEY = "已存在内容不同的同编号记录；修改请用 PUT"


async def create_department(
    uow: UnitOfWork,
    principal: Principal,
    body: DepartmentIn,
    once: Once,
    answer: AnswerOf[Upserted[Department]],
) -> Upserted[Department] | Replayed:
    """Creating the same department again returns it unchanged (200); a different one is 409."""
    async with uow:
        if (retry := await replayed(uow, once)) is not None:
            return retry
        await org_for_edit(uow.session, principal, body.org)
        department, change = await upsert_department(uow.session, body)
        if change is Change.updated:
            raise Conflict(f"{body.org}的部门{body.code}{_SAME_KEY}")
        if change is Change.created:
            events.emit_change(
                uow, principal.sub, _API, department.id, None, events.department_entry(department)
            )
        return await _created(
            uow,
            once,
            answer,
            Upserted(department, change is Change.created, _at("departments", department.id)),
        )


async def _created(
    uow: UnitOfWork, once: Once, answer: AnswerOf[Upserted[R]], result: Upserted[R]
) -> Upserted[R]:
    await remember(uow, once, answer(result))
    await uow.commit()
    return result


def _at(collection: str, id: str) -> str:
    return f"/v1/{collection}/{quote(id, safe='')}"


async def update_department(
    uow: UnitOfWork, principal: Principal, id: str, body: DepartmentUpdate
) -> Department:
    async with uow:
        department: Department = await queries.visible(uow.session, principal, Department, id)
        before = events.department_entry(department)
        department.name = body.name
        uow.session.add(department)
        events.emit_change(uow, principal.sub, _API, id, before, events.department_entry(department))
        await uow.commit()
    return department


async def delete_department(uow: UnitOfWork, principal: Principal, id: str) -> None:
    async with uow:
        department: Department = await queries.visible(uow.session, principal, Department, id)
        serving = await uow.session.exec(
            select(Window.number).where(
                Window.org == department.org, col(Window.departments).contains([department.code])
            )
        )
        numbers = list(serving)
        if numbers:
            raise Conflict(f"仍有窗口办理该部门业务（{'、'.join(numbers)}号），请先调整窗口")
        await uow.session.delete(department)
        events.emit_change(uow, principal.sub, _API, id, events.department_entry(department), None)
        await uow.commit()


async def create_window(
    uow: UnitOfWork, principal: Principal, body: WindowIn, once: Once, answer: AnswerOf[Upserted[Window]]
) -> Upserted[Window] | Replayed:
    async with uow:
        if (retry := await replayed(uow, once)) is not None:
            return retry
        await org_for_edit(uow.session, principal, body.org)
        window, change = await upsert_window(uow.session, body)
        if change is Change.updated:
            raise Conflict(f"{body.org}的{body.number}号窗口{_SAME_KEY}")
        if change is Change.created:
            events.emit_change(uow, principal.sub, _API, window.id, None, events.window_entry(window))
        return await _created(
            uow, once, answer, Upserted(window, change is Change.created, _at("windows", window.id))
        )


async def update_window(uow: UnitOfWork, principal: Principal, id: str, body: WindowIn) -> Window:
    async with uow:
        window: Window = await queries.visible(uow.session, principal, Window, id)
        if (body.org, body.number) != (window.org, window.number):
            raise InvalidInput.field("number", "窗口的所属单位和编号不能修改")
        await check_window(uow.session, body)
        before = events.window_entry(window)
        for key, value in body.model_dump(exclude={"org", "number"}).items():
            setattr(window, key, value)
        uow.session.add(window)
        events.emit_change(uow, principal.sub, _API, id, before, events.window_entry(window))
        await uow.commit()
    return window


async def delete_window(uow: UnitOfWork, principal: Principal, id: str) -> None:
    async with uow:
        window: Window = await queries.visible(uow.session, principal, Window, id)
        busy = (
            await uow.session.exec(
                select(Task.id).where(Task.window_id == id, col(Task.status).in_(_OPEN)).limit(1)
            )
        ).first()
        if busy is not None:
            raise Conflict("该窗口仍有未办结的任务，不能删除")
        await uow.session.delete(window)
        events.emit_change(uow, principal.sub, _API, id, events.window_entry(window), None)
        await uow.commit()


async def create_staff(
    uow: UnitOfWork, principal: Principal, body: StaffIn, once: Once, answer: AnswerOf[Upserted[Staff]]
) -> Upserted[Staff] | Replayed:
    async with uow:
        if (retry := await replayed(uow, once)) is not None:
            return retry
        await org_for_edit(uow.session, principal, body.org)
        existing = await uow.session.get(Staff, body.staff_id)
        if existing is not None and existing.org != body.org:
            raise Conflict(f"工作人员编号{body.staff_id}已被使用")
        staff, change = await upsert_staff(uow.session, body)
        if change is Change.updated:
            raise Conflict(f"工作人员{body.staff_id}{_SAME_KEY}")
        if change is Change.created:
            events.emit_change(uow, principal.sub, _API, staff.id, None, events.staff_entry(staff))
        return await _created(
            uow, once, answer, Upserted(staff, change is Change.created, _at("staff", staff.id))
        )


async def update_staff(uow: UnitOfWork, principal: Principal, id: str, body: StaffUpdate) -> Staff:
    async with uow:
        staff: Staff = await queries.visible(uow.session, principal, Staff, id)
        await check_staff_windows(uow.session, staff.org, body.windows)
        before = events.staff_entry(staff)
        staff.name, staff.role, staff.windows = body.name, body.role.value, body.windows
        uow.session.add(staff)
        events.emit_change(uow, principal.sub, _API, id, before, events.staff_entry(staff))
        await uow.commit()
    return staff


async def delete_staff(uow: UnitOfWork, principal: Principal, id: str) -> None:
    async with uow:
        staff: Staff = await queries.visible(uow.session, principal, Staff, id)
        posts = list(
            await uow.session.exec(
                select(Window.number).where((col(Window.a_post) == id) | (col(Window.b_post) == id))
            )
        )
        if posts:
            raise Conflict(f"该工作人员仍担任{'、'.join(posts)}号窗口的A岗或B岗，请先调整窗口")
        busy = (
            await uow.session.exec(
                select(Task.id).where(Task.staff_id == id, col(Task.status).in_(_OPEN)).limit(1)
            )
        ).first()
        if busy is not None:
            raise Conflict("该工作人员仍有未办结的任务，请先移交")
        await uow.session.delete(staff)
        events.emit_change(uow, principal.sub, _API, id, events.staff_entry(staff), None)
        await uow.commit()


async def set_duty(uow: UnitOfWork, principal: Principal, id: str, body: DutyIn) -> Staff:
    if body.absent_until is not None and body.absent_from is None:
        raise InvalidInput.field("absent_from", "请假须填写开始时间")
    for field in ("absent_from", "absent_until"):
        value = getattr(body, field)
        if value is not None and value.tzinfo is None:
            raise InvalidInput.field(field, "时间须带时区，例如 2026-12-01T09:00:00+08:00")
    if body.absent_from and body.absent_until and body.absent_until <= body.absent_from:
        raise InvalidInput.field("absent_until", "结束时间须晚于开始时间")
    async with uow:
        staff: Staff = await queries.visible(uow.session, principal, Staff, id)
        before = (staff.on_duty, staff.absent_from, staff.absent_until, staff.absence_reason)
        before_entry = events.duty_entry(staff)
        staff.on_duty = body.on_duty
        staff.absent_from, staff.absent_until, staff.absence_reason = (
            body.absent_from,
            body.absent_until,
            body.reason,
        )
        uow.session.add(staff)
        if before != (staff.on_duty, staff.absent_from, staff.absent_until, staff.absence_reason):
            events.emit_duty(uow, principal.sub, staff, before_entry)
        await uow.commit()
    return staff


async def set_service_point(uow: UnitOfWork, principal: Principal, code: str, body: ServicePoint) -> OrgUnit:
    async with uow:
        org = await org_exists_or_404(uow.session, principal, code)
        before = events.service_point_entry(org)
        org.point_name, org.address, org.phone, org.opening_hours = (
            body.name,
            body.address,
            body.phone,
            body.opening_hours,
        )
        uow.session.add(org)
        events.emit_service_point(uow, principal.sub, org, before)
        await uow.commit()
    return org
