from __future__ import annotations

from datetime import date, timedelta

import pytest

from daiban_common.auth import Role
from daiban_common.calendar import WorkCalendar
from daiban_common.errors import InvalidInput
from daiban_contracts.case import Channel
from daiban_contracts.catalogue import ItemKind, ItemStatus, Tier
from daiban_contracts.orgcodes import OrgCode
from daiban_intake.domain.acceptance import (
    ensure_acceptable,
    ensure_on_the_spot_allowed,
    in_force,
    promised_date,
)
from tests.unit.intake.items import item

VILLAGE = OrgCode("370285101201")
TOWNSHIP = OrgCode("370285101000")


def test_the_latest_version_already_effective_is_in_force() -> None:
    today = date.today()
    v1, v2 = item(version=1), item(version=2)
    future = item(version=3).model_copy(update={"effective_date": today + timedelta(days=10)})
    assert in_force([v2, v1, future], today) == v2
    assert in_force([future], today) is None


@pytest.mark.parametrize(
    ("version", "org", "channel", "field"),
    [
        (None, VILLAGE, Channel.agent, "item_code"),
        (item(status=ItemStatus.retired), VILLAGE, Channel.agent, "item_code"),
        (item(acceptable_tiers=(Tier.township,)), VILLAGE, Channel.agent, "org"),
        (item(), OrgCode("370283101201"), Channel.agent, "item_code"),  # another county's catalogue
        (item(), VILLAGE, Channel.online, "channel"),
    ],
)
def test_items_that_cannot_be_accepted_name_the_field(
    version: object, org: OrgCode, channel: Channel, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        ensure_acceptable(version, org=org, channel=channel)  # type: ignore[arg-type]
    assert raised.value.errors[0].field == field


def test_on_the_spot_only_for_immediate_items_by_a_clerk_of_the_deciding_tier() -> None:
    immediate = item(kind=ItemKind.immediate, handling_level=Tier.township)
    ensure_on_the_spot_allowed(immediate, org=TOWNSHIP, role=Role.clerk, has_deficiencies=False)
    with pytest.raises(InvalidInput) as raised:
        ensure_on_the_spot_allowed(item(), org=VILLAGE, role=Role.agent, has_deficiencies=True)
    assert len(raised.value.errors) == 4


def test_promised_date_counts_working_days_from_the_day_after() -> None:
    calendar = WorkCalendar()  # no year known: Monday to Friday, provisional
    friday = date(2031, 1, 3)
    counted = promised_date(calendar, friday, item(promised_working_days=1))
    assert counted.date == date(2031, 1, 6) and counted.provisional
    assert promised_date(calendar, friday, item(promised_working_days=0)).date == friday
