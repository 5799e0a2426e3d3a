"""Field-by-field differences between two versions of an item, for history views and reports.

Paths read like the validation errors': `fee.amount_fen`, `departments.lead`. Materials and
special procedures are matched by their key rather than their position, so reordering the list
is not reported as a change of every entry: `materials[M03].copies`, `materials[M05]` (added or
removed), `special_procedures[site_survey].max_working_days`. Values are JSON-ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python

from daiban_catalogue.domain.drafts import content_fields
from daiban_contracts.catalogue import ItemContent, ItemVersionData, Material, SpecialProcedureLimit


class FieldChange(BaseModel):
    """One changed field; `before` is None for something added, `after` None for something removed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    before: Any
    after: Any


def _material_key(material: Material) -> str:
    return material.code


def _procedure_key(limit: SpecialProcedureLimit) -> str:
    return limit.procedure.value


_KEYS: dict[str, Callable[[Any], str]] = {"materials": _material_key, "special_procedures": _procedure_key}


def diff(a: ItemContent, b: ItemContent) -> list[FieldChange]:
    """What changed from `a` to `b`: the content, plus the status between two versions.

    Derived and publishing fields (pinyin, version numbers, dates) are left out: they change with
    every version and say nothing about the item.
    """
    changes = [
        change for name in content_fields() for change in _changes(name, getattr(a, name), getattr(b, name))
    ]
    if isinstance(a, ItemVersionData) and isinstance(b, ItemVersionData) and a.status is not b.status:
        changes.append(FieldChange(field="status", before=a.status.value, after=b.status.value))
    return changes


def _changes(path: str, before: Any, after: Any) -> Iterator[FieldChange]:
    if before == after:
        return
    if path in _KEYS:
        yield from _keyed_changes(path, before, after, _KEYS[path])
    elif isinstance(before, BaseModel) and type(before) is type(after):
        for name in type(before).model_fields:
            yield from _changes(f"{path}.{name}", getattr(before, name), getattr(after, name))
    else:
        yield _change(path, before, after)


def _keyed_changes(
    path: str, before: Sequence[Any], after: Sequence[Any], key: Callable[[Any], str]
) -> Iterator[FieldChange]:
    old = {key(entry): entry for entry in before}
    new = {key(entry): entry for entry in after}
    for k, entry in old.items():
        if k not in new:
            yield _change(f"{path}[{k}]", entry, None)
        else:
            yield from _changes(f"{path}[{k}]", entry, new[k])
    for k, entry in new.items():
        if k not in old:
            yield _change(f"{path}[{k}]", None, entry)
    old_order = [k for k in old if k in new]
    new_order = [k for k in new if k in old]
    if old_order != new_order:
        yield _change(f"{path}.order", old_order, new_order)


def _change(path: str, before: Any, after: Any) -> FieldChange:
    return FieldChange(field=path, before=to_jsonable_python(before), after=to_jsonable_python(after))
