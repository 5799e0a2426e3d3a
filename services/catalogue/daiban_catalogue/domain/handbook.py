"""What the convenience handbook (便民服务手册) says about an item, in the words printed for citizens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from daiban_contracts.catalogue import Fee, ItemVersionData, Tier
from daiban_contracts.orgcodes import OrgCode


def acceptable_at(version: ItemVersionData, org: OrgCode) -> bool:
    """Can a citizen start the item at `org`? Its tier accepts it and the item is implemented above it."""
    return org.tier in version.acceptable_tiers and org.is_within(OrgCode(version.implementing_org))


def implementing_orgs_for(org: OrgCode) -> list[str]:
    """The org units whose items `org` may accept: itself and every unit above it (for SQL `IN`)."""
    return [org.value, *(ancestor.value for ancestor in org.ancestors())]


def where_decided(version: ItemVersionData, department_names: Mapping[str, str]) -> str:
    """`县（市、区）莱西市民政局审批`, or for escalated items the authority and who carries the case."""
    lead = department_names.get(version.departments.lead, version.departments.lead)
    if version.handling_level is Tier.above_county:
        return f"由{version.deciding_authority}审批，{lead}全程代办"
    others = [department_names.get(code, code) for code in version.departments.others]
    if others:
        return f"{version.handling_level.label}{lead}牵头，会同{'、'.join(others)}并联审批"
    return f"{version.handling_level.label}{lead}办理"


def fee_text(fee: Fee) -> str:
    """`免费` or `收费12.50元（依据…）`: money is kept in fen and printed in yuan."""
    if fee.free:
        return "免费"
    yuan, fen = divmod(fee.amount_fen, 100)
    basis = f"（依据{fee.basis}）" if fee.basis else ""
    return f"收费{yuan}.{fen:02d}元{basis}"


def handbook_order(versions: Iterable[ItemVersionData]) -> list[ItemVersionData]:
    """Grouped by lead department, then by name, as the printed handbook lists them."""
    return sorted(versions, key=lambda v: (v.departments.lead, v.name_pinyin, v.implementation_code))
