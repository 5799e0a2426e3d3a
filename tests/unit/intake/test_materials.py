from __future__ import annotations

from datetime import date

import pytest

from daiban_common.errors import InvalidInput
from daiban_contracts.catalogue import MaterialForm
from daiban_intake.domain.materials import (
    Presented,
    Promised,
    check_materials,
    form_satisfies,
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
