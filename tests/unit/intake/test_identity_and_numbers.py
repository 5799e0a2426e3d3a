from __future__ import annotations

from datetime import date

import pytest

from daiban_common.calendar import WorkCalendar
from daiban_common.errors import InvalidInput
from daiban_contracts.case import EvaluationLevel
from daiban_contracts.orgcodes import OrgCode
from daiban_intake.domain import applicants, numbers
from daiban_intake.domain.feedback import mask_free_text, opens_rectification, rectification_due
from tests.unit.intake.items import APPLICANT_ID

TODAY = date(2026, 3, 2)


def test_case_and_notice_numbers() -> None:
    number = numbers.case_number("370285101201", TODAY, 7)
    assert number == "370285101201-20260302-0007"
    assert numbers.is_case_number(number) and not numbers.is_notice_number(number)
    notice = numbers.notice_number("370285101201", TODAY, 12345)
    assert notice == "370285101201-20260302-G12345" and numbers.is_notice_number(notice)


def test_a_board_masks_the_date_of_a_number_and_keeps_the_point_and_sequence() -> None:
    assert numbers.masked_case_number("370285101294-20261122-0007") == "370285101294-********-0007"
    assert numbers.masked_case_number("370285101000-20261122-5001") == "370285101000-********-5001"


def test_query_codes_avoid_confusable_characters() -> None:
    codes = {numbers.new_query_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 8 and not set(c) & set("01OIL") for c in codes)
    assert numbers.normalise_query_code(" ab3d ") == "AB3D"


def test_person_is_normalised_and_leaves_the_node_masked_and_hashed() -> None:
    person = applicants.person(
        name="王秀英", id_number=APPLICANT_ID.lower(), phone="138-1234-5678", address="", today=TODAY
    )
    assert person.id_number == APPLICANT_ID and person.phone == "13812345678"
    ref = applicants.applicant_ref(person, "salt")
    assert ref.name_masked == "王**" and APPLICANT_ID not in ref.model_dump_json()
    assert (
        ref.id_hash
        == applicants.applicant_ref(person, "salt").id_hash
        != applicants.applicant_ref(person, "x").id_hash
    )


def test_invalid_identity_numbers_name_their_fields() -> None:
    with pytest.raises(InvalidInput) as raised:
        applicants.person(name="王", id_number="123", phone="5", address="", today=TODAY)
    assert [e.field for e in raised.value.errors] == ["applicant.id_number", "applicant.phone"]
    with pytest.raises(InvalidInput) as raised:
        applicants.organisation(
            name="社", credit_code="91110000802100433A", legal_representative="", phone=None
        )
    assert [e.field for e in raised.value.errors] == [
        "applicant.credit_code",
        "applicant.legal_representative",
    ]


def test_only_the_applicant_or_their_representative_collects() -> None:
    person = applicants.person(
        name="王", id_number=APPLICANT_ID, phone="13812345678", address="", today=TODAY
    )
    assert applicants.may_collect(APPLICANT_ID, person, None)
    assert not applicants.may_collect("110105194912310029", person, None)
    assert applicants.may_collect("110105194912310029", person, {"id_number": "110105194912310029"})


def test_bad_ratings_open_a_rectification_due_in_fifteen_working_days() -> None:
    assert opens_rectification(EvaluationLevel.very_dissatisfied)
    assert not opens_rectification(EvaluationLevel.basically_satisfied)
    assert rectification_due(WorkCalendar(), date(2031, 1, 3)) == date(2031, 1, 24)


def test_numbers_typed_into_free_text_are_masked() -> None:
    masked = mask_free_text(f"我的身份证{APPLICANT_ID}，电话13812345678")
    assert APPLICANT_ID not in masked and "13812345678" not in masked and "138****5678" in masked


def test_a_township_node_counts_apart_from_the_county_node() -> None:
    # A township that gets (or gives up) a node of its own mid-day never reuses a number.
    assert numbers.first_sequence(OrgCode.parse("370285000000")) == 1
    assert numbers.first_sequence(OrgCode.parse("370285101000")) == 5001
    assert numbers.case_number("370285101294", date(2026, 12, 7), 5001) == "370285101294-20261207-5001"
