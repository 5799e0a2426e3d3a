"""CSV import of departments, windows and staff: all rows apply, or none (with every error listed).

Columns (UTF-8, header row; lists inside a cell are separated by `;`):
- departments: `org,code,name`
- windows: `org,number,name,departments,a_post,b_post`
- staff: `id,name,role,org,windows`
Rows are upserts keyed by (org, code), (org, number) and id. Staff are applied before windows in
one file set, but each import is one resource; import staff first, then windows that name them.
Every row that changes an entry emits that entry's event (source `csv_import`), as a single edit
would, so the audit log lists what the import changed row by row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from daiban_common.auth import Principal, can_see
from daiban_common.contracts.directory import ChangeSource
from daiban_common.errors import FieldError, InvalidInput, field_path, validation_message
from daiban_common.uow import UnitOfWork
from daiban_routing.handlers import directory_events as events
from daiban_routing.queries import lookup
from daiban_routing.handlers.entries import Change, upsert_department, upsert_staff, upsert_window
from daiban_routing.schemas.directory import DepartmentIn, ImportResult, StaffIn, WindowIn
from daiban_routing.models import Department, Staff, Window

MAX_ROWS = 5000


class ImportKind(StrEnum):
    departments = "departments"
    windows = "windows"
    staff = "staff"


_MODELS: dict[ImportKind, type[BaseModel]] = {
    ImportKind.departments: DepartmentIn,
    ImportKind.windows: WindowIn,
    ImportKind.staff: StaffIn,
}
_COLUMNS = {
    ImportKind.departments: ("org", "code", "name"),
    ImportKind.windows: ("org", "number", "name", "departments", "a_post", "b_post"),
    ImportKind.staff: ("id", "name", "role", "org", "windows"),
}
_LISTS = {"departments", "windows"}
Upsert = Callable[[Any, Any, str], Awaitable[tuple[Any, Change]]]
_UPSERTS: dict[ImportKind, Upsert] = {
    ImportKind.departments: upsert_department,
    ImportKind.windows: upsert_window,
    ImportKind.staff: upsert_staff,
}


def _unreadable(reader: csv.DictReader[str], exc: csv.Error) -> InvalidInput:
    # The csv module's own complaints (an over-long cell, a broken quote) are about the file; it
    # counts a line once it is parsed, so the bad one is the next.
    line = reader.line_num + 1
    return InvalidInput.field(f"rows[{line}]", f"CSV第{line}行无法解析（单元格过长或引号不成对）")


def _records(reader: csv.DictReader[str]) -> Iterator[dict[str | Any, str | Any]]:
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _unreadable(reader, exc) from None


def parse(kind: ImportKind, text: str) -> list[BaseModel]:
    """Rows as request models; 422 listing every bad cell as `rows[N].field` (N = line number)."""
    # newline="": the csv module finds the line ends itself, so \r\n, \n and the bare \r that
    # Excel for Mac still writes all work, and line breaks inside quoted cells survive.
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        missing = [c for c in _COLUMNS[kind] if c not in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise _unreadable(reader, exc) from None
    if missing:
        raise InvalidInput.field(
            "header", f"CSV缺少列：{', '.join(missing)}；应为 {','.join(_COLUMNS[kind])}"
        )
    rows: list[BaseModel] = []
    errors: list[FieldError] = []
    for line, raw in enumerate(_records(reader), start=2):
        if line - 1 > MAX_ROWS:
            raise InvalidInput.field("rows", f"一次最多导入{MAX_ROWS}行")
        data: dict[str, Any] = {}
        for column in _COLUMNS[kind]:
            value = (raw.get(column) or "").strip()
            if column in _LISTS:
                data[column] = [v.strip() for v in value.split(";") if v.strip()]
            elif value or column not in ("a_post", "b_post"):
                data[column] = value
        try:
            rows.append(_MODELS[kind].model_validate(data))
        except ValidationError as exc:
            errors += [
                FieldError(f"rows[{line}].{field_path(e['loc'])}", validation_message(e))
                for e in exc.errors()
            ]
    if errors:
        raise InvalidInput("CSV中有错误，未导入任何一行", errors=errors)
    if not rows:
        raise InvalidInput.field("rows", "CSV没有数据行")
    return rows


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
                errors.append(FieldError(f"rows[{line}].id", hidden))
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
    existing = await uow.session.get(Staff, row.id)
    if existing is None or existing.org == row.org or can_see(principal, existing.org):
        return None
    return f"工作人员编号{row.id}已被使用"


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
        staff = await session.get(Staff, row.id)
        return events.staff_entry(staff) if staff is not None else None
    raise TypeError(type(row).__name__)


def _emit(uow: UnitOfWork, actor: str, entry: Any, before: Any) -> None:
    source = ChangeSource.csv_import
    if isinstance(entry, Department):
        events.emit_department(uow, actor, source, entry.id, before, events.department_entry(entry))
    elif isinstance(entry, Window):
        events.emit_window(uow, actor, source, entry.id, before, events.window_entry(entry))
    elif isinstance(entry, Staff):
        events.emit_staff(uow, actor, source, before, events.staff_entry(entry))
