"""CSV import of departments, windows and staff: all rows apply, or none (with every error listed).

Columns (UTF-8, header row; lists inside a cell are separated by `;`):
- departments: `org,code,name`
- windows: `org,number,name,departments,a_post,b_post`
- staff: `id,name,role,org,windows`
Rows are upserts keyed by (org, code), (org, number) and id. Staff are applied before windows in
one file set, but each import is one resource; import staff first, then windows that name them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from daiban_common.auth import Principal, can_see
from daiban_common.errors import FieldError, InvalidInput, field_path, validation_message
from daiban_common.uow import UnitOfWork
from daiban_routing.directory import lookup
from daiban_routing.directory.rules import Change, upsert_department, upsert_staff, upsert_window
from daiban_routing.directory.schemas import DepartmentIn, ImportResult, StaffIn, WindowIn

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


def parse(kind: ImportKind, text: str) -> list[BaseModel]:
    """Rows as request models; 422 listing every bad cell as `rows[N].field` (N = line number)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    missing = [c for c in _COLUMNS[kind] if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput.field(
            "header", f"CSV缺少列：{', '.join(missing)}；应为 {','.join(_COLUMNS[kind])}"
        )
    rows: list[BaseModel] = []
    errors: list[FieldError] = []
    for line, raw in enumerate(reader, start=2):
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
            try:
                _, change = await _UPSERTS[kind](uow.session, row, f"rows[{line}].")
            except InvalidInput as exc:
                errors += exc.errors
                continue
            await uow.session.flush()
            counts[change] += 1
        if errors:
            raise InvalidInput("CSV中有错误，未导入任何一行", errors=errors)
        await uow.commit()
    return ImportResult(
        created=counts[Change.created], updated=counts[Change.updated], unchanged=counts[Change.unchanged]
    )
