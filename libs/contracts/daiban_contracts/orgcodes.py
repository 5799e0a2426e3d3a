"""Org units as China's 12-digit statistical division codes (统计用区划代码).

A code reads `PPCCDD TTT VVV`: province, prefecture and county digits (the "county6"), then
township and village. Zeros on the right mark a higher unit: `370285000000` is a county,
`370285101000` a township, `370285101201` a village, `370200000000` a prefecture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# GB/T 2260 province-level codes. The set has been stable since Chongqing (50) in 1997, so a code
# outside it is a typo rather than a new province.
_PROVINCES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")


class InvalidOrgCode(ValueError):
    """A string that is not a usable division code; the message is shown to people."""


class Tier(StrEnum):
    village = "village"
    township = "township"
    county = "county"
    # A prefecture or province: the network ends at the county, but escalated items (上报件)
    # are decided up there, so such codes still have to be representable.
    above_county = "above_county"

    @property
    def label(self) -> str:
        return _TIER_LABELS[self]

    @property
    def rank(self) -> int:
        """Height in the hierarchy, for comparisons: village 0 up to above_county 3."""
        return _TIER_RANKS[self]


_TIER_LABELS = {
    Tier.village: "村（社区）",
    Tier.township: "乡镇（街道）",
    Tier.county: "县（市、区）",
    Tier.above_county: "县级以上",
}
_TIER_RANKS = {Tier.village: 0, Tier.township: 1, Tier.county: 2, Tier.above_county: 3}


@dataclass(frozen=True, slots=True)
class OrgCode:
    """A validated 12-digit division code. Construct with `parse` for untrusted input."""

    value: str

    def __post_init__(self) -> None:
        # Validating here rather than only in parse() means no invalid OrgCode can exist.
        value = self.value
        if not isinstance(value, str) or not _TWELVE_DIGITS.fullmatch(value):
            raise InvalidOrgCode("区划代码必须是12位数字")
        if value[:2] not in _PROVINCES:
            raise InvalidOrgCode(f"区划代码的省级部分“{value[:2]}”不存在")
        if value[9:] != "000" and value[6:9] == "000":
            raise InvalidOrgCode("区划代码的乡镇部分为0时，村级部分也必须为0")
        if value[4:6] == "00" and value[6:] != "000000":
            raise InvalidOrgCode("县级以上区划代码的乡镇和村级部分必须为0")

    @classmethod
    def parse(cls, raw: str) -> OrgCode:
        return cls(raw.strip())

    def __str__(self) -> str:
        return self.value

    @property
    def county6(self) -> str:
        return self.value[:6]

    @property
    def township3(self) -> str:
        return self.value[6:9]

    @property
    def village3(self) -> str:
        return self.value[9:]

    @property
    def tier(self) -> Tier:
        if self.village3 != "000":
            return Tier.village
        if self.township3 != "000":
            return Tier.township
        if self.value[4:6] != "00":
            return Tier.county
        return Tier.above_county

    @property
    def parent(self) -> OrgCode | None:
        """The unit directly above: village -> township -> county -> prefecture -> province -> None."""
        county6 = self.county6
        match self.tier:
            case Tier.village:
                return OrgCode(self.value[:9] + "000")
            case Tier.township:
                return OrgCode(county6 + "000000")
            case Tier.county:
                return OrgCode(county6[:4] + "00" + "000000")
            case Tier.above_county:
                if county6[2:4] == "00":
                    return None
                return OrgCode(county6[:2] + "0000" + "000000")

    @property
    def subtree_prefix(self) -> str:
        """The code prefix shared by this unit and everything below it (for SQL `LIKE prefix%`)."""
        match self.tier:
            case Tier.village:
                return self.value
            case Tier.township:
                return self.value[:9]
            case Tier.county:
                return self.county6
            case Tier.above_county:
                return self.county6[:2] if self.county6[2:4] == "00" else self.county6[:4]

    def is_within(self, other: OrgCode) -> bool:
        """True if this unit is `other` or lies anywhere below it."""
        # Prefix logic is sound only because validation forces the digits right of a unit's level to 0.
        return self.value.startswith(other.subtree_prefix)

    @property
    def county(self) -> OrgCode:
        """The county this unit belongs to (itself for a county); raises for units above a county."""
        if self.tier is Tier.above_county:
            raise InvalidOrgCode(f"区划代码{self.value}是县级以上单位，不属于任何县")
        return OrgCode(self.county6 + "000000")

    @property
    def township(self) -> OrgCode | None:
        """The township this unit belongs to (itself for a township); None for a county or above."""
        if self.tier in (Tier.village, Tier.township):
            return OrgCode(self.value[:9] + "000")
        return None

    @property
    def subject_tokens(self) -> str:
        return f"{self.county6}.{self.township3}.{self.village3}"

    def ancestors(self) -> list[OrgCode]:
        """Every unit above this one, nearest first, ending with the province."""
        chain: list[OrgCode] = []
        current = self.parent
        while current is not None:
            chain.append(current)
            current = current.parent
        return chain


def _as_org(org: str | OrgCode) -> OrgCode:
    return org if isinstance(org, OrgCode) else OrgCode.parse(org)


def is_valid_org_code(raw: str) -> bool:
    try:
        OrgCode.parse(raw)
    except InvalidOrgCode:
        return False
    return True


def hops_up(from_org: str | OrgCode, to_tier: Tier) -> list[OrgCode]:
    """The units a case passes through going up from `from_org` (excluded) to the first unit of `to_tier`.

    Empty if `from_org` already is at or above `to_tier`.
    """
    hops: list[OrgCode] = []
    current = _as_org(from_org)
    while current.tier.rank < to_tier.rank:
        parent = current.parent
        if parent is None:  # pragma: no cover - only a province has no parent, and it is the top tier
            break
        hops.append(parent)
        current = parent
    return hops


# What `OrgCode` accepts, as one regular expression for the OpenAPI documents (`pattern` of every
# org parameter): a known province, then either a county or higher code ending in eight zeros, or
# a county with a township part and a village part, a zero township meaning a zero village.
# Written without look-arounds, which JSON Schema generators do not all support.
ORG_CODE_PATTERN: Final = (
    "^(?:"
    + "|".join(sorted(_PROVINCES))
    + ")[0-9]{2}(?:0{8}|(?:0[1-9]|[1-9][0-9])(?:0{6}|(?:00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})[0-9]{3}))$"
)
