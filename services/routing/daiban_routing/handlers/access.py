"""Who may act on a task: staff of its window, or the window's B post (AB岗)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, can_see
from daiban_common.errors import Forbidden, NotFound
from daiban_contracts.case import StaffRef
from daiban_routing.handlers import SYSTEM_PREFIX
from daiban_routing.models import Case, Staff, Task, Window
from daiban_routing.queries.cases import load_case

NOT_IN_DIRECTORY = "/problems/not-in-directory"


async def task_for(session: AsyncSession, principal: Principal, task_id: str) -> tuple[Task, Case]:
    """The task (locked) and its case (locked); 404 outside the caller's org subtree."""
    task = await session.get(Task, task_id, with_for_update=True)
    if task is None or not can_see(principal, task.org):
        raise NotFound("任务不存在")
    case = await load_case(session, task.case_number, lock=True)
    if case is None:  # pragma: no cover - tasks are only created with their case
        raise NotFound("任务不存在")
    return task, case


def is_system(principal: Principal) -> bool:
    return principal.sub.startswith(SYSTEM_PREFIX)


async def known_staff(session: AsyncSession, principal: Principal) -> Staff | None:
    """403 unless the caller is a staff member of the directory at the token's org (None: a system).

    A valid token is not enough to act for the administration: what staff do is recorded under
    their name, so the person must be one the directory knows, where the token says they work.
    """
    if is_system(principal):
        return None
    staff = await session.get(Staff, principal.sub)
    if staff is None or staff.org != principal.org:
        raise Forbidden(
            f"身份“{principal.sub}”不是{principal.org}人员目录中的工作人员，不能办理；请联系管理员登记",
            type=NOT_IN_DIRECTORY,
            title="Not a staff member of the directory",
        )
    return staff


async def ensure_window_staff(session: AsyncSession, principal: Principal, task: Task) -> Staff:
    """403 unless the caller is in the directory and works at the task's window or holds its A or B post."""
    staff = await known_staff(session, principal)
    window = await session.get(Window, task.window_id) if task.window_id else None
    if staff is None or window is None or staff.org != window.org:
        raise Forbidden("该任务不属于您所在的窗口，您无权办理")
    if principal.sub not in (window.a_post, window.b_post) and window.number not in staff.windows:
        raise Forbidden(f"该任务属于{window.number}号窗口，您不是该窗口或其B岗的工作人员")
    return staff


def staff_ref(principal: Principal) -> StaffRef:
    return StaffRef(staff_id=principal.sub, name=principal.name, org=principal.org)
