"""Checking the materials presented against the item's list (材料核验).

Everything wrong is collected before anything is answered: the one-time notice (一次性告知) must
name every missing or wrong material in one go, never one per trip. Input the item cannot make
sense of (a material code the item does not have, the same material twice) is not a notice but
invalid input, because no citizen can fix it by bringing something.

Conditional materials (`required: false` with a `condition`, e.g. 残疾人证 "家庭成员中有残疾人的")
are needed only when their condition applies to the applicant. The application says which apply
(`conditions_met`); those become required. The others go on the notice with their condition, so
an applicant they do apply to learns it before leaving rather than on the second trip.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from daiban_common.errors import FieldError, InvalidInput
from daiban_contracts.case import ConditionalReminder, Deficiency, MaterialIssue
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
    reminders: tuple[ConditionalReminder, ...] = ()

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


def reminder(material: Material) -> ConditionalReminder:
    """What the notice tells about a conditional material nobody said applies."""
    condition = material.condition or ""
    if material.source is MaterialSource.government:
        note = f"如：{condition}，请告知窗口，{material.name}由窗口调取，无需自备"
    else:
        note = f"如：{condition}，还需提交{material.name}（{material.form.label}{material.copies}份）"
    return ConditionalReminder(
        material_code=material.code,
        material_name=material.name,
        condition=condition,
        required_form=material.form.value,
        required_copies=material.copies,
        fetched_by_window=material.source is MaterialSource.government,
        note=note,
    )


def _claim_errors(materials: Sequence[Material], claimed: Sequence[str]) -> list[FieldError]:
    by_code = {m.code: m for m in materials}
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, code in enumerate(claimed):
        where = f"conditions_met[{index}]"
        material = by_code.get(code)
        if material is None:
            errors.append(FieldError(where, f"该事项没有编号为{code}的材料"))
        elif material.required:
            errors.append(FieldError(where, f"材料{code}（{material.name}）是必需材料，不是按情形提交的材料"))
        elif code in seen:
            errors.append(FieldError(where, f"材料{code}重复列出"))
        seen.add(code)
    return errors


def validate_codes(
    materials: Sequence[Material],
    presented: Sequence[Presented],
    promised: Sequence[Promised],
    *,
    today: date,
    claimed: Sequence[str] = (),
    field: str = "materials",
) -> None:
    """422 for codes the item does not have, duplicates, promise dates not in the future, and
    claimed conditions that name no conditional material of the item."""
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
    errors.extend(_claim_errors(materials, claimed))
    if errors:
        raise InvalidInput("材料清单有误，请按错误提示修改", errors=errors)


def check_materials(
    materials: Sequence[Material],
    presented: Sequence[Presented],
    promised: Sequence[Promised],
    *,
    claimed: Collection[str] = (),
) -> MaterialCheck:
    """Every issue with the materials, the deficiencies that may be accepted, and the conditional
    materials to remind the applicant of.

    Call `validate_codes` first. Required materials must be presented in the required form and
    number of copies, or be promised if the item allows that material to be missing (non-core and
    deficiency-allowed). Materials issued by a government body are fetched by the window (数据共享)
    and never asked of the citizen. A conditional material is required when its condition is
    claimed; otherwise it is checked only if presented, and if neither presented nor promised it
    becomes a reminder.
    """
    brought = {entry.code: entry for entry in presented}
    later = {promise.code: promise for promise in promised}
    issues: list[MaterialIssue] = []
    deficiencies: list[Deficiency] = []
    reminders: list[ConditionalReminder] = []
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
        needed = material.required or material.code in claimed
        if not needed:
            reminders.append(reminder(material))
        elif material.source is not MaterialSource.government:
            issues.append(_issue(material, "missing"))
    return MaterialCheck(issues=tuple(issues), deficiencies=tuple(deficiencies), reminders=tuple(reminders))


def issue_field(
    issue: MaterialIssue, presented: Sequence[Presented], promised: Sequence[Promised] = ()
) -> str:
    """Where a notice's issue points in the request, in the path syntax of every 422
    (`materials[2].form`, docs/api-vocabulary.md): the entry brought in the wrong form or too few
    copies, the promise of a material that may not be missing, or the list a missing one is absent from.
    """
    code = issue.material_code
    if issue.problem in ("wrong_form", "too_few_copies"):
        index = next((i for i, entry in enumerate(presented) if entry.code == code), None)
        if index is not None:
            return f"materials[{index}].{'form' if issue.problem == 'wrong_form' else 'copies'}"
    index = next((i for i, promise in enumerate(promised) if promise.code == code), None)
    if index is not None:
        return f"deficiencies[{index}].code"
    return "materials"


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
