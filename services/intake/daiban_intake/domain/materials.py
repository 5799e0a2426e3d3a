"""Checking the materials presented against the item's list (材料核验).

Everything wrong is collected before anything is answered: the one-time notice (一次性告知) must
name every missing or wrong material in one go, never one per trip. Input the item cannot make
sense of (a material code the item does not have, the same material twice) is not a notice but
invalid input, because no citizen can fix it by bringing something.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from daiban_common.errors import FieldError, InvalidInput
from daiban_contracts.case import Deficiency, MaterialIssue
from daiban_contracts.catalogue import Material, MaterialForm, MaterialSource

PROBLEM_LABELS = {
    "missing": "未提交",
    "wrong_form": "材料形式不符",
    "too_few_copies": "份数不足",
    "invalid": "材料无效",
    "other": "其他问题",
}


@dataclass(frozen=True)
class Presented:
    """A material the applicant brought: which one, in what form, how many copies."""

    code: str
    form: MaterialForm
    copies: int


@dataclass(frozen=True)
class Promised:
    """A material the applicant will bring later, by `due_date` (容缺受理)."""

    code: str
    due_date: date


@dataclass(frozen=True)
class MaterialCheck:
    issues: tuple[MaterialIssue, ...]
    deficiencies: tuple[Deficiency, ...]

    @property
    def complete(self) -> bool:
        return not self.issues


def _issue(material: Material, problem: str, note: str = "") -> MaterialIssue:
    return MaterialIssue(
        material_code=material.code,
        material_name=material.name,
        problem=problem,
        required_form=material.form.value,
        required_copies=material.copies,
        note=note,
    )


def form_satisfies(presented: MaterialForm, required: MaterialForm) -> bool:
    """An original also serves where a copy is asked for: the window copies it."""
    return presented is required or (presented is MaterialForm.original and required is MaterialForm.copy)


def validate_codes(
    materials: Sequence[Material],
    presented: Sequence[Presented],
    promised: Sequence[Promised],
    *,
    today: date,
    field: str = "materials",
) -> None:
    """422 for codes the item does not have, duplicates, and promise dates not in the future."""
    known = {m.code for m in materials}
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, entry in enumerate(presented):
        if entry.code not in known:
            errors.append(FieldError(f"{field}[{index}].code", f"该事项没有编号为{entry.code}的材料"))
        elif entry.code in seen:
            errors.append(FieldError(f"{field}[{index}].code", f"材料{entry.code}重复提交"))
        seen.add(entry.code)
    for index, promise in enumerate(promised):
        where = f"deficiencies[{index}]"
        if promise.code not in known:
            errors.append(FieldError(f"{where}.code", f"该事项没有编号为{promise.code}的材料"))
        elif promise.code in seen:
            errors.append(FieldError(f"{where}.code", f"材料{promise.code}已提交或重复列出"))
        if promise.due_date <= today:
            errors.append(FieldError(f"{where}.due_date", "承诺补交日期应晚于今天"))
        seen.add(promise.code)
    if errors:
        raise InvalidInput("材料清单有误，请按错误提示修改", errors=errors)


def check_materials(
    materials: Sequence[Material], presented: Sequence[Presented], promised: Sequence[Promised]
) -> MaterialCheck:
    """Every issue with the materials, and the deficiencies that may be accepted.

    Call `validate_codes` first. Required materials must be presented in the required form and
    number of copies, or be promised if the item allows that material to be missing (non-core and
    deficiency-allowed). Materials issued by a government body are fetched by the window (数据共享)
    and never asked of the citizen. A conditional (non-required) material is checked only if
    presented: whether its condition applies is the clerk's judgment.
    """
    brought = {entry.code: entry for entry in presented}
    later = {promise.code: promise for promise in promised}
    issues: list[MaterialIssue] = []
    deficiencies: list[Deficiency] = []
    for material in materials:
        entry = brought.get(material.code)
        if entry is not None:
            if not form_satisfies(entry.form, material.form):
                issues.append(_issue(material, "wrong_form", f"应提交{material.form.label}"))
            elif entry.copies < material.copies:
                issues.append(
                    _issue(material, "too_few_copies", f"应提交{material.copies}份，实交{entry.copies}份")
                )
            continue
        promise = later.get(material.code)
        if promise is not None:
            if material.deficiency_allowed and not material.core:
                deficiencies.append(
                    Deficiency(
                        material_code=material.code, material_name=material.name, due_date=promise.due_date
                    )
                )
            else:
                issues.append(_issue(material, "missing", "此材料不可容缺，须在受理时提交"))
            continue
        if material.required and material.source is not MaterialSource.government:
            issues.append(_issue(material, "missing"))
    return MaterialCheck(issues=tuple(issues), deficiencies=tuple(deficiencies))


def check_supplied(materials: Sequence[Material], supplied: Sequence[Presented]) -> list[MaterialIssue]:
    """Issues with materials brought after acceptance (same rules as at the window)."""
    by_code = {m.code: m for m in materials}
    issues: list[MaterialIssue] = []
    for entry in supplied:
        material = by_code[entry.code]
        if not form_satisfies(entry.form, material.form):
            issues.append(_issue(material, "wrong_form", f"应提交{material.form.label}"))
        elif entry.copies < material.copies:
            issues.append(
                _issue(material, "too_few_copies", f"应提交{material.copies}份，实交{entry.copies}份")
            )
    return issues
