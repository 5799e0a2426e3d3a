"""Whether an item may be accepted here and now, and what an accepted case is promised."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from daiban_common.auth import Role
from daiban_common.calendar import CountedDate, WorkCalendar
from daiban_common.errors import FieldError, InvalidInput
from daiban_contracts.case import Channel, ItemRef
from daiban_contracts.catalogue import ItemKind, ItemStatus, ItemVersionData
from daiban_contracts.orgcodes import OrgCode


def in_force(versions: Iterable[ItemVersionData], today: date) -> ItemVersionData | None:
    """The version in force today: the latest whose effective date has come (retirements included)."""
    current = [v for v in versions if v.effective_date <= today]
    return max(current, key=lambda v: v.version, default=None)


def ensure_acceptable(item: ItemVersionData | None, *, org: OrgCode, channel: Channel) -> ItemVersionData:
    """422 naming the field if the item cannot be accepted at `org` through `channel`."""
    if item is None:
        raise InvalidInput.field("item_code", "事项不存在或尚未生效，请核对事项编码")
    if item.status is ItemStatus.retired:
        raise InvalidInput.field("item_code", f"事项“{item.name}”已废止，不能受理")
    if not org.is_within(OrgCode.parse(item.implementing_org)):
        raise InvalidInput.field("item_code", f"事项“{item.name}”不属于受理单位所在地的事项目录")
    if org.tier not in item.acceptable_tiers:
        tiers = "、".join(tier.label for tier in item.acceptable_tiers) or "无"
        raise InvalidInput(
            f"事项“{item.name}”不能在{org.tier.label}受理",
            errors=[FieldError("org", f"该事项可受理层级为：{tiers}")],
        )
    if channel is Channel.online and not item.online_available:
        raise InvalidInput.field("channel", f"事项“{item.name}”不支持网上办理")
    return item


def ensure_on_the_spot_allowed(
    item: ItemVersionData,
    *,
    org: OrgCode,
    role: Role,
    has_deficiencies: bool,
    refused_without_reason: bool = False,
) -> None:
    """An immediate item (即办件) is concluded at the window only where its tier decides, by a clerk.

    A refusal on the spot is a returned case (退回件) like any other: it must say why.
    """
    problems: list[str] = []
    if refused_without_reason:
        problems.append("当场不予办理须写明理由（reasons）")
    if item.kind is not ItemKind.immediate:
        problems.append(f"只有即办件可以当场办结，该事项是{item.kind.label}")
    if org.tier is not item.handling_level:
        problems.append(f"该事项由{item.handling_level.label}办理，不能在{org.tier.label}当场办结")
    if role is not Role.clerk:
        problems.append("当场办结须由窗口工作人员办理")
    if has_deficiencies:
        problems.append("容缺受理的办件须补齐材料后办结，不能当场办结")
    if problems:
        raise InvalidInput("不能当场办结", errors=[FieldError("on_the_spot", p) for p in problems])


def promised_date(calendar: WorkCalendar, accepted_on: date, item: ItemVersionData) -> CountedDate:
    """Counted in working days from the day after acceptance (immediate items promise 0: the same day)."""
    return calendar.add_working_days(accepted_on, item.promised_working_days)


def item_ref(item: ItemVersionData) -> ItemRef:
    return ItemRef(
        implementation_code=item.implementation_code,
        base_code=item.base_code,
        version=item.version,
        name=item.name,
        kind=item.kind,
        handling_level=item.handling_level,
        implementing_org=item.implementing_org,
        lead_department=item.departments.lead,
        other_departments=item.departments.others,
        statutory_working_days=item.statutory_working_days,
        promised_working_days=item.promised_working_days,
        special_procedures=tuple(limit.procedure for limit in item.special_procedures),
    )
