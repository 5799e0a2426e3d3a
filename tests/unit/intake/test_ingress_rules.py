"""The door's rules: which pushed events pass, what each refusal names, how one becomes a command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from daiban_common.errors import Conflict, FieldError, InvalidInput, NotFound
from daiban_contracts.case import (
    CaseEvaluated,
    CaseSupplemented,
    ComplaintFiled,
    DeficienciesSupplied,
    EvaluationLevel,
    StaffRef,
)
from daiban_contracts.catalogue import MaterialForm
from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.ingress import INGRESS_TYPES, system_source
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_intake.domain.ingress import (
    Door,
    Refused,
    check_pushed,
    event_field,
    parse_envelope,
    presented_as_required,
    refused_by_command,
    township_of,
)
from daiban_intake.domain.materials import Presented
from daiban_intake.domain.systems import acting_as, looks_like_token, new_token, token_hash
from tests.unit.intake.items import materials

SYSTEM = "jiangshan-hall"
TOWNSHIP = OrgCode.parse("370285101000")
VILLAGE = "370285101295"
CASE = "370285101295-20261201-0001"
DOOR = Door(system=SYSTEM, township=TOWNSHIP, name="姜山镇大厅系统", types=INGRESS_TYPES)


def _supplemented(**data: Any) -> CaseSupplemented:
    fields: dict[str, Any] = {
        "case_number": CASE,
        "accepting_org": VILLAGE,
        "material_codes": ("M02",),
        "supplemented_at": datetime.now(UTC),
        "recorded_by": StaffRef(staff_id="hall-1", name="许春花", org=VILLAGE),
    }
    return CaseSupplemented(**{**fields, **data})


def _pushed(payload: EventData, **envelope: Any) -> Envelope:
    fields: dict[str, Any] = {"source": system_source(SYSTEM), "subject": CASE, "org": VILLAGE, "actor": ""}
    return make_envelope(payload, **{**fields, **envelope})


def _refusal(envelope: Envelope, door: Door | None = DOOR, system: str = SYSTEM) -> Refused:
    with pytest.raises(Refused) as refused:
        check_pushed(envelope, door, system)
    return refused.value


def test_a_valid_event_gives_its_typed_payload() -> None:
    payload = _supplemented()
    assert check_pushed(_pushed(payload), DOOR, SYSTEM) == payload


@pytest.mark.parametrize(
    ("door", "system", "field", "words"),
    [
        (None, SYSTEM, "source", "未登记或已停用"),
        (Door(SYSTEM, TOWNSHIP, "x", INGRESS_TYPES, revoked=True), SYSTEM, "source", "未登记或已停用"),
        (DOOR, "Not A System", "source", "外部系统标识"),
        (Door(SYSTEM, TOWNSHIP, "x", frozenset({"daiban.case.evaluated.v1"})), SYSTEM, "type", "未获准"),
        (
            Door(SYSTEM, OrgCode.parse("370285102000"), "x", INGRESS_TYPES),
            SYSTEM,
            "org",
            "不在外部系统所属乡镇",
        ),
    ],
)
def test_the_system_must_be_registered_allowed_and_of_the_township(
    door: Door | None, system: str, field: str, words: str
) -> None:
    refused = _refusal(_pushed(_supplemented()), door, system)
    assert refused.errors[0].field == field and words in refused.reason


def test_source_org_and_subject_must_agree_with_the_system_and_the_payload() -> None:
    assert _refusal(_pushed(_supplemented(), source="/systems/other-hall")).errors[0].field == "source"
    assert _refusal(_pushed(_supplemented(), org="370285101201")).errors[0].field == "data.accepting_org"
    assert (
        _refusal(_pushed(_supplemented(), subject="370285101295-20261201-0002")).errors[0].field == "subject"
    )


def test_only_the_ingress_types_pass() -> None:
    other = DeficienciesSupplied(
        case_number=CASE,
        accepting_org=VILLAGE,
        material_codes=("M03",),
        supplied_at=datetime.now(UTC),
        recorded_by=StaffRef(staff_id="hall-1", name="许春花", org=VILLAGE),
    )
    assert _refusal(_pushed(other)).errors[0].field == "type"


def test_a_payload_off_the_contract_names_its_fields() -> None:
    envelope = _pushed(_supplemented())
    broken = envelope.model_copy(update={"data": {**envelope.data, "material_codes": "M02", "extra": 1}})
    refused = _refusal(broken)
    assert {e.field for e in refused.errors} == {"data.material_codes", "data.extra"}


def test_an_envelope_off_the_contract_names_its_attributes() -> None:
    with pytest.raises(Refused) as refused:
        parse_envelope({"id": "1", "type": "daiban.case.supplemented.v1", "org": "12"})
    assert {"source", "org", "time", "data"} <= {e.field for e in refused.value.errors}
    with pytest.raises(Refused):
        parse_envelope(["not", "an", "object"])


def test_a_complaint_is_about_the_org_of_its_envelope() -> None:
    complaint = ComplaintFiled(
        complaint_id="c1",
        org="370285101201",
        target="window",
        target_ref="3",
        summary="无人",
        filed_at=datetime.now(UTC),
    )
    assert check_pushed(_pushed(complaint, org="370285101201", subject="c1"), DOOR, SYSTEM) == complaint
    assert _refusal(_pushed(complaint, org=VILLAGE, subject="c1")).errors[0].field == "data.org"


def test_supplied_codes_are_presented_as_the_item_requires_them() -> None:
    assert presented_as_required(materials(), ["M02", "M09"]) == [
        Presented("M02", MaterialForm.copy, 2),
        Presented("M09", MaterialForm.original, 0),
    ]


def test_what_the_command_refuses_is_named_in_the_event() -> None:
    supplement = _supplemented()
    unknown = InvalidInput(errors=[FieldError("materials[1].code", "该事项没有编号为M09的材料")])
    refused = refused_by_command(unknown, supplement)
    assert (refused.errors[0].field, refused.reason) == (
        "data.material_codes[1]",
        "该事项没有编号为M09的材料",
    )
    assert refused_by_command(NotFound("办件不存在"), supplement).errors[0].field == "data.case_number"
    conflict = refused_by_command(Conflict("该办件已评价"), supplement)
    assert (conflict.reason, conflict.errors[0].field) == ("该办件已评价", "data.case_number")
    rating = CaseEvaluated(
        case_number=CASE,
        accepting_org=VILLAGE,
        level=EvaluationLevel.satisfied,
        evaluated_at=datetime.now(UTC),
    )
    assert event_field("scores.speed", rating) == "data.scores.speed"
    assert event_field("materials", supplement) == "data.material_codes"


def test_systems_are_registered_for_a_township_only() -> None:
    assert township_of("370285101000") == TOWNSHIP
    for code in ("370285101295", "370285000000"):
        with pytest.raises(InvalidOrgCode):
            township_of(code)


def test_tokens_are_opaque_and_kept_as_hashes() -> None:
    token = new_token()
    assert looks_like_token(token) and not looks_like_token("eyJhbGciOiJIUzI1NiJ9.e30.x")
    assert token_hash(token) != token_hash(new_token()) and len(token_hash(token)) == 64
    principal = acting_as(DOOR)
    assert (principal.sub, principal.org) == ("system:jiangshan-hall", TOWNSHIP.value)
