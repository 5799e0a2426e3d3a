"""Request and response bodies of the audit API (never the table classes)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from daiban_audit.domain.chain import Failure
from daiban_audit.domain.stats import ReportPeriod
from daiban_contracts.integers import PositiveSafeInt
from daiban_contracts.text import StoredText


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    event_id: str
    type: str = Field(
        description='The event type, e.g. "daiban.case.accepted.v1"; it fixes the shape of `data`'
    )
    source: str
    subject: str = Field(
        description="The event's subject (CloudEvents): the case_number of a case's events, the "
        "item_code of an item's, staff:<staff_id> of a directory entry's; filter with ?subject="
    )
    time: datetime = Field(description="When it happened (the event's time)")
    recorded_at: datetime = Field(description="When the log recorded it")
    org: str
    org_name: str | None = Field(
        default=None, description="Name of `org` in the county's directory (null if it lacks the code)"
    )
    actor: str
    # Deliberately an open object, not a oneOf of the event payloads: the discriminator (`type`) is a
    # sibling of `data`, which an OpenAPI discriminator cannot name, and masking changes the shapes;
    # generators turn a large undiscriminated oneOf into a union nobody can narrow.
    data: dict[str, Any] = Field(
        description=(
            "The event's payload, personal data masked. Its shape depends on `type`: the message of that "
            "name in docs/asyncapi.yaml (e.g. `daiban.case.accepted.v1`), with names and ID numbers masked."
        ),
        json_schema_extra={"additionalProperties": True, "x-payload-schema": "docs/asyncapi.yaml"},
    )
    prev_hash: str
    hash: str


class FailureOut(BaseModel):
    reason: Failure
    reason_label: str
    seq: int = Field(description="The first entry that fails")
    suspect_from: int
    suspect_to: int


class UnsignedTailOut(BaseModel):
    entries: int = Field(description="Entries after the last checkpoint this node signed")
    oldest_recorded_at: datetime | None = Field(description="When the oldest of them was recorded")
    age_seconds: float | None = Field(description="How long the oldest of them has gone unsigned")


class VerifyOut(BaseModel):
    ok: bool
    from_seq: int
    to_seq: int | None
    checked: int = Field(description="Entries checked before the first failure (all of them if ok)")
    checkpoints_checked: int
    failure: FailureOut | None
    detail: str
    unsigned_tail: UnsignedTailOut = Field(
        description="The chain's tail no signed checkpoint covers yet (kept short in count and time)"
    )


class CheckpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    node_org: str
    node: str
    chain: str
    size: int
    head_hash: str
    signed_at: datetime
    algorithm: str = "Ed25519"
    public_key: str
    signature: str
    event_id: str
    received_at: datetime | None = Field(default=None, description="Set on checkpoints held for a child")


class CheckpointIn(BaseModel):
    """A signed checkpoint as the parent lists it (extra fields of the listing are ignored)."""

    model_config = ConfigDict(extra="ignore")

    node_org: StoredText
    node: StoredText
    chain: StoredText = "main"
    size: PositiveSafeInt
    head_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    signed_at: datetime
    algorithm: StoredText = "Ed25519"
    public_key: StoredText
    signature: StoredText


class VerifyAgainst(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_seq: PositiveSafeInt = 1
    to_seq: PositiveSafeInt | None = None
    checkpoints: list[CheckpointIn] = Field(
        max_length=10_000, description="Checkpoints of this node held elsewhere, e.g. by the parent node"
    )


class HandlingModes(BaseModel):
    direct: int
    time_limited: int
    agency: int
    home_visit: int


class Evaluations(BaseModel):
    very_satisfied: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int
    very_dissatisfied: int


class Figures(BaseModel):
    received: int
    one_time_notices: int
    accepted_with_deficiencies: int
    concluded: int
    concluded_on_the_spot: int
    concluded_early: int
    concluded_on_time: int
    concluded_overdue: int
    refused: int
    supplements_requested: int
    by_handling_mode: HandlingModes
    average_working_days_to_conclusion: float | None
    evaluations: Evaluations
    complaints: int
    rectifications: int
    on_the_spot_rate: float | None = Field(description="即办率: concluded on the spot / concluded")
    early_rate: float | None = Field(description="提前办结率: concluded early / concluded")
    on_time_rate: float | None = Field(description="按时办结率: concluded on time / concluded")
    satisfaction_rate: float | None = Field(
        description="满意率: very satisfied, satisfied and basically satisfied / evaluations"
    )


class GroupFigures(Figures):
    key: str = Field(
        description="The group's key: the day, org unit, staff id, or for a window or department "
        "`<org unit>:<window number or department code>` (e.g. `370285101000:01`); a bare number "
        "or code for counters kept before they were keyed by unit"
    )
    org: str | None = Field(
        description="The org unit the group is (org) or belongs to (window, department); "
        "None for a day, a staff member, or counters kept before they were keyed by unit",
    )
    org_name: str | None = Field(description="That unit's name, e.g. 姜山镇")
    code: str = Field(
        description="The key within the unit: window number, department code, org code, staff id or day",
    )
    label: str = Field(
        description="What a clerk reads, e.g. 姜山镇 · 窗口 01, 姜山镇 · township.civil_affairs "
        "(events carry a department's code, not its name)",
    )


class GroupBy(StrEnum):
    day = "day"
    department = "department"
    window = "window"
    staff = "staff"
    org = "org"


class StatsOut(BaseModel):
    org: str
    org_name: str | None = Field(description="The unit's name (None if the directory lacks it)")
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    group_by: GroupBy | None
    totals: Figures
    groups: list[GroupFigures]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class ReportOut(BaseModel):
    period: ReportPeriod
    period_label: str
    org: str
    org_name: str | None = Field(description="The unit's name (None if the directory lacks it)")
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    totals: Figures
    by_org: list[GroupFigures]
    by_department: list[GroupFigures]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
