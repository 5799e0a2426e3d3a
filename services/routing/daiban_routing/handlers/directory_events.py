"""The events of directory edits: what an entry was before and after, emitted in the edit's unit of work.

Commands and imports take the entry before they change it (`*_entry`) and hand both states to
`emit_change` (departments, windows, staff), `emit_duty` or `emit_service_point`, which emit
nothing when nothing changed. The demo seed emits only the org units (`publish_org_units`) and who
its staff are (`publish_staff`): its thousands of made-up people and windows are not anyone's edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import col, select

from daiban_common import clock
from daiban_common.uow import UnitOfWork
from daiban_contracts.directory import (
    Change,
    ChangeSource,
    DepartmentChanged,
    DepartmentEntry,
    DutyChanged,
    DutyEntry,
    OrgUnitEntry,
    OrgUnitsPublished,
    ServicePointChanged,
    ServicePointEntry,
    StaffChanged,
    StaffEntry,
    StaffMember,
    StaffPublished,
    WindowChanged,
    WindowEntry,
    directory_subject,
)
from daiban_contracts.envelope import Envelope, EventData
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_routing.handlers import SYSTEM_ACTOR
from daiban_routing.models import Department, OrgUnit, Staff, Window

E = TypeVar("E")
Entry = DepartmentEntry | WindowEntry | StaffEntry


def department_entry(department: Department) -> DepartmentEntry:
    return DepartmentEntry(org=department.org, code=department.code, name=department.name)


def window_entry(window: Window) -> WindowEntry:
    return WindowEntry(
        org=window.org,
        number=window.number,
        name=window.name,
        departments=tuple(window.departments),
        a_post=window.a_post,
        b_post=window.b_post,
    )


def staff_entry(staff: Staff) -> StaffEntry:
    return StaffEntry(
        staff_id=staff.id, org=staff.org, name=staff.name, role=staff.role, windows=tuple(staff.windows)
    )


def duty_entry(staff: Staff) -> DutyEntry:
    return DutyEntry(
        on_duty=staff.on_duty,
        absent_from=staff.absent_from,
        absent_until=staff.absent_until,
        reason_given=bool(staff.absence_reason),
    )


def service_point_entry(org: OrgUnit) -> ServicePointEntry:
    return ServicePointEntry(
        name=org.point_name, address=org.address, phone=org.phone, opening_hours=org.opening_hours
    )


def _change(before: E | None, after: E | None) -> Change | None:
    if before is None:
        return None if after is None else Change.created
    if after is None:
        return Change.deleted
    return None if before == after else Change.updated


# Per kind of entry: its event (built here by name, so the AsyncAPI document sees who sends it) and
# the entry's subject key.
_CHANGED: dict[type[Entry], tuple[Callable[..., EventData], Callable[[Any], tuple[str, ...]]]] = {
    DepartmentEntry: (
        lambda record_id, **fields: DepartmentChanged(department_id=record_id, **fields),
        lambda e: ("department", e.org, e.code),
    ),
    WindowEntry: (
        lambda record_id, **fields: WindowChanged(window_id=record_id, **fields),
        lambda e: ("window", e.org, e.number),
    ),
    StaffEntry: (
        lambda record_id, **fields: StaffChanged(staff_id=record_id, **fields),
        lambda e: ("staff", e.staff_id),
    ),
}


def entry_of(record: Department | Window | Staff) -> Entry:
    if isinstance(record, Department):
        return department_entry(record)
    if isinstance(record, Window):
        return window_entry(record)
    return staff_entry(record)


def emit_change(
    uow: UnitOfWork,
    actor: str,
    source: ChangeSource,
    record_id: str,
    before: Entry | None,
    after: Entry | None,
) -> None:
    """The event of a department, window or staff entry created, updated or deleted (None for
    `before` when created, for `after` when deleted); nothing when nothing changed."""
    change = _change(before, after)
    entry = after or before
    if change is None or entry is None:
        return
    changed, key = _CHANGED[type(entry)]
    uow.emit(
        changed(
            record_id,
            change=change,
            source=source,
            before=before,
            after=after,
            changed_by=actor,
            changed_at=clock.now(),
        ),
        subject=directory_subject(*key(entry)),
        org=entry.org,
        actor=actor,
    )


def emit_duty(uow: UnitOfWork, actor: str, staff: Staff, before: DutyEntry) -> None:
    after = duty_entry(staff)
    uow.emit(
        DutyChanged(
            staff_id=staff.id,
            org=staff.org,
            before=before,
            after=after,
            changed_by=actor,
            changed_at=clock.now(),
        ),
        subject=directory_subject("staff", staff.id),
        org=staff.org,
        actor=actor,
    )


def emit_service_point(uow: UnitOfWork, actor: str, org: OrgUnit, before: ServicePointEntry) -> None:
    after = service_point_entry(org)
    if after == before:
        return
    uow.emit(
        ServicePointChanged(
            org=org.code,
            org_name=org.name,
            before=before,
            after=after,
            changed_by=actor,
            changed_at=clock.now(),
        ),
        subject=directory_subject("org", org.code),
        org=org.code,
        actor=actor,
    )


async def org_units_published(uow: UnitOfWork, county: str) -> bool:
    """Whether this node's outbox ever carried the county's org units."""
    outbox = uow.tables.outbox
    tail = f".{OrgCode.parse(county).subject_tokens}.directory.org_units_published"
    found = await uow.session.exec(
        select(outbox.c.seq)
        .where(
            outbox.c.type == OrgUnitsPublished.event_type,
            outbox.c.subject.endswith(tail),
        )
        .limit(1)
    )
    return found.first() is not None


async def publish_org_units(uow: UnitOfWork, county: str, actor: str = SYSTEM_ACTOR) -> OrgUnitsPublished:
    """Emit every org unit of `county` as the directory now holds them (call before commit)."""
    code = OrgCode.parse(county)
    await uow.session.flush()
    units = await uow.session.exec(
        select(OrgUnit).where(col(OrgUnit.code).startswith(code.subtree_prefix)).order_by(col(OrgUnit.code))
    )
    payload = OrgUnitsPublished(
        county=code.value,
        units=tuple(
            OrgUnitEntry(code=u.code, name=u.name, tier=Tier(u.tier), parent_code=u.parent_code)
            for u in units
        ),
        published_at=clock.now(),
    )
    uow.emit(payload, subject=directory_subject("org-units", code.value), org=code.value, actor=actor)
    return payload


async def publish_staff(uow: UnitOfWork, county: str, actor: str = SYSTEM_ACTOR) -> StaffPublished | None:
    """Emit every staff member of `county` as the directory now holds them, unless the last such
    event said the same (a seed run again emits nothing); call before commit."""
    code = OrgCode.parse(county)
    await uow.session.flush()
    people = await uow.session.exec(
        select(Staff.id, Staff.org)
        .where(col(Staff.org).startswith(code.subtree_prefix))
        .order_by(col(Staff.org), col(Staff.id))
    )
    members = tuple(StaffMember(staff_id=staff_id, org=org) for staff_id, org in people)
    if members == await _last_published_staff(uow, code):
        return None
    payload = StaffPublished(county=code.value, staff=members, published_at=clock.now())
    uow.emit(payload, subject=directory_subject("staff", code.value), org=code.value, actor=actor)
    return payload


async def _last_published_staff(uow: UnitOfWork, county: OrgCode) -> tuple[StaffMember, ...] | None:
    outbox = uow.tables.outbox
    tail = f".{county.subject_tokens}.directory.staff_published"
    found = await uow.session.exec(
        select(outbox.c.envelope)
        .where(outbox.c.type == StaffPublished.event_type, outbox.c.subject.endswith(tail))
        .order_by(outbox.c.seq.desc())
        .limit(1)
    )
    raw = found.first()
    if raw is None:
        return None
    payload = Envelope.from_bytes(str(raw).encode()).payload()
    return payload.staff if isinstance(payload, StaffPublished) else None
