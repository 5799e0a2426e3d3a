"""The rules of dead letters (daiban_common.deadletters.rules)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from daiban_common.deadletters.rules import (
    NotOpen,
    audit_org,
    discard_reason,
    ensure_open,
    error_path,
    parked_org,
    replay_envelope,
    short_error,
    visible_to,
)
from daiban_common.errors import InvalidInput
from daiban_contracts.case import CaseSupplemented, StaffRef
from daiban_contracts.crossing import Topology
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_contracts.orgcodes import OrgCode

COUNTY, TOWNSHIP, OTHER = "370285000000", "370285101000", "370285102000"


def event(org: str = TOWNSHIP) -> Envelope:
    payload = CaseSupplemented(
        case_number="370285101201-20261206-0001",
        accepting_org=org,
        material_codes=("M1",),
        supplemented_at=datetime(2026, 12, 6, tzinfo=UTC),
        recorded_by=StaffRef(staff_id="clerk", name="窗口人员", org=org),
    )
    return make_envelope(payload, source="/t", subject="370285101201-20261206-0001", org=org, actor="clerk")


def fields(refused: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [error.field for error in refused.value.errors]


def test_a_dead_letter_is_scoped_by_its_event_else_by_its_subject_else_by_the_node() -> None:
    assert parked_org(event(OTHER), "daiban.370285.101.000.case.supplemented") == OTHER
    assert parked_org(None, "daiban.370285.101.201.case.supplemented") == "370285101201"
    assert parked_org(None, "daiban.370285.101.000.copy.progress.case.decided") == TOWNSHIP
    assert parked_org(None, "somewhere.else") is None
    assert parked_org(None, "daiban.000000.000.000.case.x") is None
    node = OrgCode(COUNTY)
    assert visible_to(OrgCode(TOWNSHIP), "370285101201", node)
    assert not visible_to(OrgCode(OTHER), "370285101201", node)
    assert not visible_to(OrgCode(TOWNSHIP), None, node)
    assert visible_to(node, None, node)


def test_a_settlement_is_logged_where_the_unit_is_hosted() -> None:
    county = Topology.of(COUNTY, [OTHER])
    assert audit_org(county, TOWNSHIP) == TOWNSHIP
    # A unit of a township node of its own (a copy parked at the county): logged at the county.
    assert audit_org(county, "370285102201") == COUNTY
    assert audit_org(county, None) == COUNTY


def test_a_dead_letter_is_settled_once() -> None:
    ensure_open("open")
    for status in ("replayed", "discarded"):
        with pytest.raises(NotOpen) as settled:
            ensure_open(status)
        assert settled.value.status == 409 and "已" in settled.value.detail


@pytest.mark.parametrize("reason", ["", "   ", "sent by mistake", "原因" * 251])
def test_a_discard_reason_is_given_in_chinese_and_short(reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        discard_reason(reason)
    assert fields(refused) == ["reason"]


def test_a_discard_reason_is_kept_trimmed() -> None:
    assert discard_reason("  测试误发 ") == "测试误发"


def test_a_replay_applies_the_event_as_parked_or_corrected_and_keeps_its_id() -> None:
    good = event()
    raw = good.model_dump_json()
    assert replay_envelope(raw, good.id) == good
    corrected = replay_envelope(raw, good.id, data=good.data | {"material_codes": ["M2"]})
    assert corrected.id == good.id and corrected.data["material_codes"] == ["M2"]
    other = good.model_dump(mode="json") | {"org": OTHER}
    assert replay_envelope("not json", good.id, envelope=other).org == OTHER


def test_a_correction_that_does_not_fit_names_the_field() -> None:
    good = event()
    raw = good.model_dump_json()
    with pytest.raises(InvalidInput) as refused:
        replay_envelope(raw, good.id, data=good.data | {"material_codes": "M1"})
    assert fields(refused) == ["data.material_codes"]
    with pytest.raises(InvalidInput) as refused:
        replay_envelope(raw, good.id, envelope=good.model_dump(mode="json") | {"id": "another"})
    assert fields(refused) == ["envelope.id"]
    with pytest.raises(InvalidInput) as refused:
        replay_envelope(raw, good.id, envelope=good.model_dump(mode="json") | {"org": "1"})
    assert fields(refused) == ["envelope.org"]
    with pytest.raises(InvalidInput) as refused:
        replay_envelope(raw, good.id, data={}, envelope={})
    assert fields(refused) == ["envelope"]


def test_an_unreadable_event_needs_a_whole_envelope() -> None:
    for payload in ("not json", '{"id": "x"}'):
        with pytest.raises(InvalidInput) as refused:
            replay_envelope(payload, None)
        assert fields(refused) == ["envelope"]
    with pytest.raises(InvalidInput) as refused:
        replay_envelope("[1, 2]", None, data={"a": 1})
    assert fields(refused) == ["data"]


def test_error_paths_follow_the_api_vocabulary() -> None:
    assert error_path("data", ("materials", 2, "code")) == "data.materials[2].code"
    assert error_path("envelope", ()) == "envelope"


def test_an_error_is_kept_short_and_storable() -> None:
    assert short_error("a\x00b\ud800c") == "a\\u0000b?c"
    assert len(short_error("错" * 5000)) == 1000
