"""Events of a case's journey: accepted at a point, moved between tiers, decided, handed back.

Intake produces acceptance, supplements, handover and evaluations; routing produces the moves
between tiers, assignment, decisions, pauses and supervision. Every payload names the case by its
number and carries `accepting_org` so the point where the citizen applied can follow its case.
Personal data never travels in clear: applicants appear masked, with a salted hash for matching.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from daiban_contracts.catalogue import HandlingLevel, ItemKind, SpecialProcedure
from daiban_contracts.envelope import EventData, event_type


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Channel(StrEnum):
    window = "window"
    agent = "agent"
    online = "online"
    hotline = "hotline"
    home_visit = "home_visit"


class ApplicantKind(StrEnum):
    person = "person"
    organisation = "organisation"


class Outcome(StrEnum):
    approved = "approved"
    refused = "refused"

    @property
    def label(self) -> str:
        """What the citizen's notice and the case's progress call it."""
        return "准予办理" if self is Outcome.approved else "不予办理"


class FlagLevel(StrEnum):
    yellow = "yellow"
    red = "red"


class StaffRef(_Wire):
    staff_id: str = Field(description="The token subject of the staff member")
    name: str
    org: str = Field(description="12-digit org unit the staff member works in")


class ApplicantRef(_Wire):
    """An applicant as events carry it off the node: masked, plus a salted hash for matching."""

    kind: ApplicantKind
    name_masked: str
    id_masked: str = Field(description="Resident ID or credit code, masked")
    id_hash: str = Field(description="HMAC-SHA256 of the normalised ID with the network's salt")


class ItemRef(_Wire):
    """What routing needs of the item version a case was accepted under."""

    implementation_code: str
    base_code: str
    version: int
    name: str
    kind: ItemKind
    handling_level: HandlingLevel
    implementing_org: str
    lead_department: str
    other_departments: tuple[str, ...] = ()
    statutory_working_days: int
    promised_working_days: int
    special_procedures: tuple[SpecialProcedure, ...] = ()


class Deficiency(_Wire):
    material_code: str
    material_name: str
    due_date: date


class CaseSummary(_Wire):
    case_number: str
    item: ItemRef
    accepting_org: str
    channel: Channel
    applicant: ApplicantRef
    first_responder: StaffRef
    accepted_at: datetime
    promised_date: date
    promised_date_provisional: bool = False
    green_channel: bool = False
    deficiencies: tuple[Deficiency, ...] = ()
    conditions_met: tuple[str, ...] = Field(
        default=(),
        description="Codes of the conditional materials the applicant said apply (they became required)",
    )


class MaterialIssue(_Wire):
    """One line of a one-time notice: a material that is missing or wrong, and what is needed."""

    material_code: str
    material_name: str
    problem: str = Field(description="missing | wrong_form | too_few_copies | invalid | other")
    required_form: str
    required_copies: int
    note: str = ""


class ConditionalReminder(_Wire):
    """A conditional material the application did not claim, told on the notice with its condition
    (如：家庭成员中有残疾人的，还需提交……), so an applicant it applies to learns it on the first trip."""

    material_code: str
    material_name: str
    condition: str
    required_form: str
    required_copies: int
    fetched_by_window: bool = Field(description="Issued by a government body: the window fetches it")
    note: str = Field(default="", description="The reminder as printed")


class OnTheSpotResult(_Wire):
    outcome: Outcome = Outcome.approved
    result: str = Field(description="What the citizen receives, e.g. a certificate number")
    decided_by: StaffRef


# ---- intake ---------------------------------------------------------------------------------


@event_type("daiban.case.accepted.v1")
class CaseAccepted(EventData):
    case: CaseSummary
    # Set when an immediate item was concluded at the window in the same request.
    on_the_spot: OnTheSpotResult | None = None


@event_type("daiban.notice.issued.v1")
class OneTimeNoticeIssued(EventData):
    notice_number: str
    item_implementation_code: str
    item_name: str
    org: str
    issued_by: StaffRef
    issues: tuple[MaterialIssue, ...]
    issued_at: datetime
    # Both added after v1 shipped, optional: a reader of the first shape is unaffected.
    reminders: tuple[ConditionalReminder, ...] = Field(
        default=(), description="Conditional materials not claimed, each with its condition"
    )
    conditions_met: tuple[str, ...] = Field(
        default=(), description="Codes of the conditional materials the applicant said apply"
    )


@event_type("daiban.case.supplemented.v1")
class CaseSupplemented(EventData):
    case_number: str
    accepting_org: str
    material_codes: tuple[str, ...]
    supplemented_at: datetime
    recorded_by: StaffRef


@event_type("daiban.case.deficiencies_supplied.v1")
class DeficienciesSupplied(EventData):
    """Materials accepted missing (容缺受理) were brought in by their promised date or later.

    Not a `CaseSupplemented`: no supplement was requested and no clock was paused for them, so
    routing has nothing to resume; supervision and audit may count them.
    """

    case_number: str
    accepting_org: str
    material_codes: tuple[str, ...]
    supplied_at: datetime
    recorded_by: StaffRef


class HandoverMethod(StrEnum):
    in_person = "in_person"
    mail = "mail"


@event_type("daiban.case.handed_over.v1")
class CaseHandedOver(EventData):
    case_number: str
    accepting_org: str
    method: HandoverMethod
    carrier: str | None = None
    tracking_number: str | None = None
    handed_over_at: datetime
    handed_over_by: StaffRef


class EvaluationLevel(StrEnum):
    very_satisfied = "very_satisfied"
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"
    very_dissatisfied = "very_dissatisfied"


@event_type("daiban.case.evaluated.v1")
class CaseEvaluated(EventData):
    case_number: str
    accepting_org: str
    deciding_org: str | None = None
    level: EvaluationLevel
    scores: dict[str, int] = Field(default_factory=dict)
    has_comment: bool = False
    evaluated_at: datetime


@event_type("daiban.rectification.opened.v1")
class RectificationOpened(EventData):
    rectification_id: str
    case_number: str
    org: str
    reason: str
    due_date: date
    opened_at: datetime


@event_type("daiban.complaint.filed.v1")
class ComplaintFiled(EventData):
    complaint_id: str
    org: str
    target: str = Field(description="case | window | staff")
    case_number: str | None = None
    target_ref: str | None = None
    summary: str
    filed_at: datetime
