"""CSV import of departments, windows and staff: all rows apply, or none (with every error listed).

The rows are parsed in `domain.csv_rows`. Rows are upserts keyed by (org, code), (org, number)
and id. Staff are applied before windows in one file set, but each import is one resource; import
staff first, then windows that name them.
Every row that changes an entry emits that entry's event (source `csv_import`), as a single edit
would, so the audit log lists what the import changed row by row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from daiban_common.auth import Principal, can_see
from daiban_common.errors import FieldError, InvalidInput
from daiban_common.uow import UnitOfWork
from daiban_contracts.directory import ChangeSource
from daiban_routing.domain.csv_rows import ImportKind, parse
from daiban_routing.handlers import directory_events as events
from daiban_routing.handlers.entries import Change, upsert_department, upsert_staff, upsert_window
from daiban_routing.models import Department, Staff, Window
from daiban_routing.queries import lookup
from daiban_routing.schemas.directory import DepartmentIn, ImportResult, StaffIn, WindowIn

Upsert = Callable[[Any, Any, str], Awaitable[tuple[Any, Change]]]
_UPSERTS: dict[ImportKind, Upsert] = {
    ImportKind.departments: upsert_department,
    ImportKind.windows: upsert_window,
    ImportKind.staff: upsert_staff,
}


async def import_rows(uow: UnitOfWork, principal: Principal, kind: ImportKind, text: str) -> ImportResult:
    rows = parse(kind, text)
    counts = dict.fromkeys(Change, 0)
    async with uow:
        errors: list[FieldError] = []
        for line, row in enumerate(rows, start=2):
            org = getattr(row, "org")  # noqa: B009 - every import model has one
            if not can_see(principal, org) or await lookup.org_unit(uow.session, org) is None:
                errors.append(FieldError(f"rows[{line}].org", f"区划单位{org}不存在或不在您的辖区内"))
                continue
            hidden = await _id_of_another_unit(uow, principal, row)
            if hidden is not None:
                errors.append(FieldError(f"rows[{line}].staff_id", hidden))
                continue
            before = await _entry_before(uow, row)
            try:
                entry, change = await _UPSERTS[kind](uow.session, row, f"rows[{line}].")
            except InvalidInput as exc:
                errors += exc.errors
                continue
            await uow.session.flush()
            counts[change] += 1
            _emit(uow, principal.sub, entry, before)
        if errors:
            raise InvalidInput("CSV中有错误，未导入任何一行", errors=errors)
        await uow.commit()
    return ImportResult(
        created=counts[Change.created], updated=counts[Change.updated], unchanged=counts[Change.unchanged]
    )


async def _id_of_another_unit(uow: UnitOfWork, principal: Principal, row: BaseModel) -> str | None:
    """For a staff id already used by a unit the caller cannot see: the message a single create
    gives, which names no unit (the old one named it, disclosing another township's staff)."""
    if not isinstance(row, StaffIn):
        return None
    existing = await uow.session.get(Staff, row.staff_id)
    if existing is None or existing.org == row.org or can_see(principal, existing.org):
        return None
    return f"工作人员编号{row.staff_id}已被使用"


async def _entry_before(uow: UnitOfWork, row: BaseModel) -> BaseModel | None:
    """The entry a row is about as it is before the row applies (None if the row creates it)."""
    session = uow.session
    if isinstance(row, DepartmentIn):
        department = await lookup.department_at(session, row.org, row.code)
        return events.department_entry(department) if department is not None else None
    if isinstance(row, WindowIn):
        window = await lookup.window_at(session, row.org, row.number)
        return events.window_entry(window) if window is not None else None
    if isinstance(row, StaffIn):
        staff = await session.get(Staff, row.staff_id)
        return events.staff_entry(staff) if staff is not None else None
    raise TypeError(type(row).__name__)


def _emit(uow: UnitOfWork, actor: str, entry: Department | Window | Staff, before: Any) -> None:
    events.emit_change(uow, actor, ChangeSource.csv_import, entry.id, before, events.entry_of(entry))
