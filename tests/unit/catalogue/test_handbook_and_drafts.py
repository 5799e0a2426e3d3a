"""The pure helpers behind the API: handbook wording, merge patches, identity, dates, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from daiban_catalogue.domain import (
    InvalidDraft,
    ItemDraft,
    ensure_not_retroactive,
    identity_changes,
    merge_patch,
    validate_draft,
)
from daiban_catalogue.domain.handbook import acceptable_at, fee_text, implementing_orgs_for, where_decided
from daiban_catalogue.seed.catalogue import load_demo_catalogue
from daiban_catalogue.seed.history import replay_demo_history
from daiban_contracts.catalogue import Fee, ItemVersionData
from daiban_contracts.orgcodes import OrgCode

DEMO = load_demo_catalogue()
HISTORY = replay_demo_history(DEMO)
NAMES = {d.code: d.name for d in DEMO.departments}


def current(name: str) -> ItemVersionData:
    found: ItemVersionData = next(v[-1] for v in HISTORY.values() if v[-1].name == name)
    return found


def test_where_decided_names_the_tier_department_and_joint_partners() -> None:
    assert where_decided(current("内地居民结婚登记"), NAMES) == "县（市、区）莱西市民政局办理"
    joint = where_decided(current("建设工程规划许可证核发"), NAMES)
    assert joint.startswith("县（市、区）青岛市自然资源和规划局莱西分局牵头，会同") and joint.endswith(
        "并联审批"
    )
    assert where_decided(current("烈士评定"), NAMES).endswith("莱西市退役军人事务局全程代办")


def test_fee_text_prints_yuan_from_fen() -> None:
    assert fee_text(Fee()) == "免费"
    assert (
        fee_text(Fee(free=False, amount_fen=1205, basis="鲁价费发〔2019〕1号"))
        == "收费12.05元（依据鲁价费发〔2019〕1号）"
    )


def test_acceptable_at_needs_the_tier_and_the_implementing_subtree() -> None:
    low_income = current("最低生活保障审核确认")  # village and township points
    assert acceptable_at(low_income, OrgCode("370285101201"))
    assert acceptable_at(low_income, OrgCode("370285101000"))
    assert not acceptable_at(low_income, OrgCode("370285000000"))
    assert not acceptable_at(low_income, OrgCode("370283101201"))  # another county's village
    assert implementing_orgs_for(OrgCode("370285101201")) == [
        "370285101201",
        "370285101000",
        "370285000000",
        "370200000000",
        "370000000000",
    ]


def test_merge_patch_follows_rfc_7396() -> None:
    target = {"a": 1, "fee": {"free": False, "basis": "x"}, "list": [1, 2]}
    patched = merge_patch(target, {"a": None, "fee": {"basis": None, "amount_fen": 5}, "list": [3]})
    assert patched == {"fee": {"free": False, "amount_fen": 5}, "list": [3]}
    assert target["a"] == 1  # the target is not changed in place


def test_identity_fields_cannot_change() -> None:
    draft = DEMO.drafts[0]
    moved = ItemDraft.model_validate({**draft.model_dump(), "implementing_org": "370285101000"})
    assert [v.field for v in identity_changes(draft, moved)] == ["implementing_org"]
    assert identity_changes(draft, draft) == []


def test_new_versions_are_not_retroactive() -> None:
    today = datetime(2025, 3, 1, tzinfo=UTC).date()
    ensure_not_retroactive(today, today)
    with pytest.raises(InvalidDraft) as caught:
        ensure_not_retroactive(date(2025, 2, 28), today)
    assert caught.value.fields == {"effective_date"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"statutory_working_days": 10**9, "promised_working_days": 10**9}, "statutory_working_days"),
        ({"hall_visits_required": 1000}, "hall_visits_required"),
        ({"fee": {"free": False, "amount_fen": 10**13, "basis": "x"}}, "fee.amount_fen"),
    ],
)
def test_absurd_numbers_are_refused(changes: dict[str, object], field: str) -> None:
    draft = ItemDraft.model_validate({**DEMO.drafts[1].model_dump(), **changes})
    found = validate_draft(draft, known_departments=DEMO.department_codes, known_orgs=DEMO.org_codes)
    assert field in {v.field for v in found}
