"""Subjects: where each event is published and the filters the tiers read with."""

from __future__ import annotations

import pytest

from daiban_contracts.audit import CheckpointSigned
from daiban_contracts.case import CaseAccepted
from daiban_contracts.catalogue import ItemPublished
from daiban_contracts.envelope import Envelope
from daiban_contracts.orgcodes import InvalidOrgCode
from daiban_contracts.subjects import CopyKind, Subjects
from daiban_devtools.demo.inprocess import subject_matches

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
    # Six tokens: the catch-all of a subtree takes its events, never the copies for other nodes.
    assert subjects.within(COUNTY) == "daiban.370285.*.*.*.*"
    assert subjects.within(TOWNSHIP) == "daiban.370285.101.*.*.*"
    assert subjects.within(VILLAGE) == "daiban.370285.101.201.*.*"
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


def test_a_copy_is_addressed_to_a_node_and_says_why() -> None:
    subject = Subjects().copy(TOWNSHIP, CopyKind.progress, CaseAccepted)
    assert subject == "daiban.370285.101.000.copy.progress.case.accepted"
    assert not subject_matches(Subjects().within(COUNTY), subject)
    assert not subject_matches(Subjects().within(COUNTY, CaseAccepted), subject)
    assert subject_matches(Subjects().node_stream(TOWNSHIP)[0], subject)
    # A stream may hold the event and its copy: their message ids differ, or one would be dropped.
    assert Subjects.message_id("e1", "daiban.370285.101.000.case.decided") == "e1"
    assert Subjects.message_id("e1", subject) == "e1+progress.case.accepted"


def test_each_subject_space_is_owned_by_exactly_one_node_stream() -> None:
    subjects = Subjects()
    county = subjects.node_stream(COUNTY, [TOWNSHIP, "370285102000"])
    township = subjects.node_stream(TOWNSHIP)
    assert township == ["daiban.370285.101.>"]
    assert len(county) == 999 and "daiban.370200.000.000.>" in county
    assert "daiban.370285.000.>" in county and "daiban.370285.103.>" in county
    streams = [*county, *township, *subjects.node_stream("370285102000")]
    for subject in [
        "daiban.370285.101.201.case.accepted",
        "daiban.370285.101.000.copy.progress.case.decided",
        "daiban.370285.000.000.case.forwarded",
        "daiban.370285.102.000.copy.published.catalogue.item_published",
        "daiban.370285.103.201.case.accepted",
    ]:
        owners = [f for f in streams if subject_matches(f, subject)]
        assert len(owners) <= 1, (subject, owners)
    # A county node without township nodes keeps its whole county.
    assert subjects.node_stream(COUNTY) == ["daiban.370285.>", "daiban.370200.000.000.>"]


def test_a_node_is_a_county_or_a_township() -> None:
    with pytest.raises(InvalidOrgCode):
        Subjects().node_stream(VILLAGE)
    with pytest.raises(InvalidOrgCode):
        Subjects().node_stream(COUNTY, ["370211101000"])


def test_ingress_subject_names_the_system_and_stays_off_event_filters() -> None:
    from daiban_contracts.case import CaseSupplemented

    subjects = Subjects()
    subject = subjects.ingress("370285101294", "jiangshan-hall", CaseSupplemented)
    assert subject == "daiban.370285.101.294.ingress.jiangshan-hall.case.supplemented"
    assert subjects.ingress_within("370285101000") == "daiban.370285.101.*.ingress.*.*.*"
    assert (
        subjects.ingress_within("370285000000", "jiangshan-hall", CaseSupplemented)
        == "daiban.370285.*.*.ingress.jiangshan-hall.case.supplemented"
    )
    # Six-token event filters never match an eight-token ingress subject.
    assert len(subjects.within("370285101000").split(".")) == 6
    assert len(subject.split(".")) == 8


def test_system_ids_are_one_readable_token() -> None:
    import pytest

    from daiban_contracts.ingress import InvalidSystemId, check_system_id, system_actor, system_source

    assert system_source("jiangshan-hall") == "/systems/jiangshan-hall"
    assert system_actor("jiangshan-hall") == "system:jiangshan-hall"
    for bad in ("Hall", "a.b", "x", "hall*", "hall>", "9hall"):
        with pytest.raises(InvalidSystemId):
            check_system_id(bad)
