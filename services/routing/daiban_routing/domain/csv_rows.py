"""The rows of a directory CSV import, parsed and validated before anything is written.

Columns (UTF-8, header row; lists inside a cell are separated by `;`):
- departments: `org,code,name`
- windows: `org,number,name,departments,a_post,b_post`
- staff: `staff_id,name,role,org,windows`
Every bad cell is listed as `rows[N].field` (N = line number); a file with any is refused whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from daiban_common.errors import FieldError, InvalidInput
from daiban_common.validation import field_path, validation_message
from daiban_routing.schemas.directory import DepartmentIn, StaffIn, WindowIn

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
    ImportKind.staff: ("staff_id", "name", "role", "org", "windows"),
}
_LISTS = {"departments", "windows"}


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
