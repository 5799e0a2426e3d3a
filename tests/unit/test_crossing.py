"""What crosses between nodes: which copies a node writes of the events it emits, and the lanes its
relay holds back while a link is down."""

from __future__ import annotations

import pytest
from sqlalchemy import column
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from daiban_common.relay import OutboxLanes
from daiban_contracts.calendar import CalendarYearPublished
from daiban_contracts.case import CaseAccepted, CaseHandedOver
from daiban_contracts.catalogue import ItemPublished
from daiban_contracts.crossing import Topology, accepting_org, leaf_permissions
from daiban_contracts.envelope import EventData
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.routing import CaseDecided, CaseForwarded
from daiban_contracts.subjects import CopyKind, Subjects

COUNTY, T101, T102 = (
    OrgCode.parse("370285000000"),
    OrgCode.parse("370285101000"),
    OrgCode.parse("370285102000"),
)
VILLAGE = OrgCode.parse("370285101294")
BOTH = [(T101, CopyKind.published), (T102, CopyKind.published)]
CASE_AT_101 = "370285101294-20261206-0001"
CASE_AT_103 = "370285103201-20261206-0001"

county_node = Topology.of(COUNTY, [T101, T102])
township_node = Topology.of(T101)
single_node = Topology.of(COUNTY)


def test_a_case_number_names_the_org_that_accepted_it() -> None:
    assert accepting_org(CASE_AT_101) == OrgCode.parse("370285101294")
    assert accepting_org("JF-00401-001-370285000000-01") is None


@pytest.mark.parametrize(
    ("topology", "event", "org", "subject", "copies"),
    [
        # The county decides a case a township node accepted: the township's intake gets a copy.
        (county_node, CaseDecided, COUNTY, CASE_AT_101, [(T101, CopyKind.progress)]),
        # ... and one the county node accepted itself: a copy for its own intake.
        (county_node, CaseDecided, COUNTY, CASE_AT_103, [(COUNTY, CopyKind.progress)]),
        (single_node, CaseDecided, COUNTY, CASE_AT_101, [(COUNTY, CopyKind.progress)]),
        # A township forwards up: its own intake follows; the county counts the forward itself.
        (township_node, CaseForwarded, COUNTY, CASE_AT_101, [(T101, CopyKind.progress)]),
        # A township decides its own case: progress at home, a countywide copy for the statistics.
        (
            township_node,
            CaseDecided,
            T101,
            CASE_AT_101,
            [(T101, CopyKind.progress), (COUNTY, CopyKind.countywide)],
        ),
        (
            township_node,
            CaseAccepted,
            OrgCode.parse("370285101294"),
            CASE_AT_101,
            [(COUNTY, CopyKind.countywide)],
        ),
        # Nothing the county's views do not need goes up.
        (township_node, CaseHandedOver, VILLAGE, CASE_AT_101, []),
        # The county's publications go down to every township node; a single node sends nothing.
        (
            county_node,
            ItemPublished,
            COUNTY,
            "JF-1",
            [(T101, CopyKind.published), (T102, CopyKind.published)],
        ),
        (
            county_node,
            CalendarYearPublished,
            COUNTY,
            "2027",
            [(T101, CopyKind.published), (T102, CopyKind.published)],
        ),
        (single_node, ItemPublished, COUNTY, "JF-1", []),
        (township_node, ItemPublished, COUNTY, "JF-1", []),
    ],
)
def test_which_copies_a_node_sends(
    topology: Topology,
    event: type[EventData],
    org: OrgCode,
    subject: str,
    copies: list[tuple[OrgCode, CopyKind]],
) -> None:
    assert topology.copies(event.event_type, org, subject) == copies


def test_the_relay_holds_back_only_the_lane_of_a_link_that_is_down() -> None:
    subjects = Subjects()
    lanes = OutboxLanes(subjects, county_node)
    assert lanes.lane_of("daiban.370285.101.294.copy.progress.case.decided") == T101.value
    assert lanes.lane_of("daiban.370285.102.000.case.returned_down") == T102.value
    assert lanes.lane_of("daiban.370285.000.000.case.decided") is None
    assert lanes.hold(T101.value) and not lanes.hold(T101.value)
    condition = lanes.open_rows(column("subject"))
    dialect: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    sql = str(condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    assert "NOT LIKE 'daiban.370285.101.%%'" in sql and "102" not in sql
    assert lanes.release(T101.value) and not lanes.release(T101.value)

    up = OutboxLanes(subjects, township_node)
    assert up.lane_of("daiban.370285.000.000.case.forwarded") == COUNTY.value
    assert up.lane_of("daiban.370285.101.294.case.accepted") is None
    up.hold(COUNTY.value)
    sql = str(up.open_rows(column("subject")).compile(compile_kwargs={"literal_binds": True}))
    assert "LIKE 'daiban.370285.101.%'" in sql and "NOT" not in sql


def test_a_township_leaf_may_send_up_only_what_the_county_takes_from_it() -> None:
    allowed = leaf_permissions(Subjects(), T101)
    # Type by type: a forward up and a checkpoint cross, the catalogue's publications never do.
    assert "daiban.370285.000.000.case.forwarded" in allowed.publish
    assert "daiban.370285.000.000.audit.checkpoint_signed" in allowed.publish
    assert "daiban.370285.000.000.copy.countywide.case.accepted" in allowed.publish
    assert "daiban.370285.000.000.catalogue.item_published" not in allowed.publish
    # A township node's routing publishes the directory of its county when it imports it.
    assert "daiban.370285.000.000.directory.org_units_published" in allowed.publish
    assert not any(">" in subject or subject.endswith("*.*") for subject in allowed.publish[:-1])
    assert allowed.publish[-1] == "_INBOX.>"
    assert allowed.subscribe == ("daiban.370285.101.>", "_INBOX.>")
