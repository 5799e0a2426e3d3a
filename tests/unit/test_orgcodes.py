"""Division codes: validation, tiers and the hierarchy."""

from __future__ import annotations

import pytest

from daiban_contracts.orgcodes import (
    InvalidOrgCode,
    OrgCode,
    Tier,
    hops_up,
    is_valid_org_code,
)

PROVINCE = OrgCode("370000000000")
PREFECTURE = OrgCode("370200000000")
COUNTY = OrgCode("370285000000")
TOWNSHIP = OrgCode("370285101000")
VILLAGE = OrgCode("370285101201")


def test_parse_strips_whitespace() -> None:
    assert OrgCode.parse(" 370285101201\n") == VILLAGE
    assert str(VILLAGE) == "370285101201"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "37028510120",  # 11 digits
        "3702851012010",  # 13 digits
        "37028510120X",
        "３７０２８５１０１２０１",  # full-width digits are not ASCII
        "370285 101201",
        "990285101201",  # no such province
        "100285101201",
        "370285000201",  # a village under no township
        "370200101000",  # a township directly under a prefecture
        "370000000201",
    ],
)
def test_parse_rejects(raw: str) -> None:
    with pytest.raises(InvalidOrgCode) as caught:
        OrgCode.parse(raw)
    assert isinstance(caught.value, ValueError)
    assert not is_valid_org_code(raw)


def test_invalid_code_message_is_chinese() -> None:
    with pytest.raises(InvalidOrgCode, match="区划代码必须是12位数字"):
        OrgCode.parse("12345")


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InvalidOrgCode):
        OrgCode("370285000201")


def test_is_valid_org_code() -> None:
    assert is_valid_org_code("370285101201")
    assert is_valid_org_code("820000000000")
    assert not is_valid_org_code("000000000000")


def test_parts() -> None:
    assert (VILLAGE.county6, VILLAGE.township3, VILLAGE.village3) == ("370285", "101", "201")


@pytest.mark.parametrize(
    ("code", "tier"),
    [
        (VILLAGE, Tier.village),
        (TOWNSHIP, Tier.township),
        (COUNTY, Tier.county),
        (PREFECTURE, Tier.above_county),
        (PROVINCE, Tier.above_county),
    ],
)
def test_tier(code: OrgCode, tier: Tier) -> None:
    assert code.tier is tier


def test_tier_labels_and_ranks() -> None:
    assert Tier.village.label == "村（社区）"
    assert Tier.township.label == "乡镇（街道）"
    assert Tier.county.label == "县（市、区）"
    assert Tier.above_county.label == "县级以上"
    assert [t.rank for t in (Tier.village, Tier.township, Tier.county, Tier.above_county)] == [0, 1, 2, 3]
    assert Tier("township") is Tier.township


def test_parent_chain() -> None:
    assert VILLAGE.parent == TOWNSHIP
    assert TOWNSHIP.parent == COUNTY
    assert COUNTY.parent == PREFECTURE
    assert PREFECTURE.parent == PROVINCE
    assert PROVINCE.parent is None
    assert VILLAGE.ancestors() == [TOWNSHIP, COUNTY, PREFECTURE, PROVINCE]
    assert PROVINCE.ancestors() == []


def test_subtree_prefix() -> None:
    assert VILLAGE.subtree_prefix == "370285101201"
    assert TOWNSHIP.subtree_prefix == "370285101"
    assert COUNTY.subtree_prefix == "370285"
    assert PREFECTURE.subtree_prefix == "3702"
    assert PROVINCE.subtree_prefix == "37"


def test_is_within() -> None:
    for above in (VILLAGE, TOWNSHIP, COUNTY, PREFECTURE, PROVINCE):
        assert VILLAGE.is_within(above)
    assert COUNTY.is_within(COUNTY)
    assert not COUNTY.is_within(TOWNSHIP)
    assert not VILLAGE.is_within(OrgCode("370285102000"))
    assert not VILLAGE.is_within(OrgCode("370283000000"))
    assert not OrgCode("370285101202").is_within(VILLAGE)


def test_county_and_township() -> None:
    assert VILLAGE.county == COUNTY
    assert COUNTY.county == COUNTY
    assert VILLAGE.township == TOWNSHIP
    assert TOWNSHIP.township == TOWNSHIP
    assert COUNTY.township is None
    with pytest.raises(InvalidOrgCode):
        _ = PREFECTURE.county


def test_subject_tokens() -> None:
    assert VILLAGE.subject_tokens == "370285.101.201"
    assert COUNTY.subject_tokens == "370285.000.000"


def test_hops_up() -> None:
    assert hops_up(VILLAGE, Tier.county) == [TOWNSHIP, COUNTY]
    assert hops_up("370285101201", Tier.township) == [TOWNSHIP]
    assert hops_up(TOWNSHIP, Tier.county) == [COUNTY]
    assert hops_up(COUNTY, Tier.above_county) == [PREFECTURE]
    assert hops_up(TOWNSHIP, Tier.township) == []
    assert hops_up(COUNTY, Tier.township) == []
    assert hops_up(VILLAGE, Tier.village) == []
