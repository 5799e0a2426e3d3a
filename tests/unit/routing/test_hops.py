import pytest

from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_routing.domain.hops import RouteError, StepKind, next_hop_down, next_step_up, route_down, route_up

VILLAGE, TOWNSHIP, COUNTY = OrgCode("370285101294"), OrgCode("370285101000"), OrgCode("370285000000")


def test_a_county_item_accepted_at_a_village_goes_up_twice() -> None:
    assert route_up(VILLAGE, Tier.county) == [TOWNSHIP, COUNTY]
    assert next_step_up(VILLAGE, Tier.county).org == TOWNSHIP
    assert next_step_up(COUNTY, Tier.county).kind is StepKind.decide


def test_an_item_of_the_accepting_tier_is_decided_there() -> None:
    assert route_up(TOWNSHIP, Tier.township) == []
    assert next_step_up(VILLAGE, Tier.village).kind is StepKind.decide


def test_an_escalated_item_stops_at_the_county_which_carries_it_up() -> None:
    assert route_up(VILLAGE, Tier.above_county) == [TOWNSHIP, COUNTY]
    assert next_step_up(COUNTY, Tier.above_county).kind is StepKind.escalate


def test_a_township_item_at_the_county_cannot_be_routed() -> None:
    with pytest.raises(RouteError, match="乡镇"):
        next_step_up(COUNTY, Tier.township)


def test_the_decision_travels_back_down_hop_by_hop() -> None:
    assert route_down(COUNTY, VILLAGE) == [TOWNSHIP, VILLAGE]
    assert next_hop_down(TOWNSHIP, VILLAGE) == VILLAGE
    assert next_hop_down(VILLAGE, VILLAGE) is None
    with pytest.raises(RouteError):
        next_hop_down(OrgCode("370285102000"), VILLAGE)
