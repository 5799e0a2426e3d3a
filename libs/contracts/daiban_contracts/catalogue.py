"""Wire contract of a catalogue item version (政务服务事项实施清单), and the event that carries it.

The catalogue service at the county node is the only producer; intake and routing keep replicas
fed by `daiban.catalogue.item_published.v1`. Every published version travels whole, so a replica
never needs to ask the catalogue anything.

Identifiers:
- `base_code` is the national base code: type letters, main item, sub item (`XK-00105-001`).
- `implementation_code` names one implementation of a base item by an org unit:
  `<base_code>-<implementing_org>-<NN>` (`XK-00105-001-370285000000-01`). It is the item's identity
  and never changes across versions, not even when a delegation moves the item to another
  department; the department that decides is in `departments`, the tier in `handling_level`.
- Departments are `<tier>.<slug>` (`county.civil_affairs`, `township.civil_affairs`,
  `village.committee`). A county item names the one county bureau; a township or village item names
  the office that every township (or village) has, and routing resolves it to the concrete
  department of the unit that handles the case. The tier in the id lets a consumer check a
  department against the handling level without a lookup.

Retirement is a version too (`status=retired`) and travels as an ordinary `ItemPublished`: one
event type keeps a replica's ordering simple, and no consumer can miss a retirement by not
subscribing to a second type. Delegation likewise is recorded on the version (`delegation`).

Content fields carry types only, no cross-field rules: the catalogue's domain validates drafts
with Chinese messages naming each field before anything is published, and a pydantic error here
would pre-empt those messages.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from daiban_contracts.envelope import EventData, event_type
from daiban_contracts.integers import SafeInt
from daiban_contracts.orgcodes import Tier
from daiban_contracts.text import StoredText

__all__ = [
    "BASE_CODE_PATTERN",
    "CURRENCY",
    "DEPARTMENT_CODE_PATTERN",
    "IMPLEMENTATION_CODE_PATTERN",
    "Delegation",
    "Departments",
    "Fee",
    "HandlingLevel",
    "ItemContent",
    "ItemKind",
    "ItemPublished",
    "ItemStatus",
    "ItemType",
    "ItemVersionData",
    "LegalBasis",
    "Material",
    "MaterialForm",
    "MaterialSource",
    "SpecialProcedure",
    "SpecialProcedureLimit",
    "Tier",
    "department_tier",
]

BASE_CODE_PATTERN = r"^[A-Z]{2,4}-\d{5}-\d{3}$"
IMPLEMENTATION_CODE_PATTERN = r"^[A-Z]{2,4}-\d{5}-\d{3}-\d{12}-\d{2}$"
DEPARTMENT_CODE_PATTERN = r"^(village|township|county)\.[a-z][a-z0-9_]*$"
CURRENCY = "CNY"

_DEPARTMENT_RE = re.compile(DEPARTMENT_CODE_PATTERN)

# The tier that decides. `above_county` is for escalated items (上报件), decided by an authority
# above the county while the centre carries the procedure for the citizen.
HandlingLevel = Tier


class ItemType(StrEnum):
    """The kind of power or service (事项类型); the base code starts with its letters."""

    administrative_licensing = "administrative_licensing"
    administrative_confirmation = "administrative_confirmation"
    administrative_payment = "administrative_payment"
    administrative_reward = "administrative_reward"
    administrative_filing = "administrative_filing"
    administrative_levy = "administrative_levy"
    administrative_adjudication = "administrative_adjudication"
    other_administrative_power = "other_administrative_power"
    public_service = "public_service"

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]

    @property
    def code_prefix(self) -> str:
        """The letters a base code of this type starts with (XK for 行政许可, ...)."""
        return _TYPE_PREFIXES[self]


_TYPE_LABELS = {
    ItemType.administrative_licensing: "行政许可",
    ItemType.administrative_confirmation: "行政确认",
    ItemType.administrative_payment: "行政给付",
    ItemType.administrative_reward: "行政奖励",
    ItemType.administrative_filing: "行政备案",
    ItemType.administrative_levy: "行政征收",
    ItemType.administrative_adjudication: "行政裁决",
    ItemType.other_administrative_power: "其他行政权力",
    ItemType.public_service: "公共服务",
}
# Pinyin initials as used in provincial implementation lists (许可 XK, 确认 QR, 给付 JF ...).
_TYPE_PREFIXES = {
    ItemType.administrative_licensing: "XK",
    ItemType.administrative_confirmation: "QR",
    ItemType.administrative_payment: "JF",
    ItemType.administrative_reward: "JL",
    ItemType.administrative_filing: "BA",
    ItemType.administrative_levy: "ZS",
    ItemType.administrative_adjudication: "CJ",
    ItemType.other_administrative_power: "QT",
    ItemType.public_service: "GG",
}


class ItemKind(StrEnum):
    """How a case of the item is handled (五件五制; 退回件 is an outcome, not a kind)."""

    immediate = "immediate"
    promised = "promised"
    joint = "joint"
    escalated = "escalated"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    ItemKind.immediate: "即办件",
    ItemKind.promised: "承诺件",
    ItemKind.joint: "联办件",
    ItemKind.escalated: "上报件",
}


class MaterialForm(StrEnum):
    original = "original"
    copy = "copy"
    electronic = "electronic"

    @property
    def label(self) -> str:
        return _FORM_LABELS[self]


_FORM_LABELS = {
    MaterialForm.original: "原件",
    MaterialForm.copy: "复印件",
    MaterialForm.electronic: "电子材料",
}


class MaterialSource(StrEnum):
    """Who produces the material: the applicant, or a government body (then it can be fetched)."""

    applicant = "applicant"
    government = "government"

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]


_SOURCE_LABELS = {MaterialSource.applicant: "申请人自备", MaterialSource.government: "政府部门核发"}


class SpecialProcedure(StrEnum):
    """Procedures that pause the clock (特别程序)."""

    site_survey = "site_survey"
    expert_review = "expert_review"
    hearing = "hearing"
    public_notice = "public_notice"

    @property
    def label(self) -> str:
        return _PROCEDURE_LABELS[self]


_PROCEDURE_LABELS = {
    SpecialProcedure.site_survey: "现场勘察",
    SpecialProcedure.expert_review: "专家评审",
    SpecialProcedure.hearing: "听证",
    SpecialProcedure.public_notice: "公示",
}


class ItemStatus(StrEnum):
    published = "published"
    retired = "retired"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {ItemStatus.published: "已发布", ItemStatus.retired: "已废止"}


def department_tier(code: str) -> Tier:
    """The tier a department id sits at: `township.civil_affairs` -> township."""
    if not _DEPARTMENT_RE.fullmatch(code):
        raise ValueError(f"部门编码格式错误：{code}")
    return Tier(code.split(".", 1)[0])


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LegalBasis(_Wire):
    law: StoredText = Field(description="Title of the law or regulation, e.g. 《婚姻登记条例》")
    article: StoredText = Field(description="Article(s), e.g. 第四条")


class Material(_Wire):
    code: StoredText = Field(description="Short id, stable across versions of the item, e.g. M01")
    name: StoredText
    form: MaterialForm
    copies: SafeInt
    required: bool = True
    condition: StoredText | None = Field(default=None, description="When a non-required material is needed")
    core: bool = Field(default=False, description="Core materials are never waived (不可容缺)")
    deficiency_allowed: bool = Field(default=False, description="May be supplied later (容缺受理)")
    source: MaterialSource = MaterialSource.applicant
    notes: StoredText | None = None
    template_url: StoredText | None = None


class Fee(_Wire):
    free: bool = True
    amount_fen: SafeInt = 0
    currency: StoredText = CURRENCY
    basis: StoredText | None = Field(default=None, description="The document that authorises the charge")


class SpecialProcedureLimit(_Wire):
    procedure: SpecialProcedure
    max_working_days: SafeInt


class Departments(_Wire):
    """Implementing departments: one lead; joint items (联办件) add the others."""

    lead: StoredText = Field(description="Department id <tier>.<slug>, e.g. county.civil_affairs")
    others: tuple[StoredText, ...] = ()


class Delegation(_Wire):
    """How a version's handling level came to be: a delegation (下放) or its reversal (收回)."""

    from_level: HandlingLevel
    to_level: HandlingLevel
    from_lead_department: StoredText
    reason: str
    delegated_at_version: int = Field(ge=1, description="The version the move created")

    @property
    def moves_down(self) -> bool:
        return self.to_level.rank < self.from_level.rank


class ItemContent(_Wire):
    """What an administrator edits; a version adds the derived and publishing fields."""

    base_code: StoredText = Field(description="Type letters + main item + sub item, e.g. XK-00105-001")
    implementation_code: StoredText = Field(
        description="<base_code>-<implementing_org>-<NN>; the item's identity"
    )
    name: StoredText
    type: ItemType
    kind: ItemKind
    handling_level: HandlingLevel
    acceptable_tiers: tuple[Tier, ...] = Field(description="Tiers whose points may accept applications")
    implementing_org: StoredText = Field(
        description="12-digit code of the org unit whose catalogue holds the item"
    )
    departments: Departments
    deciding_authority: StoredText | None = Field(
        default=None, description="For escalated items: the authority above the county that decides"
    )
    legal_basis: tuple[LegalBasis, ...]
    conditions: tuple[StoredText, ...] = ()
    materials: tuple[Material, ...]
    statutory_working_days: SafeInt
    promised_working_days: SafeInt
    special_procedures: tuple[SpecialProcedureLimit, ...] = ()
    hall_visits_required: SafeInt = 0
    online_available: bool = False
    fee: Fee = Fee()
    green_channel_eligible: bool = False
    keywords: tuple[StoredText, ...] = ()


class ItemVersionData(ItemContent):
    """One published (or retired) version of an item, immutable once published."""

    name_pinyin: str = Field(description="Full pinyin of the name without spaces, for search")
    name_initials: str = Field(description="Pinyin initials of the name, e.g. sfz for 身份证")
    version: int = Field(ge=1)
    status: ItemStatus
    effective_date: date
    published_at: datetime
    delegation: Delegation | None = Field(
        default=None, description="The latest delegation or reversal, carried forward by later versions"
    )
    previous_version: int | None = Field(default=None, ge=1)
    change_note: str | None = Field(default=None, description="Why this version was made")

    @field_validator("published_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("published_at must carry a UTC offset")
        return value


@event_type("daiban.catalogue.item_published.v1")
class ItemPublished(EventData):
    """A new version of an item is in force from its effective date (retirements included)."""

    item: ItemVersionData
