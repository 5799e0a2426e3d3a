"""The rules every item draft must satisfy before it can be published.

`validate_draft` returns every violation at once (一次性告知 applies to administrators too), each
naming the field the way a form addresses it: `materials[2].copies` is the third material.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Set

from daiban_catalogue.domain.drafts import HTTP_ITEM_CODE
from daiban_catalogue.domain.errors import InvalidDraft, Violation
from daiban_catalogue.domain.search import normalise
from daiban_contracts.catalogue import (
    BASE_CODE_PATTERN,
    CURRENCY,
    DEPARTMENT_CODE_PATTERN,
    IMPLEMENTATION_CODE_PATTERN,
    ItemContent,
    ItemKind,
    Tier,
    department_tier,
)
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode

_BASE_CODE_RE = re.compile(BASE_CODE_PATTERN)
_IMPLEMENTATION_CODE_RE = re.compile(IMPLEMENTATION_CODE_PATTERN)
_DEPARTMENT_RE = re.compile(DEPARTMENT_CODE_PATTERN)
_MATERIAL_CODE_RE = re.compile(r"^M\d{2,3}$")
_URL_RE = re.compile(r"^https?://\S+$")

# The network's own tiers: points exist at these, not above the county.
ACCEPTING_TIERS = (Tier.village, Tier.township, Tier.county)
# Upper bounds far beyond any real item. They keep absurd numbers out of the versions that
# replicas store in fixed-size columns and of the sums reported in reform statistics.
MAX_WORKING_DAYS = 3650
MAX_COPIES = 99
MAX_HALL_VISITS = 20
MAX_FEE_FEN = 10**12


def validate_draft(
    draft: ItemContent, *, known_departments: Set[str], known_orgs: Set[str]
) -> list[Violation]:
    """Every rule the draft breaks; empty if it may be published."""
    checks = (
        _codes(draft, known_orgs),
        _kind_and_levels(draft),
        _departments(draft, known_departments),
        _time_limits(draft),
        _basis_and_conditions(draft),
        _materials(draft),
        _fee(draft),
        _keywords(draft),
    )
    return [violation for check in checks for violation in check]


def ensure_valid(draft: ItemContent, *, known_departments: Set[str], known_orgs: Set[str]) -> None:
    """Raise `InvalidDraft` carrying every violation, if there is any."""
    violations = validate_draft(draft, known_departments=known_departments, known_orgs=known_orgs)
    if violations:
        raise InvalidDraft(violations)


def deciding_tier(level: Tier) -> Tier:
    """The tier whose departments carry an item: escalated items are carried by the county."""
    return Tier.county if level is Tier.above_county else level


def _codes(draft: ItemContent, known_orgs: Set[str]) -> Iterator[Violation]:
    if not draft.name.strip():
        yield Violation("name", "事项名称不能为空")
    if not _BASE_CODE_RE.match(draft.base_code):
        yield Violation("base_code", "事项编码格式错误，应如XK-00105-001（类型字母-5位主项编码-3位子项编码）")
    elif draft.base_code.split("-", 1)[0] != draft.type.code_prefix:
        prefix = draft.type.code_prefix
        yield Violation("base_code", f"事项编码的类型字母应为{prefix}（{draft.type.label}）")
    try:
        OrgCode.parse(draft.implementing_org)
    except InvalidOrgCode as exc:
        yield Violation("implementing_org", str(exc))
    else:
        if draft.implementing_org not in known_orgs:
            yield Violation("implementing_org", f"未知的区划单位：{draft.implementing_org}")
    if not _IMPLEMENTATION_CODE_RE.match(draft.implementation_code):
        message = "实施编码格式错误，应如XK-00105-001-370285000000-01（事项编码-区划代码-序号）"
        yield Violation(HTTP_ITEM_CODE, message)
    elif not draft.implementation_code.startswith(f"{draft.base_code}-{draft.implementing_org}-"):
        yield Violation(HTTP_ITEM_CODE, "实施编码须由本事项的事项编码和实施区划代码组成")


def _kind_and_levels(draft: ItemContent) -> Iterator[Violation]:
    level = draft.handling_level
    escalated = draft.kind is ItemKind.escalated
    if escalated and level is not Tier.above_county:
        yield Violation("handling_level", "上报件的办理层级必须为县级以上")
    if not escalated and level is Tier.above_county:
        yield Violation("handling_level", "只有上报件的办理层级可以为县级以上")
    if escalated and not (draft.deciding_authority or "").strip():
        yield Violation("deciding_authority", "上报件须写明县级以上的审批机关")
    if not escalated and draft.deciding_authority is not None:
        yield Violation("deciding_authority", "只有上报件需要填写县级以上审批机关")
    if not draft.acceptable_tiers:
        yield Violation("acceptable_tiers", "至少需要一个受理层级")
    seen: set[Tier] = set()
    for i, tier in enumerate(draft.acceptable_tiers):
        field = f"acceptable_tiers[{i}]"
        if tier in seen:
            yield Violation(field, "受理层级重复")
        seen.add(tier)
        if tier not in ACCEPTING_TIERS:
            yield Violation(field, "受理层级只能是村、镇或县级")
        elif tier.rank > level.rank:
            yield Violation(field, f"受理层级不能高于办理层级（{level.label}）")


def _departments(draft: ItemContent, known: Set[str]) -> Iterator[Violation]:
    tier = deciding_tier(draft.handling_level)
    departments = draft.departments
    yield from _department(departments.lead, "departments.lead", tier, known)
    seen = {departments.lead}
    for i, code in enumerate(departments.others):
        field = f"departments.others[{i}]"
        if code in seen:
            yield Violation(field, f"部门重复：{code}")
        seen.add(code)
        yield from _department(code, field, tier, known)
    if draft.kind is ItemKind.joint and not departments.others:
        yield Violation("departments.others", "联办件至少需要两个部门")
    if draft.kind is not ItemKind.joint and departments.others:
        yield Violation("departments.others", "只有联办件可以有协办部门")


def _department(code: str, field: str, tier: Tier, known: Set[str]) -> Iterator[Violation]:
    if not _DEPARTMENT_RE.match(code):
        yield Violation(field, f"部门编码格式错误：{code}，应如county.civil_affairs")
    elif code not in known:
        yield Violation(field, f"未知部门：{code}")
    elif department_tier(code) is not tier:
        # Routing sends a case to the deciding tier; a department elsewhere could never see it.
        yield Violation(field, f"办理部门须为{tier.label}部门")


def _time_limits(draft: ItemContent) -> Iterator[Violation]:
    statutory, promised = draft.statutory_working_days, draft.promised_working_days
    immediate = draft.kind is ItemKind.immediate
    if statutory < 0:
        yield Violation("statutory_working_days", "法定时限不能为负数")
    if promised < 0:
        yield Violation("promised_working_days", "承诺时限不能为负数")
    elif promised > statutory >= 0:
        yield Violation("promised_working_days", "承诺时限不能超过法定时限")
    if statutory > MAX_WORKING_DAYS:
        yield Violation("statutory_working_days", f"法定时限不能超过{MAX_WORKING_DAYS}个工作日")
    if promised > MAX_WORKING_DAYS:
        yield Violation("promised_working_days", f"承诺时限不能超过{MAX_WORKING_DAYS}个工作日")
    if immediate and promised > 0:
        yield Violation("promised_working_days", "即办件的承诺时限必须为0")
    if not immediate and promised == 0:
        yield Violation("promised_working_days", "非即办件的承诺时限至少为1个工作日")
    if immediate and draft.special_procedures:
        yield Violation("special_procedures", "即办件当场办结，不能有特别程序")
    seen = set()
    for i, limit in enumerate(draft.special_procedures):
        if limit.procedure in seen:
            yield Violation(f"special_procedures[{i}].procedure", f"特别程序重复：{limit.procedure.label}")
        seen.add(limit.procedure)
        days_field = f"special_procedures[{i}].max_working_days"
        if limit.max_working_days < 1:
            yield Violation(days_field, "特别程序的时限至少为1个工作日")
        elif limit.max_working_days > MAX_WORKING_DAYS:
            yield Violation(days_field, f"特别程序的时限不能超过{MAX_WORKING_DAYS}个工作日")
    if draft.hall_visits_required < 0:
        yield Violation("hall_visits_required", "到现场次数不能为负数")
    elif draft.hall_visits_required > MAX_HALL_VISITS:
        yield Violation("hall_visits_required", f"到现场次数不能超过{MAX_HALL_VISITS}次")


def _basis_and_conditions(draft: ItemContent) -> Iterator[Violation]:
    if not draft.legal_basis:
        yield Violation("legal_basis", "至少需要一条设定依据")
    for i, basis in enumerate(draft.legal_basis):
        if not basis.law.strip():
            yield Violation(f"legal_basis[{i}].law", "法律法规名称不能为空")
        if not basis.article.strip():
            yield Violation(f"legal_basis[{i}].article", "条款不能为空")
    for i, condition in enumerate(draft.conditions):
        if not condition.strip():
            yield Violation(f"conditions[{i}]", "受理条件不能为空白")


def _materials(draft: ItemContent) -> Iterator[Violation]:
    if not draft.materials:
        yield Violation("materials", "至少需要一项申请材料")
    counts = Counter(m.code for m in draft.materials)
    for i, material in enumerate(draft.materials):
        field = f"materials[{i}]"
        if not _MATERIAL_CODE_RE.match(material.code):
            yield Violation(f"{field}.code", "材料编号应为M加两到三位数字，如M01")
        elif counts[material.code] > 1:
            yield Violation(f"{field}.code", f"材料编号重复：{material.code}")
        if not material.name.strip():
            yield Violation(f"{field}.name", "材料名称不能为空")
        if material.copies < 1:
            yield Violation(f"{field}.copies", "份数至少为1")
        elif material.copies > MAX_COPIES:
            yield Violation(f"{field}.copies", f"份数不能超过{MAX_COPIES}")
        if material.core and material.deficiency_allowed:
            yield Violation(f"{field}.deficiency_allowed", "核心材料不能容缺")
        has_condition = bool((material.condition or "").strip())
        if not material.required and not has_condition:
            yield Violation(f"{field}.condition", "非必需材料须写明需要提交的情形")
        if material.required and material.condition is not None:
            yield Violation(f"{field}.condition", "必需材料不应填写提交情形")
        if material.template_url is not None and not _URL_RE.match(material.template_url):
            yield Violation(f"{field}.template_url", "样表链接须为http或https地址")


def _fee(draft: ItemContent) -> Iterator[Violation]:
    fee = draft.fee
    if fee.currency != CURRENCY:
        yield Violation("fee.currency", "币种只能是CNY")
    if fee.free and fee.amount_fen != 0:
        yield Violation("fee.amount_fen", "免费事项的收费金额必须为0")
    if not fee.free and fee.amount_fen <= 0:
        yield Violation("fee.amount_fen", "收费事项的金额必须大于0")
    if fee.amount_fen > MAX_FEE_FEN:
        yield Violation("fee.amount_fen", "收费金额超出允许范围")
    if not fee.free and not (fee.basis or "").strip():
        yield Violation("fee.basis", "收费事项须写明收费依据")


def _keywords(draft: ItemContent) -> Iterator[Violation]:
    seen: set[str] = set()
    for i, keyword in enumerate(draft.keywords):
        key = normalise(keyword)
        if not key:
            yield Violation(f"keywords[{i}]", "关键词不能为空白")
        elif key in seen:
            yield Violation(f"keywords[{i}]", f"关键词重复：{keyword}")
        seen.add(key)
