"""Subjects: where each event is published and the filters the tiers read with."""

from __future__ import annotations

import pytest

from daiban_contracts.audit import CheckpointSigned
from daiban_contracts.case import CaseAccepted
from daiban_contracts.catalogue import ItemPublished
from daiban_contracts.envelope import Envelope
from daiban_contracts.orgcodes import InvalidOrgCode
from daiban_contracts.subjects import Subjects

COUNTY = "370285000000"
TOWNSHIP = "370285101000"
VILLAGE = "370285101201"


def envelope(type_name: str, org: str) -> Envelope:
    return Envelope.model_validate(
        {
            "id": "e",
            "type": type_name,
            "source": "/t",
            "subject": "C1",
            "time": "2026-12-06T08:00:00+08:00",
            "org": org,
            "data": {},
        }
    )


def test_an_event_is_published_under_its_org_and_type() -> None:
    assert Subjects().of(envelope(CaseAccepted.event_type, VILLAGE)) == "daiban.370285.101.201.case.accepted"
    assert (
        Subjects("test_a").of(envelope(ItemPublished.event_type, COUNTY))
        == "test_a.370285.000.000.catalogue.item_published"
    )


def test_filters_follow_the_tiers() -> None:
    subjects = Subjects()
    assert subjects.within(COUNTY) == "daiban.370285.>"
    assert subjects.within(TOWNSHIP) == "daiban.370285.101.>"
    assert subjects.within(VILLAGE) == "daiban.370285.101.201.>"
    assert subjects.within(COUNTY, CaseAccepted) == "daiban.370285.*.*.case.accepted"
    assert subjects.within(TOWNSHIP, CaseAccepted) == "daiban.370285.101.*.case.accepted"
    assert subjects.within(VILLAGE, CaseAccepted) == "daiban.370285.101.201.case.accepted"


def test_events_addressed_to_one_org() -> None:
    assert Subjects("r").at(COUNTY, CheckpointSigned) == "r.370285.000.000.audit.checkpoint_signed"


def test_a_filter_cannot_span_counties() -> None:
    with pytest.raises(InvalidOrgCode):
        Subjects().within("370200000000")


@pytest.mark.parametrize("root", ["", "Daiban", "a.b", "a>", "x" * 33])
def test_the_root_is_one_plain_token(root: str) -> None:
    with pytest.raises(ValueError):
        Subjects(root)


def test_the_stream_holds_the_whole_network() -> None:
    assert Subjects("daiban").stream == ["daiban.>"]
