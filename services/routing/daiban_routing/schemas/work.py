"""Request and response bodies of the work API (never the table classes)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from daiban_common.strict import Day
from daiban_contracts.case import MaterialIssue, StaffRef
from daiban_contracts.catalogue import SpecialProcedure
from daiban_contracts.text import StoredText


class DecisionKind(StrEnum):
    approve = "approve"
    refuse = "refuse"
    supplement = "supplement"


class MaterialIssueIn(MaterialIssue):
    """A line of a one-time notice as the deciding clerk writes it: text PostgreSQL can store."""

    material_code: StoredText
    material_name: StoredText
    problem: StoredText = Field(description="missing | wrong_form | too_few_copies | invalid | other")
    required_form: StoredText
    required_copies: int = Field(ge=0, le=99)
    note: StoredText = ""


class DecideIn(BaseModel):
    """approve: `result`; refuse: `reasons` and `legal_basis`; supplement: `issues` (一次性告知)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"decision": "approve", "result": "证书编号 LX2026-0001"}]},
    )

    decision: DecisionKind
    result: StoredText | None = Field(default=None, max_length=500)
    reasons: list[StoredText] = Field(default_factory=list, max_length=50)
    legal_basis: list[StoredText] = Field(default_factory=list, max_length=50)
    issues: list[MaterialIssueIn] = Field(default_factory=list, max_length=100)


class ReassignIn(BaseModel):
    """The person of the task's window who holds the task from now on (they must be at work)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"staff_id": "js-mz-b"}]})

    staff_id: StoredText = Field(
        min_length=1, max_length=64, description="Their token subject in the directory"
    )


class PauseIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"procedure": "site_survey", "reason": "需现场核实房屋状况", "expected_working_days": 3}
            ]
        },
    )

    procedure: SpecialProcedure
    reason: StoredText = Field(min_length=1, max_length=500)
    expected_working_days: int = Field(ge=1, le=250)


class ExtensionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"extra_working_days": 5, "reason": "涉及多部门会商"}]},
    )

    extra_working_days: int = Field(ge=1, le=60)
    reason: StoredText = Field(min_length=1, max_length=500)


class HomeVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visit_date: Day
    note: StoredText = Field(default="", max_length=500)


class TaskOut(BaseModel):
    id: str
    case_number: str
    org: str
    department: str
    department_name: str
    lead: bool
    kind: str
    window: str | None
    staff_id: str | None
    post: str
    status: str
    status_label: str
    green_channel: bool
    limit_working_days: int
    due_date: date
    created_at: datetime
    claimed_at: datetime | None
    decided_at: datetime | None
    decided_by: StaffRef | None = Field(description="Who decided; null until decided")
    outcome: str | None
    result: str | None
    reasons: list[str]
    legal_basis: list[str]


class HopOut(BaseModel):
    direction: str
    hop: int
    from_org: str
    to_org: str
    sent_at: datetime
    received_at: datetime | None


class PauseOut(BaseModel):
    id: str
    kind: str
    kind_label: str
    reason: str
    expected_working_days: int
    issues: list[MaterialIssue] = Field(description="For a supplement: the materials to supply; else empty")
    started_at: datetime
    ended_at: datetime | None


class DecisionOut(BaseModel):
    task_id: str
    department: str
    department_name: str
    outcome: str
    result: str | None
    reasons: list[str]
    legal_basis: list[str]
    decided_at: datetime | None
    decided_by: StaffRef | None = Field(description="Who decided; null until decided")


class TimelineOut(BaseModel):
    at: datetime
    org: str
    actor: str
    kind: str
    text: str


class RouteOut(BaseModel):
    case_number: str
    item_name: str
    kind: str
    handling_level: str
    accepting_org: str
    holding_org: str = Field(description="The org unit holding the case now")
    deciding_org: str | None
    status: str
    status_label: str
    green_channel: bool
    home_visit: bool
    first_responder: StaffRef = Field(description="The staff member who accepted the case and answers for it")
    accepted_at: datetime
    due_date: date
    due_date_provisional: bool
    limit_working_days: int
    extension_working_days: int
    extension_reason: str | None
    outcome: str | None
    result: str | None
    reasons: list[str]
    legal_basis: list[str]
    escalated_authority: str | None
    follow_up_date: date | None
    hops: list[HopOut]
    tasks: list[TaskOut]
    pauses: list[PauseOut]
    decisions: list[DecisionOut]
    timeline: list[TimelineOut]


class NotificationOut(BaseModel):
    id: int
    case_number: str
    at: datetime
    org: str
    kind: str
    text: str
