"""Request and response bodies of the catalogue API.

Responses are the wire contract plus what a person reads: every enum value comes with its Chinese
label (`kind` / `kind_label`), departments with their names, the fee as text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from daiban_catalogue.domain import FieldChange, ItemDraft, ReformStats
from daiban_catalogue.domain.drafts import HTTP_ITEM_CODE
from daiban_catalogue.domain.handbook import fee_text, where_decided
from daiban_common.errors import InvalidInput
from daiban_common.strict import Day
from daiban_contracts.catalogue import (
    Delegation,
    Departments,
    HandlingLevel,
    ItemContent,
    ItemKind,
    ItemStatus,
    ItemVersionData,
    Material,
    SpecialProcedureLimit,
    Tier,
)
from daiban_contracts.text import StoredText

_TEXT = 500

# The HTTP API names an item's implementation code `item_code`, as every other service does
# (docs/api-vocabulary.md); the wire contract and the tables keep `implementation_code`. The HTTP
# models that carry the contract's fields rename that one field with an alias.
_ITEM_CODE_DESCRIPTION = "The item's implementation code (实施编码), <base_code>-<implementing_org>-<NN>"


def http_names(data: dict[str, Any]) -> dict[str, Any]:
    """A dump of the contract's fields with the implementation code under its HTTP name."""
    renamed = dict(data)
    renamed[HTTP_ITEM_CODE] = renamed.pop("implementation_code")
    return renamed


def wire_patch(patch: dict[str, Any]) -> dict[str, Any]:
    """A merge patch of a draft in the contract's names (the draft is stored in them)."""
    if "implementation_code" in patch:
        # The contract's name is not an HTTP field: refused as any unknown field is.
        raise InvalidInput.field("implementation_code", "不允许的字段")
    if HTTP_ITEM_CODE not in patch:
        return patch
    renamed = dict(patch)
    renamed["implementation_code"] = renamed.pop(HTTP_ITEM_CODE)
    return renamed


class ItemDraftBody(ItemDraft):
    """An item's content as HTTP reads and writes it (the implementation code as `item_code`)."""

    model_config = ConfigDict(serialize_by_alias=True)

    implementation_code: StoredText = Field(alias=HTTP_ITEM_CODE, description=_ITEM_CODE_DESCRIPTION)

    @classmethod
    def of(cls, draft: ItemContent) -> ItemDraftBody:
        return cls.model_validate(http_names(draft.model_dump()))

    def draft(self) -> ItemDraft:
        return ItemDraft.model_validate(self.model_dump(by_alias=False))


# --------------------------------------------------------------------------------------------
# Requests


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublishIn(_Request):
    effective_date: Day | None = Field(default=None, description="Defaults to today (Asia/Shanghai)")
    note: StoredText | None = Field(default=None, max_length=_TEXT, description="Why this version is made")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"effective_date": "2025-01-01", "note": "精简申请材料"}]},
    )


class DelegateIn(_Request):
    """Move the handling level: down is a delegation (下放), up its reversal (收回)."""

    to_level: HandlingLevel
    departments: Departments
    reason: StoredText = Field(max_length=_TEXT)
    effective_date: Day | None = None
    kind: ItemKind | None = None
    deciding_authority: StoredText | None = Field(default=None, max_length=200)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "to_level": "township",
                    "departments": {"lead": "township.civil_affairs"},
                    "reason": "依据赋权目录下放至镇（街道）实施",
                    "effective_date": "2025-01-01",
                }
            ]
        },
    )


class RetireIn(_Request):
    reason: StoredText = Field(max_length=_TEXT)
    effective_date: Day | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "依据省政府决定取消该事项", "effective_date": "2025-01-01"}]
        },
    )


# --------------------------------------------------------------------------------------------
# Responses


class MaterialOut(Material):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def form_label(self) -> str:
        return self.form.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def source_label(self) -> str:
        return self.source.label


class ProcedureLimitOut(SpecialProcedureLimit):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def procedure_label(self) -> str:
        return self.procedure.label


class ItemOut(ItemVersionData):
    """One published version of an item, as the public reads it."""

    model_config = ConfigDict(serialize_by_alias=True)

    implementation_code: StoredText = Field(alias=HTTP_ITEM_CODE, description=_ITEM_CODE_DESCRIPTION)

    materials: tuple[MaterialOut, ...]
    special_procedures: tuple[ProcedureLimitOut, ...] = ()
    department_names: dict[str, str] = Field(description="Name of every department the item names")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type_label(self) -> str:
        return self.type.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return self.kind.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def handling_level_label(self) -> str:
        return self.handling_level.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def acceptable_tier_labels(self) -> list[str]:
        return [tier.label for tier in self.acceptable_tiers]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return self.status.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fee_text(self) -> str:
        return fee_text(self.fee)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def where_decided(self) -> str:
        return where_decided(self, self.department_names)


DRAFT_STATUS_LABELS = {"draft": "草稿（未发布）", **{s.value: s.label for s in ItemStatus}}


class DraftOut(BaseModel):
    """The draft an administrator edits, and how it differs from the current version."""

    item_code: str
    status: str = Field(description="draft (never published), published or retired")
    status_label: str
    current_version: int | None
    draft: ItemDraftBody
    pending_changes: list[FieldChange] = Field(description="Draft against the current version")


class VersionSummary(BaseModel):
    version: int
    status: ItemStatus
    status_label: str
    name: str
    handling_level: HandlingLevel
    handling_level_label: str
    effective_date: date
    published_at: datetime
    change_note: str | None
    delegation: Delegation | None

    @classmethod
    def of(cls, v: ItemVersionData) -> VersionSummary:
        return cls(
            version=v.version,
            status=v.status,
            status_label=v.status.label,
            name=v.name,
            handling_level=v.handling_level,
            handling_level_label=v.handling_level.label,
            effective_date=v.effective_date,
            published_at=v.published_at,
            change_note=v.change_note,
            delegation=v.delegation,
        )


class DiffOut(BaseModel):
    item_code: str
    from_version: int
    to_version: int
    changes: list[FieldChange]


class DelegationOut(BaseModel):
    """A move of an item's handling level made by one version."""

    item_code: str
    name: str
    version: int
    direction: str = Field(description="down (下放) or up (收回)")
    direction_label: str
    from_level: Tier
    from_level_label: str
    to_level: Tier
    to_level_label: str
    reason: str
    effective_date: date

    @classmethod
    def of(cls, v: ItemVersionData) -> DelegationOut:
        move = v.delegation
        assert move is not None
        return cls(
            item_code=v.implementation_code,
            name=v.name,
            version=v.version,
            direction="down" if move.moves_down else "up",
            direction_label="下放" if move.moves_down else "收回",
            from_level=move.from_level,
            from_level_label=move.from_level.label,
            to_level=move.to_level,
            to_level_label=move.to_level.label,
            reason=move.reason,
            effective_date=v.effective_date,
        )


class ReformStatsOut(ReformStats):
    from_date: date = Field(description="The catalogue in force on this day is the baseline")
    to_date: date = Field(description="Compared with the catalogue in force on this day")
    summary: str = Field(description="The sentence a centre puts in its report")
    delegations: list[DelegationOut] = Field(description="Delegations and reversals effective in the period")


class HandbookOut(BaseModel):
    """The convenience handbook of one org unit: every item a citizen can start there."""

    org: str
    org_tier: Tier
    org_tier_label: str
    org_name: str | None = Field(
        description="The unit's name from routing's directory (null until the directory is received)"
    )
    title: str = Field(
        description="The unit's name (when known), tier and code: "
        "姜山镇便民服务手册（乡镇（街道），区划代码370285101000）"
    )
    item_count: int
    items: list[ItemOut]
