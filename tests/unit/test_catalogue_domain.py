"""The catalogue's domain rules: validation, search keys, versions, delegation, diff, reform stats."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any, TypedDict

import pytest
from pydantic import ValidationError

from daiban_catalogue.domain import (
    FieldChange,
    InvalidDraft,
    ItemDraft,
    VersionConflict,
    Violation,
    delegate,
    derive_search_keys,
    describe_reform,
    diff,
    draft_from_version,
    ensure_valid,
    matches_query,
    percent,
    publish,
    reform_stats,
    refuse_version_edit,
    retire,
    validate_draft,
)
from daiban_catalogue.seed.catalogue import DemoCatalogue, load_demo_catalogue
from daiban_catalogue.seed.history import replay_demo_history
from daiban_contracts.catalogue import (
    Departments,
    ItemKind,
    ItemPublished,
    ItemStatus,
    ItemType,
    ItemVersionData,
    SpecialProcedure,
    Tier,
)
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_contracts.subjects import Subjects

COUNTY = "370285000000"
KNOWN_DEPARTMENTS = frozenset(
    {
        "county.civil_affairs",
        "county.housing",
        "county.natural_resources",
        "county.public_security",
        "township.civil_affairs",
        "village.committee",
    }
)
KNOWN_ORGS = frozenset({COUNTY})


class Known(TypedDict):
    known_departments: frozenset[str]
    known_orgs: frozenset[str]


KNOWN = Known(known_departments=KNOWN_DEPARTMENTS, known_orgs=KNOWN_ORGS)
NOW = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
DAY1 = date(2024, 3, 1)
DAY2 = date(2024, 6, 1)


def raw_item(**changes: Any) -> dict[str, Any]:
    """A valid county-decided promised item as submitted JSON, with `changes` applied."""
    item: dict[str, Any] = {
        "base_code": "JF-00405-001",
        "implementation_code": "JF-00405-001-370285000000-01",
        "name": "80周岁以上老年人高龄津贴发放",
        "type": "administrative_payment",
        "kind": "promised",
        "handling_level": "county",
        "acceptable_tiers": ["village", "township", "county"],
        "implementing_org": COUNTY,
        "departments": {"lead": "county.civil_affairs", "others": []},
        "legal_basis": [{"law": "《中华人民共和国老年人权益保障法》", "article": "第三十三条"}],
        "conditions": ["年满80周岁"],
        "materials": [
            {"code": "M01", "name": "高龄津贴申请表", "form": "original", "copies": 1, "core": True},
            {"code": "M02", "name": "居民身份证", "form": "copy", "copies": 2, "core": True},
            {"code": "M03", "name": "银行卡", "form": "copy", "copies": 1, "deficiency_allowed": True},
        ],
        "statutory_working_days": 20,
        "promised_working_days": 10,
        "hall_visits_required": 0,
        "online_available": True,
        "keywords": ["高龄津贴", "老年人补贴"],
    }
    item.update(changes)
    return item


def make_draft(**changes: Any) -> ItemDraft:
    return ItemDraft.model_validate(raw_item(**changes))


def material(code: str, **changes: Any) -> dict[str, Any]:
    return {"code": code, "name": f"材料{code}", "form": "original", "copies": 1, **changes}


def violations(**changes: Any) -> list[Violation]:
    return validate_draft(make_draft(**changes), **KNOWN)


def first_version(**changes: Any) -> ItemVersionData:
    return publish(make_draft(**changes), None, effective_date=DAY1, now=NOW, **KNOWN)


# --- validation ------------------------------------------------------------------------------


def test_a_valid_draft_has_no_violations() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"promised_working_days": 25}, "promised_working_days", "承诺时限不能超过法定时限"),
        (
            {"kind": "immediate", "promised_working_days": 3},
            "promised_working_days",
            "即办件的承诺时限必须为0",
        ),
        ({"promised_working_days": 0}, "promised_working_days", "非即办件的承诺时限至少为1个工作日"),
        ({"statutory_working_days": -1}, "statutory_working_days", "法定时限不能为负数"),
        ({"kind": "joint"}, "departments.others", "联办件至少需要两个部门"),
        (
            {"departments": {"lead": "county.civil_affairs", "others": ["county.housing"]}},
            "departments.others",
            "只有联办件可以有协办部门",
        ),
        (
            {"kind": "joint", "departments": {"lead": "county.housing", "others": ["county.housing"]}},
            "departments.others[0]",
            "部门重复",
        ),
        (
            {"departments": {"lead": "county.unknown_bureau"}},
            "departments.lead",
            "未知部门：county.unknown_bureau",
        ),
        ({"departments": {"lead": "民政局"}}, "departments.lead", "部门编码格式错误"),
        (
            {"departments": {"lead": "township.civil_affairs"}},
            "departments.lead",
            "办理部门须为县（市、区）部门",
        ),
        ({"implementing_org": "370285101000"}, "implementing_org", "未知的区划单位：370285101000"),
        ({"implementing_org": "37028"}, "implementing_org", "区划代码必须是12位数字"),
        ({"base_code": "XK-105-1"}, "base_code", "事项编码格式错误"),
        ({"base_code": "xk-00105-001"}, "base_code", "事项编码格式错误"),
        ({"base_code": "XK-00405-001"}, "base_code", "事项编码的类型字母应为JF（行政给付）"),
        ({"implementation_code": "JF-00405-001"}, "item_code", "实施编码格式错误"),
        (
            {"implementation_code": "JF-00405-002-370285000000-01"},
            "item_code",
            "实施编码须由本事项的事项编码和实施区划代码组成",
        ),
        ({"name": "  "}, "name", "事项名称不能为空"),
        ({"kind": "escalated"}, "handling_level", "上报件的办理层级必须为县级以上"),
        ({"kind": "escalated"}, "deciding_authority", "上报件须写明县级以上的审批机关"),
        ({"handling_level": "above_county"}, "handling_level", "只有上报件的办理层级可以为县级以上"),
        (
            {"deciding_authority": "山东省人民政府"},
            "deciding_authority",
            "只有上报件需要填写县级以上审批机关",
        ),
        ({"acceptable_tiers": []}, "acceptable_tiers", "至少需要一个受理层级"),
        ({"acceptable_tiers": ["county", "county"]}, "acceptable_tiers[1]", "受理层级重复"),
        ({"acceptable_tiers": ["above_county"]}, "acceptable_tiers[0]", "受理层级只能是村、镇或县级"),
        (
            {
                "handling_level": "township",
                "departments": {"lead": "township.civil_affairs"},
                "acceptable_tiers": ["village", "county"],
            },
            "acceptable_tiers[1]",
            "受理层级不能高于办理层级（乡镇（街道））",
        ),
        ({"legal_basis": []}, "legal_basis", "至少需要一条设定依据"),
        ({"legal_basis": [{"law": "《条例》", "article": " "}]}, "legal_basis[0].article", "条款不能为空"),
        ({"conditions": [""]}, "conditions[0]", "受理条件不能为空白"),
        ({"materials": []}, "materials", "至少需要一项申请材料"),
        (
            {"materials": [material("M01", core=True, deficiency_allowed=True)]},
            "materials[0].deficiency_allowed",
            "核心材料不能容缺",
        ),
        ({"materials": [material("M01"), material("M01")]}, "materials[1].code", "材料编号重复：M01"),
        ({"materials": [material("A1")]}, "materials[0].code", "材料编号应为M加两到三位数字"),
        ({"materials": [material("M01", copies=0)]}, "materials[0].copies", "份数至少为1"),
        (
            {"materials": [material("M01", required=False)]},
            "materials[0].condition",
            "非必需材料须写明需要提交的情形",
        ),
        (
            {"materials": [material("M01", condition="已婚的")]},
            "materials[0].condition",
            "必需材料不应填写提交情形",
        ),
        (
            {"materials": [material("M01", template_url="ftp://x")]},
            "materials[0].template_url",
            "样表链接须为http或https地址",
        ),
        ({"fee": {"free": True, "amount_fen": 500}}, "fee.amount_fen", "免费事项的收费金额必须为0"),
        (
            {"fee": {"free": False, "amount_fen": 0, "basis": "某文件"}},
            "fee.amount_fen",
            "收费事项的金额必须大于0",
        ),
        ({"fee": {"free": False, "amount_fen": 1000}}, "fee.basis", "收费事项须写明收费依据"),
        ({"fee": {"free": True, "currency": "USD"}}, "fee.currency", "币种只能是CNY"),
        (
            {
                "kind": "immediate",
                "promised_working_days": 0,
                "special_procedures": [{"procedure": "site_survey", "max_working_days": 5}],
            },
            "special_procedures",
            "即办件当场办结，不能有特别程序",
        ),
        (
            {
                "special_procedures": [
                    {"procedure": "hearing", "max_working_days": 5},
                    {"procedure": "hearing", "max_working_days": 0},
                ]
            },
            "special_procedures[1].procedure",
            "特别程序重复：听证",
        ),
        (
            {"special_procedures": [{"procedure": "hearing", "max_working_days": 0}]},
            "special_procedures[0].max_working_days",
            "特别程序的时限至少为1个工作日",
        ),
        ({"hall_visits_required": -1}, "hall_visits_required", "到现场次数不能为负数"),
        ({"keywords": ["低保", " 低 保"]}, "keywords[1]", "关键词重复"),
    ],
)
def test_each_bad_input_names_its_field(changes: dict[str, Any], field: str, message: str) -> None:
    found = violations(**changes)
    assert any(v.field == field and message in v.message for v in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = violations(
        base_code="XK-1",
        promised_working_days=30,
        kind="joint",
        materials=[material("M01", copies=0, core=True, deficiency_allowed=True)],
    )
    fields = {v.field for v in found}
    assert {
        "base_code",
        "promised_working_days",
        "departments.others",
        "materials[0].copies",
        "materials[0].deficiency_allowed",
    } <= fields


def test_ensure_valid_raises_with_every_violation() -> None:
    with pytest.raises(InvalidDraft) as caught:
        ensure_valid(make_draft(promised_working_days=30, kind="immediate"), **KNOWN)
    assert caught.value.violations == (
        Violation("promised_working_days", "承诺时限不能超过法定时限"),
        Violation("promised_working_days", "即办件的承诺时限必须为0"),
    )


def test_an_escalated_item_is_carried_by_a_county_department() -> None:
    escalated = {
        "kind": "escalated",
        "handling_level": "above_county",
        "deciding_authority": "山东省人民政府",
    }
    assert violations(**escalated, acceptable_tiers=["county"]) == []


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pinyin", "initials"),
    [
        ("身份证", "shenfenzheng", "sfz"),
        ("居民身份证（临时）", "juminshenfenzhenglinshi", "jmsfzls"),
        ("银行卡", "yinhangka", "yhk"),
        ("重度残疾人护理补贴", "zhongducanjirenhulibutie", "zdcjrhlbt"),
        ("绿色通道", "lvsetongdao", "lstd"),
        ("80周岁以上老年人高龄津贴", "80zhousuiyishanglaonianrengaolingjintie", "80zsyslnrgljt"),
    ],
)
def test_search_keys_use_the_default_reading(name: str, pinyin: str, initials: str) -> None:
    assert derive_search_keys(name) == (pinyin, initials)


def test_queries_match_chinese_pinyin_initials_keywords_and_codes() -> None:
    demo = load_demo_catalogue()
    versions = [publish(d, None, effective_date=DAY1, now=NOW, **_demo_known(demo)) for d in demo.drafts]

    def names(q: str) -> set[str]:
        return {v.name for v in versions if matches_query(v, q)}

    assert names("sfz") == {"临时居民身份证核发", "居民身份证换领（有效期满）"}
    assert names("SFZ") == names(" s f z ") == names("ＳＦＺ") == names("sfz")
    assert "临时居民身份证核发" in names("linshi jumin")
    assert names("领证") == {"内地居民结婚登记"}
    assert names("低保") == {"最低生活保障审核确认"}
    assert names("xk-00702") == {"建设工程规划许可证核发"}
    assert len(names("")) == len(versions)
    assert names("no such thing") == set()


# --- versions --------------------------------------------------------------------------------


def test_first_publish_makes_version_one_with_derived_keys() -> None:
    v1 = first_version()
    assert (v1.version, v1.previous_version, v1.status) == (1, None, ItemStatus.published)
    assert (v1.name_pinyin, v1.name_initials) == derive_search_keys(v1.name)
    assert (v1.effective_date, v1.published_at, v1.delegation) == (DAY1, NOW, None)


def test_publishing_an_unchanged_draft_is_a_conflict() -> None:
    v1 = first_version()
    with pytest.raises(VersionConflict) as caught:
        publish(draft_from_version(v1), v1, effective_date=DAY2, now=NOW, **KNOWN)
    assert caught.value.fields == {"draft"}


def test_publishing_a_change_makes_the_next_version() -> None:
    v1 = first_version()
    v2 = publish(
        make_draft(promised_working_days=5), v1, effective_date=DAY2, now=NOW, note="压缩时限", **KNOWN
    )
    assert (v2.version, v2.previous_version, v2.promised_working_days, v2.change_note) == (
        2,
        1,
        5,
        "压缩时限",
    )
    assert v1.promised_working_days == 10


def test_publish_rejects_an_invalid_draft_with_every_violation() -> None:
    with pytest.raises(InvalidDraft) as caught:
        publish(
            make_draft(promised_working_days=30, base_code="X"), None, effective_date=DAY1, now=NOW, **KNOWN
        )
    assert {"promised_working_days", "base_code"} <= caught.value.fields


@pytest.mark.parametrize(
    ("changes", "effective_date", "field"),
    [
        (
            {"base_code": "JF-00406-001", "implementation_code": "JF-00406-001-370285000000-01"},
            DAY2,
            "item_code",
        ),
        (
            {
                "handling_level": "township",
                "departments": {"lead": "township.civil_affairs"},
                "acceptable_tiers": ["village", "township"],
            },
            DAY2,
            "handling_level",
        ),
        ({"promised_working_days": 5}, date(2024, 1, 1), "effective_date"),
    ],
)
def test_publish_keeps_identity_level_and_order(
    changes: dict[str, Any], effective_date: date, field: str
) -> None:
    v1 = first_version()
    with pytest.raises(InvalidDraft) as caught:
        publish(make_draft(**changes), v1, effective_date=effective_date, now=NOW, **KNOWN)
    assert field in caught.value.fields


def test_publish_wants_an_aware_time() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        publish(make_draft(), None, effective_date=DAY1, now=datetime(2024, 3, 1), **KNOWN)


def test_a_published_version_cannot_be_edited() -> None:
    v1 = first_version()
    with pytest.raises(VersionConflict) as caught:
        refuse_version_edit(v1)
    assert caught.value.violations[0].field == "version"
    with pytest.raises(ValidationError):
        v1.promised_working_days = 3  # type: ignore[misc]


# --- diff ------------------------------------------------------------------------------------


def test_diff_reports_fields_and_materials_by_code() -> None:
    v1 = first_version()
    changed = raw_item(
        promised_working_days=5,
        departments={"lead": "county.civil_affairs", "others": []},
        materials=[
            raw_item()["materials"][0],
            {**raw_item()["materials"][1], "copies": 1, "form": "electronic"},
            material("M04", required=False, condition="委托代办的"),
        ],
        fee={"free": False, "amount_fen": 1000, "basis": "某收费文件"},
    )
    v2 = publish(ItemDraft.model_validate(changed), v1, effective_date=DAY2, now=NOW, **KNOWN)
    assert diff(v1, v2) == [
        FieldChange(field="materials[M02].form", before="copy", after="electronic"),
        FieldChange(field="materials[M02].copies", before=2, after=1),
        FieldChange(field="materials[M03]", before=v1.materials[2].model_dump(mode="json"), after=None),
        FieldChange(field="materials[M04]", before=None, after=v2.materials[2].model_dump(mode="json")),
        FieldChange(field="promised_working_days", before=10, after=5),
        FieldChange(field="fee.free", before=True, after=False),
        FieldChange(field="fee.amount_fen", before=0, after=1000),
        FieldChange(field="fee.basis", before=None, after="某收费文件"),
    ]
    assert diff(v1, v1) == []


def test_diff_reports_reordering_and_status() -> None:
    v1 = first_version()
    materials = raw_item()["materials"]
    v2 = publish(
        make_draft(materials=[materials[1], materials[0], materials[2]]),
        v1,
        effective_date=DAY2,
        now=NOW,
        **KNOWN,
    )
    assert diff(v1, v2) == [
        FieldChange(field="materials.order", before=["M01", "M02", "M03"], after=["M02", "M01", "M03"])
    ]
    v3 = retire(v2, reason="事项取消", effective_date=DAY2, now=NOW)
    assert diff(v2, v3) == [FieldChange(field="status", before="published", after="retired")]


# --- delegation and retirement ---------------------------------------------------------------


def test_delegation_moves_the_level_down_and_reversal_moves_it_back() -> None:
    v1 = first_version()
    v2 = delegate(
        v1,
        to_level=Tier.township,
        departments=Departments(lead="township.civil_affairs"),
        reason="下放至镇（街道）实施",
        effective_date=DAY2,
        now=NOW,
        **KNOWN,
    )
    assert (v2.version, v2.handling_level, v2.acceptable_tiers) == (
        2,
        Tier.township,
        (Tier.village, Tier.township),
    )
    assert v2.departments.lead == "township.civil_affairs"
    assert v2.delegation is not None and v2.delegation.moves_down
    assert (
        v2.delegation.from_level,
        v2.delegation.from_lead_department,
        v2.delegation.delegated_at_version,
    ) == (
        Tier.county,
        "county.civil_affairs",
        2,
    )

    # Later edits carry the record forward: the version still says where the item came from.
    v3 = publish(
        make_draft(
            handling_level="township",
            departments={"lead": "township.civil_affairs"},
            acceptable_tiers=["village", "township"],
            promised_working_days=5,
        ),
        v2,
        effective_date=DAY2,
        now=NOW,
        **KNOWN,
    )
    assert v3.delegation == v2.delegation

    v4 = delegate(
        v3,
        to_level=Tier.county,
        departments=Departments(lead="county.civil_affairs"),
        reason="收回县级实施",
        effective_date=DAY2,
        now=NOW,
        **KNOWN,
    )
    assert v4.delegation is not None and not v4.delegation.moves_down
    assert (v4.delegation.from_level, v4.delegation.to_level, v4.delegation.delegated_at_version) == (
        Tier.township,
        Tier.county,
        4,
    )
    assert v4.acceptable_tiers == v1.acceptable_tiers
    assert [c.field for c in diff(v1, v4)] == ["promised_working_days"]


def test_delegation_needs_a_new_level_a_reason_and_departments_of_that_tier() -> None:
    v1 = first_version()
    with pytest.raises(InvalidDraft) as caught:
        delegate(
            v1,
            to_level=Tier.county,
            departments=v1.departments,
            reason=" ",
            effective_date=DAY2,
            now=NOW,
            **KNOWN,
        )
    assert caught.value.fields == {"to_level", "reason"}
    with pytest.raises(InvalidDraft) as caught:
        delegate(
            v1,
            to_level=Tier.township,
            departments=v1.departments,
            reason="下放",
            effective_date=DAY2,
            now=NOW,
            **KNOWN,
        )
    assert caught.value.fields == {"departments.lead"}


def test_bringing_an_escalated_item_down_to_the_county_makes_it_promised() -> None:
    v1 = first_version(
        kind="escalated",
        handling_level="above_county",
        deciding_authority="青岛市民政局",
        acceptable_tiers=["county"],
    )
    v2 = delegate(
        v1,
        to_level=Tier.county,
        departments=v1.departments,
        reason="承接上级下放事权",
        effective_date=DAY2,
        now=NOW,
        **KNOWN,
    )
    assert (v2.kind, v2.handling_level, v2.deciding_authority) == (ItemKind.promised, Tier.county, None)


def test_retiring_is_a_version_and_happens_once() -> None:
    v1 = first_version()
    v2 = retire(v1, reason="上级取消该事项", effective_date=DAY2, now=NOW)
    assert (v2.version, v2.status, v2.change_note, v2.previous_version) == (
        2,
        ItemStatus.retired,
        "上级取消该事项",
        1,
    )
    assert diff(v1, v2) == [FieldChange(field="status", before="published", after="retired")]
    with pytest.raises(VersionConflict):
        retire(v2, reason="again", effective_date=DAY2, now=NOW)
    with pytest.raises(VersionConflict):
        delegate(
            v2,
            to_level=Tier.township,
            departments=Departments(lead="township.civil_affairs"),
            reason="下放",
            effective_date=DAY2,
            now=NOW,
            **KNOWN,
        )
    with pytest.raises(InvalidDraft) as caught:
        retire(v1, reason="", effective_date=DAY2, now=NOW)
    assert caught.value.fields == {"reason"}
    # Reinstating a retired item with the same content is a real change of state, so it publishes.
    v3 = publish(draft_from_version(v2), v2, effective_date=DAY2, now=NOW, **KNOWN)
    assert (v3.version, v3.status) == (3, ItemStatus.published)


# --- reform statistics -----------------------------------------------------------------------


def test_reform_stats_by_hand() -> None:
    three = [material("M01"), material("M02"), material("M03")]
    a_then = first_version(promised_working_days=15, materials=three)
    a_now = publish(
        make_draft(promised_working_days=5, materials=three[:1]),
        a_then,
        effective_date=DAY2,
        now=NOW,
        **KNOWN,
    )
    b_codes = {"base_code": "JF-00406-001", "implementation_code": "JF-00406-001-370285000000-01"}
    b_then = first_version(**b_codes, statutory_working_days=10, promised_working_days=10)
    b_now = publish(
        make_draft(**b_codes, statutory_working_days=10, promised_working_days=0, kind="immediate"),
        b_then,
        effective_date=DAY2,
        now=NOW,
        **KNOWN,
    )
    c_codes = {"base_code": "JF-00407-001", "implementation_code": "JF-00407-001-370285000000-01"}
    c_retired = retire(first_version(**c_codes), reason="取消", effective_date=DAY2, now=NOW)

    stats = reform_stats([a_now, b_now, c_retired], [a_then, b_then])
    # Statutory 20 + 10 = 30, promised 5 + 0 = 5: 25 days compressed, 25/30 = 83.33%.
    # Baseline promised 15 + 10 = 25 -> 5: 20 days, 80.00%. Item A lost M02 and M03.
    assert stats.model_dump() == {
        "item_count": 2,
        "statutory_working_days_total": 30,
        "promised_working_days_total": 5,
        "compressed_working_days": 25,
        "compression_rate_percent": 83.33,
        "immediate_item_count": 1,
        "material_count": 1 + 3,
        "baseline_item_count": 2,
        "baseline_promised_working_days_total": 25,
        "promised_reduction_working_days": 20,
        "promised_reduction_percent": 80.0,
        "baseline_immediate_item_count": 0,
        "baseline_material_count": 3 + 3,
        "materials_cut": 2,
        "delegated_item_count": 0,
    }
    assert "总承诺时限由25个工作日压缩至5个工作日，共压缩20个工作日，总压缩率为80.00%" in describe_reform(
        stats
    )


def test_percent_rounds_half_up_like_the_hui_an_report() -> None:
    # 惠安: 11184 -> 2726 working days, 8458 compressed, "总压缩率为75.63%".
    assert percent(11184 - 2726, 11184) == 75.63
    assert percent(1, 8) == 12.5
    assert percent(1, 0) == 0.0


# --- demo catalogue --------------------------------------------------------------------------


def _demo_known(demo: DemoCatalogue) -> Known:
    return Known(known_departments=demo.department_codes, known_orgs=demo.org_codes)


def test_the_demo_catalogue_loads_and_meets_the_issue_mix() -> None:
    demo = load_demo_catalogue()
    drafts = demo.drafts
    assert len(drafts) >= 32
    kinds = Counter(d.kind for d in drafts)
    assert kinds[ItemKind.immediate] >= 5
    assert kinds[ItemKind.promised] >= 10
    assert kinds[ItemKind.joint] >= 3
    assert kinds[ItemKind.escalated] >= 2
    joint = [d for d in drafts if d.kind is ItemKind.joint]
    assert all(d.departments.others for d in joint)
    assert any(p.procedure is SpecialProcedure.site_survey for d in joint for p in d.special_procedures)
    assert all(d.handling_level is Tier.above_county for d in drafts if d.kind is ItemKind.escalated)
    assert {Tier.village, Tier.township, Tier.county} <= {d.handling_level for d in drafts}
    assert len({d.implementation_code for d in drafts}) == len(drafts)
    assert any(not d.fee.free for d in drafts)
    assert sum(d.fee.free for d in drafts) > len(drafts) / 2
    assert any(d.green_channel_eligible for d in drafts)
    assert any(m.deficiency_allowed for d in drafts for m in d.materials)
    assert len({d.type for d in drafts}) == len(ItemType)
    departments = {
        d.departments.lead.split(".")[1] for d in drafts if d.departments.lead.startswith("county.")
    }
    assert {
        "civil_affairs",
        "public_security",
        "health",
        "natural_resources",
        "human_resources",
        "agriculture",
        "market_regulation",
    } <= departments | {o.split(".")[1] for d in drafts for o in d.departments.others}
    assert len(demo.baselines) >= 8


def test_the_demo_history_shows_real_compression() -> None:
    demo = load_demo_catalogue()
    history = replay_demo_history(demo)
    stats = reform_stats([v[-1] for v in history.values()], [v[0] for v in history.values()])
    assert stats.item_count == len(demo.drafts)
    assert stats.promised_working_days_total < stats.baseline_promised_working_days_total
    assert stats.compression_rate_percent > 0
    assert stats.immediate_item_count > stats.baseline_immediate_item_count
    assert stats.materials_cut >= 8
    assert stats.delegated_item_count >= 1
    delegated = [v[-1] for v in history.values() if v[-1].delegation is not None]
    assert all(v.delegation is not None and v.delegation.moves_down for v in delegated)


def test_a_version_survives_the_wire_as_an_event() -> None:
    demo = load_demo_catalogue()
    history = replay_demo_history(demo)
    version = history["JF-00401-001-370285000000-01"][-1]
    envelope = make_envelope(
        ItemPublished(item=version),
        source="/daiban/n370285000000/catalogue",
        subject=version.implementation_code,
        org=version.implementing_org,
        actor="system:catalogue",
    )
    assert envelope.type == "daiban.catalogue.item_published.v1"
    assert Subjects().of(envelope) == "daiban.370285.000.000.catalogue.item_published"
    received = Envelope.from_bytes(envelope.to_bytes()).payload()
    assert isinstance(received, ItemPublished)
    assert received.item == version


def test_enum_labels_read_in_chinese() -> None:
    assert ItemKind.immediate.label == "即办件"
    assert ItemKind.escalated.label == "上报件"
    assert ItemType.administrative_licensing.label == "行政许可"
    assert ItemType.administrative_licensing.code_prefix == "XK"
    assert SpecialProcedure.site_survey.label == "现场勘察"
    assert len({t.code_prefix for t in ItemType}) == len(ItemType)
