from __future__ import annotations

from datetime import date

import pytest

from daiban_common.errors import InvalidInput
from daiban_contracts.catalogue import Material, MaterialForm, MaterialSource
from daiban_intake.domain.materials import (
    Presented,
    Promised,
    check_materials,
    form_satisfies,
    issue_field,
    validate_codes,
)
from tests.unit.intake.items import materials

TODAY = date(2026, 3, 2)
ALL = materials()


def test_everything_wrong_is_listed_at_once() -> None:
    check = check_materials(ALL, [Presented("M02", MaterialForm.copy, 1)], [])
    assert [(i.material_code, i.problem) for i in check.issues] == [
        ("M01", "missing"),
        ("M02", "too_few_copies"),
        ("M03", "missing"),
    ]
    assert not check.complete


def test_government_and_conditional_materials_are_not_asked_of_the_citizen() -> None:
    presented = [
        Presented("M01", MaterialForm.original, 1),
        Presented("M02", MaterialForm.copy, 2),
        Presented("M03", MaterialForm.copy, 1),
    ]
    assert check_materials(ALL, presented, []).complete


def test_deficiency_allowed_material_may_be_promised_but_a_core_one_may_not() -> None:
    presented = [Presented("M01", MaterialForm.original, 1)]
    check = check_materials(
        ALL, presented, [Promised("M03", date(2026, 3, 9)), Promised("M02", date(2026, 3, 9))]
    )
    assert [d.material_code for d in check.deficiencies] == ["M03"]
    assert [(i.material_code, i.note) for i in check.issues] == [("M02", "此材料不可容缺，须在受理时提交")]


def test_each_issue_points_into_the_request_as_a_validation_error_would() -> None:
    """`materials[1].copies`, never `materials.M02`: the path syntax of every other 422."""
    presented = [Presented("M01", MaterialForm.copy, 1), Presented("M02", MaterialForm.copy, 1)]
    check = check_materials(ALL, presented, [])
    assert [(i.material_code, issue_field(i, presented)) for i in check.issues] == [
        ("M01", "materials[0].form"),  # brought as a copy, an original is asked for
        ("M02", "materials[1].copies"),  # one copy of two
        ("M03", "materials"),  # brought by no entry: the list lacks it
    ]
    promised = [Promised("M03", date(2026, 3, 9)), Promised("M02", date(2026, 3, 9))]
    check = check_materials(ALL, presented[:1], promised)
    assert [(i.material_code, issue_field(i, presented[:1], promised)) for i in check.issues] == [
        ("M01", "materials[0].form"),
        ("M02", "deficiencies[1].code"),  # a core material may not be promised for later
    ]


def test_an_original_serves_for_a_copy_but_not_the_other_way_round() -> None:
    assert form_satisfies(MaterialForm.original, MaterialForm.copy)
    assert not form_satisfies(MaterialForm.copy, MaterialForm.original)
    assert not form_satisfies(MaterialForm.electronic, MaterialForm.original)


def test_codes_the_item_lacks_duplicates_and_past_promises_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_codes(
            ALL,
            [
                Presented("M99", MaterialForm.copy, 1),
                Presented("M01", MaterialForm.original, 1),
                Presented("M01", MaterialForm.original, 1),
            ],
            [Promised("M03", TODAY)],
            today=TODAY,
        )
    assert [e.field for e in raised.value.errors] == [
        "materials[0].code",
        "materials[2].code",
        "deficiencies[0].due_date",
    ]


def _disability_and_illness() -> tuple[Material, ...]:
    """The two conditional materials of 最低生活保障审核确认 (JF-00401), as the demo catalogue has them."""
    return (
        Material(code="M01", name="申请书", form=MaterialForm.original, copies=1, core=True),
        Material(
            code="M05",
            name="残疾人证",
            form=MaterialForm.copy,
            copies=1,
            required=False,
            condition="家庭成员中有残疾人的",
            source=MaterialSource.government,
        ),
        Material(
            code="M06",
            name="医院诊断证明或病历",
            form=MaterialForm.copy,
            copies=1,
            required=False,
            condition="因病致困申请的",
            deficiency_allowed=True,
        ),
    )


def test_a_claimed_condition_makes_its_material_required() -> None:
    presented = [Presented("M01", MaterialForm.original, 1)]
    check = check_materials(_disability_and_illness(), presented, [], claimed={"M06"})
    assert [(i.material_code, i.problem) for i in check.issues] == [("M06", "missing")]
    # Claimed, so not a reminder; the unclaimed one still is.
    assert [r.material_code for r in check.reminders] == ["M05"]


def test_a_claimed_material_the_window_fetches_is_still_not_asked_of_the_citizen() -> None:
    presented = [Presented("M01", MaterialForm.original, 1)]
    check = check_materials(_disability_and_illness(), presented, [], claimed={"M05"})
    assert check.complete
    assert [r.material_code for r in check.reminders] == ["M06"]


def test_a_claimed_deficiency_allowed_material_may_be_promised() -> None:
    presented = [Presented("M01", MaterialForm.original, 1)]
    check = check_materials(
        _disability_and_illness(), presented, [Promised("M06", date(2026, 3, 9))], claimed={"M06"}
    )
    assert check.complete
    assert [d.material_code for d in check.deficiencies] == ["M06"]


def test_unclaimed_conditional_materials_are_reminders_with_their_condition() -> None:
    check = check_materials(_disability_and_illness(), [], [])
    assert [i.material_code for i in check.issues] == ["M01"]
    reminders = {r.material_code: r for r in check.reminders}
    assert reminders["M06"].note == "如：因病致困申请的，还需提交医院诊断证明或病历（复印件1份）"
    assert reminders["M06"].condition == "因病致困申请的" and not reminders["M06"].fetched_by_window
    assert reminders["M05"].fetched_by_window
    assert reminders["M05"].note == "如：家庭成员中有残疾人的，请告知窗口，残疾人证由窗口调取，无需自备"


def test_a_conditional_material_brought_or_promised_is_no_reminder() -> None:
    check = check_materials(
        _disability_and_illness(),
        [Presented("M06", MaterialForm.copy, 1)],
        [Promised("M05", date(2026, 3, 9))],
    )
    assert check.reminders == ()


def test_claims_must_name_conditional_materials_of_the_item_once() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_codes(_disability_and_illness(), [], [], today=TODAY, claimed=["M99", "M01", "M05", "M05"])
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("conditions_met[0]", "该事项没有编号为M99的材料"),
        ("conditions_met[1]", "材料M01（申请书）是必需材料，不是按情形提交的材料"),
        ("conditions_met[3]", "材料M05重复列出"),
    ]
    validate_codes(_disability_and_illness(), [], [], today=TODAY, claimed=["M05", "M06"])
