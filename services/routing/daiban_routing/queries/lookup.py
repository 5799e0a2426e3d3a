"""Reading the directory for routing decisions (no HTTP, no scoping: callers scope)."""

from __future__ import annotations

import weakref
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_routing.domain.assignment import Duty, WindowCandidate
from daiban_routing.models import Department, DirectoryVersion, OrgUnit, Staff, Task, Window

OPEN_TASK_STATUSES = ("queued", "assigned", "in_review", "paused")


async def org_unit(session: AsyncSession, code: str) -> OrgUnit | None:
    return await session.get(OrgUnit, code)


async def department_at(session: AsyncSession, org: str, code: str) -> Department | None:
    stmt = select(Department).where(Department.org == org, Department.code == code)
    return (await session.exec(stmt)).first()


async def window_at(session: AsyncSession, org: str, number: str) -> Window | None:
    stmt = select(Window).where(Window.org == org, Window.number == number)
    return (await session.exec(stmt)).first()


async def staff_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Staff]:
    if not ids:
        return {}
    rows = await session.exec(select(Staff).where(col(Staff.id).in_(list(ids))))
    return {s.id: s for s in rows}


def duty_of(staff: Staff | None) -> Duty:
    if staff is None:
        return Duty(on_duty=False)
    return Duty(staff.on_duty, staff.absent_from, staff.absent_until)


@dataclass(frozen=True, slots=True)
class WindowPosts:
    id: str
    number: str
    a_post: str | None
    b_post: str | None


@dataclass(frozen=True, slots=True)
class Directory:
    """What routing's event handlers read of the directory, as of `version` (models.DirectoryVersion)."""

    version: int
    org_units: frozenset[str]
    departments: Mapping[tuple[str, str], str]  # (org, code) -> name
    windows: Mapping[tuple[str, str], tuple[WindowPosts, ...]]  # (org, department) -> by number
    duty: Mapping[str, Duty]  # staff id -> duty

    def windows_of(self, org: str, department: str) -> tuple[WindowPosts, ...]:
        return self.windows.get((org, department), ())


_VERSION = select(DirectoryVersion.version).where(DirectoryVersion.id == 1)
_ORG_UNITS = select(OrgUnit.code)
_DEPARTMENTS = select(Department.org, Department.code, Department.name)
# Core selects of columns: rows, not ORM objects, are all the cache keeps.
_WINDOWS = core_select(
    col(Window.id),
    col(Window.org),
    col(Window.number),
    col(Window.departments),
    col(Window.a_post),
    col(Window.b_post),
).order_by(col(Window.org), col(Window.number))
_STAFF = select(Staff.id, Staff.on_duty, Staff.absent_from, Staff.absent_until)


async def _load_directory(conn: AsyncConnection, version: int) -> Directory:
    # Read after the version: rows at least as new as it, so a cache never keeps older rows under a
    # newer number (at worst newer rows under an older one, reloaded at the next look).
    windows: dict[tuple[str, str], list[WindowPosts]] = {}
    for w in await conn.execute(_WINDOWS):
        posts = WindowPosts(w.id, w.number, w.a_post, w.b_post)
        for department in w.departments:
            windows.setdefault((w.org, department), []).append(posts)
    return Directory(
        version=version,
        org_units=frozenset((await conn.execute(_ORG_UNITS)).scalars()),
        departments={(r.org, r.code): r.name for r in await conn.execute(_DEPARTMENTS)},
        windows={key: tuple(ws) for key, ws in windows.items()},
        duty={r.id: Duty(r.on_duty, r.absent_from, r.absent_until) for r in await conn.execute(_STAFF)},
    )


class DirectoryCache:
    """The directory of each database this process talks to, held in memory for the event handlers
    (every assignment read departments, windows and staff; every hop the org unit).

    It is checked against the directory's version (a trigger counts it up with every change of
    those tables, in the writer's transaction) once per transaction, and reloaded on the
    transaction's own connection when it moved: a change committed by any process of the node is
    seen by the next transaction that assigns. Event handlers never change the directory, so a
    version checked earlier in the same transaction is still the one they would read.
    """

    def __init__(self) -> None:
        self._loaded: weakref.WeakKeyDictionary[Engine, Directory] = weakref.WeakKeyDictionary()

    async def current(self, session: AsyncSession) -> Directory:
        sync = session.sync_session
        transaction = sync.get_transaction()
        seen = sync.info.get("directory")
        if seen is not None and transaction is not None and seen[0] is transaction:
            return seen[1]  # type: ignore[no-any-return]
        conn = await session.connection()
        version = int(await conn.scalar(_VERSION) or 0)
        engine = conn.sync_engine
        directory = self._loaded.get(engine)
        if directory is None or directory.version != version:
            directory = await _load_directory(conn, version)
            self._loaded[engine] = directory
        sync.info["directory"] = (sync.get_transaction(), directory)
        return directory


DIRECTORY = DirectoryCache()


async def open_tasks(session: AsyncSession, window_ids: Collection[str]) -> dict[str, int]:
    """How many open tasks each of the windows holds (those without any are left out)."""
    if not window_ids:
        return {}
    conn = await session.connection()  # no autoflush: the caller's pending rows are not tasks yet
    rows = await conn.execute(
        select(Task.window_id, func.count())
        .where(col(Task.window_id).in_(list(window_ids)), col(Task.status).in_(OPEN_TASK_STATUSES))
        .group_by(col(Task.window_id))
    )
    return {str(window_id): int(n) for window_id, n in rows}


def candidates(
    directory: Directory, org: str, department: str, load: Mapping[str, int], now: datetime
) -> list[WindowCandidate]:
    """The windows of `org` serving `department`, with who is on duty and how busy each is."""
    off = Duty(on_duty=False)
    return [
        WindowCandidate(
            window_id=w.id,
            number=w.number,
            a_post=w.a_post,
            b_post=w.b_post,
            a_on_duty=directory.duty.get(w.a_post or "", off).at(now),
            b_on_duty=directory.duty.get(w.b_post or "", off).at(now),
            open_tasks=load.get(w.id, 0),
        )
        for w in directory.windows_of(org, department)
    ]
