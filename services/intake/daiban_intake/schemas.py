"""Request and response bodies.

Requests (`…In`, `AcceptApplication`, …) are the commands front ends send, validated before any rule
runs. Only the shape is checked here (types, lengths, enums); identity numbers, the item and the
materials are checked by the domain, which names each field in Chinese.

Responses (`…Out`): staff answers carry personal data in full (only staff of the case's org
subtree ever reach them); public answers (`ProgressOut`, `BoardOut`, `EvaluationOut`, `ComplaintOut`)
carry none.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from daiban_common.strict import StrictBool
from daiban_contracts.case import ApplicantKind, Channel, EvaluationLevel, HandoverMethod, Outcome
from daiban_contracts.catalogue import MaterialForm
from daiban_contracts.text import StoredText
from daiban_intake.domain.progress import Stage

# Every string here reaches PostgreSQL; StoredText refuses what it cannot store (422).
Text = StoredText
Code = Annotated[StoredText, Field(min_length=1, max_length=40)]

_ID_NUMBER = (
    "Resident ID number (18 characters). Normalised, not refused: full-width digits and Ｘ become ASCII, "
    "a lower-case x becomes X, spaces and hyphens are removed; only that form is stored and emitted."
)


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantIn(_Command):
    """A person (name, resident ID, phone, address) or an organisation (name, credit code, legal rep)."""

    kind: ApplicantKind
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    id_number: Annotated[Text, Field(max_length=30)] | None = Field(default=None, description=_ID_NUMBER)
    credit_code: Annotated[Text, Field(max_length=30)] | None = Field(
        default=None,
        description="Unified social credit code (organisation); full-width characters and lower case "
        "are folded, spaces and hyphens removed",
    )
    legal_representative: Annotated[Text, Field(max_length=50)] | None = None
    phone: Annotated[Text, Field(max_length=30)] | None = None
    address: Annotated[Text, Field(max_length=200)] = ""


class RepresentativeIn(_Command):
    """The person acting for the applicant (代理人/经办人)."""

    name: Annotated[Text, Field(min_length=1, max_length=50)]
    id_number: Annotated[Text, Field(min_length=1, max_length=30)] = Field(description=_ID_NUMBER)
    phone: Annotated[Text, Field(max_length=30)] | None = None
    relation: Annotated[Text, Field(max_length=50)] = ""


class MaterialIn(_Command):
    code: Code
    form: MaterialForm
    copies: int = Field(ge=0, le=99)


class DeficiencyIn(_Command):
    """A deficiency-allowed material the applicant promises to bring by `due_date` (容缺受理)."""

    code: Code
    due_date: date


class OnTheSpotIn(_Command):
    """The result of an immediate item concluded at the window in the same request."""

    outcome: Outcome = Outcome.approved
    result: Annotated[Text, Field(min_length=1, max_length=500)]
    reasons: list[Annotated[Text, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=20
    )


class AcceptApplication(_Command):
    item_code: Code = Field(
        description="The item's code (implementation code), or a base code unambiguous for the org"
    )
    org: Annotated[Text, Field(pattern=r"^[0-9]{12}$")] = Field(description="The accepting org unit")
    channel: Channel
    applicant: ApplicantIn
    representative: RepresentativeIn | None = None
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)
    deficiencies: list[DeficiencyIn] = Field(default_factory=list, max_length=100)
    conditions_met: list[Code] = Field(
        default_factory=list,
        max_length=100,
        description="Codes of the item's conditional materials (required: false) whose condition "
        "applies to this applicant, e.g. M05 for 残疾人证 when 家庭成员中有残疾人的; they become "
        "required. A code that names no conditional material of the item is a 422 on "
        "conditions_met[i]. The one-time notice lists the conditional materials not named here "
        "with their conditions.",
    )
    green_channel: StrictBool = False
    on_the_spot: OnTheSpotIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "item_code": "QR-00300-001-370285000000-01",
                    "org": "370285101201",
                    "channel": "agent",
                    "applicant": {
                        "kind": "person",
                        "name": "张三",
                        "id_number": "11010519491231002X",
                        "phone": "13812345678",
                        "address": "莱西市水集街道某村",
                    },
                    "materials": [{"code": "M01", "form": "original", "copies": 1}],
                    "deficiencies": [{"code": "M03", "due_date": "2026-12-01"}],
                }
            ]
        },
    )


class SupplyMaterials(_Command):
    """Materials brought after acceptance: asked for by a supplement request, or promised deficiencies."""

    materials: list[MaterialIn] = Field(min_length=1, max_length=100)


class HandOver(_Command):
    """The result handed to the applicant where they applied (identity checked), or mailed."""

    method: HandoverMethod
    recipient_name: Annotated[Text, Field(max_length=50)] | None = None
    recipient_id_number: Annotated[Text, Field(max_length=30)] | None = Field(
        default=None, description=_ID_NUMBER
    )
    carrier: Annotated[Text, Field(max_length=50)] | None = None
    tracking_number: Annotated[Text, Field(max_length=50)] | None = None


class Evaluate(_Command):
    case_number: Code
    query_code: Annotated[Text, Field(min_length=1, max_length=16)]
    level: EvaluationLevel
    scores: dict[StoredText, Annotated[int, Field(ge=1, le=5)]] = Field(default_factory=dict, max_length=10)
    comment: Annotated[Text, Field(max_length=500)] = ""


class ComplaintTarget(StrEnum):
    case = "case"
    window = "window"
    staff = "staff"


class FileComplaint(_Command):
    target: ComplaintTarget
    case_number: Code | None = None
    query_code: Annotated[Text, Field(max_length=16)] | None = Field(
        default=None, description="Needed with case_number when filed without a token"
    )
    org: Annotated[Text, Field(pattern=r"^[0-9]{12}$")] | None = Field(
        default=None, description="The org unit of the window or person complained about"
    )
    target_ref: Annotated[Text, Field(max_length=100)] | None = Field(
        default=None, description="Window number or staff id"
    )
    summary: Annotated[Text, Field(min_length=1, max_length=1000)]
    contact_phone: Annotated[Text, Field(max_length=30)] | None = None


# Responses.


class ItemOut(BaseModel):
    item_code: str = Field(description="The item's implementation code (实施编码), its identity")
    base_code: str
    version: int
    name: str
    kind: str
    kind_label: str
    promised_working_days: int


def _name_of(code_field: str) -> Any:
    # Printed pages and kiosks show units by name; the code stays for machines.
    return Field(description=f"Name of `{code_field}` in the county's directory (null if it lacks the code)")


class StaffOut(BaseModel):
    staff_id: str
    name: str
    org: str
    org_name: str | None = _name_of("org")


class ApplicantOut(BaseModel):
    kind: str
    name: str
    id_number: str | None = None
    credit_code: str | None = None
    legal_representative: str | None = None
    phone: str | None = None
    address: str = ""


class RepresentativeOut(BaseModel):
    name: str
    id_number: str
    phone: str | None = None
    relation: str = ""


class MaterialOut(BaseModel):
    code: str
    name: str
    form: str
    form_label: str
    copies: int


class DeficiencyOut(BaseModel):
    code: str
    name: str
    due_date: date
    supplied_at: datetime | None = None


class IssueOut(BaseModel):
    """One line of a one-time notice."""

    material_code: str
    material_name: str
    problem: str
    problem_label: str
    required_form: str
    required_form_label: str
    required_copies: int
    note: str = ""


class DecisionOut(BaseModel):
    outcome: str
    outcome_label: str
    result: str | None
    reasons: list[str]
    legal_basis: list[str]
    deciding_org: str | None
    deciding_org_name: str | None = _name_of("deciding_org")
    decided_at: datetime | None


class StageOut(BaseModel):
    stage: Stage = Field(description="What happened; `label` is its Chinese name for the public and clerks")
    label: str
    org: str
    org_name: str | None = _name_of("org")
    org_tier_label: str
    at: datetime
    date: date
    note: str = ""


class HandoverRecordOut(BaseModel):
    """The handover (送达) as the case keeps it: in person with the recipient's identity, or by mail."""

    method: HandoverMethod
    recipient_name: str | None = Field(description="Who collected it in person; null when mailed")
    recipient_id_masked: str | None = Field(description="The collector's ID number, masked; null when mailed")
    carrier: str | None = Field(description="The postal carrier when mailed")
    tracking_number: str | None
    handed_over_at: datetime
    handed_over_by: StaffOut


class ReceiptOut(BaseModel):
    """The acceptance receipt (受理回执) the citizen takes home."""

    case_number: str
    query_code: str
    item: ItemOut
    accepting_org: str
    accepting_org_name: str | None = _name_of("accepting_org")
    channel: str
    channel_label: str
    applicant: ApplicantOut
    representative: RepresentativeOut | None
    materials: list[MaterialOut]
    deficiencies: list[DeficiencyOut]
    accepted_at: datetime
    promised_date: date
    promised_date_provisional: bool
    due_date: date = Field(description="The deadline now: the promised date as moved since acceptance")
    due_date_provisional: bool
    first_responder: StaffOut
    progress_hint: str


class AcceptanceOut(BaseModel):
    case_number: str
    query_code: str
    status: str
    status_label: str
    promised_date: date
    promised_date_provisional: bool
    first_responder: StaffOut
    decision: DecisionOut | None
    receipt: ReceiptOut
    receipt_url: str


class CaseOut(BaseModel):
    case_number: str
    org: str
    org_name: str | None = _name_of("org")
    status: str
    status_label: str
    item: ItemOut
    channel: str
    applicant: ApplicantOut
    representative: RepresentativeOut | None
    materials: list[MaterialOut]
    deficiencies: list[DeficiencyOut]
    conditions_met: list[str] = Field(
        description="Codes of the conditional materials the applicant said apply (they became required)"
    )
    green_channel: bool
    first_responder: StaffOut
    accepted_at: datetime
    promised_date: date
    promised_date_provisional: bool
    due_date: date
    due_date_provisional: bool
    holding_org: str
    holding_org_name: str | None = _name_of("holding_org")
    decision: DecisionOut | None
    pending_supplement: list[IssueOut]
    supervision_flag: str | None
    handover: HandoverRecordOut | None = Field(
        description="How the result reached the applicant; null until handed over"
    )
    stages: list[StageOut]


class CaseListItem(BaseModel):
    case_number: str
    org: str
    org_name: str | None = _name_of("org")
    status: str
    status_label: str
    item_code: str
    item_name: str
    applicant_name: str
    accepted_at: datetime
    promised_date: date
    due_date: date
    holding_org: str
    holding_org_name: str | None = _name_of("holding_org")
    supervision_flag: str | None


class PublicCaseOut(BaseModel):
    """What anyone may know of a case: the item, where it stands, the units by name; nothing personal."""

    item_name: str
    accepting_org: str
    accepting_org_name: str | None = _name_of("accepting_org")
    status: str
    status_label: str
    holding_org: str
    holding_org_name: str | None = _name_of("holding_org")
    promised_date: date
    outcome: str | None
    outcome_label: str | None


class ProgressOut(PublicCaseOut):
    """Public progress: stages, the unit holding the case and the dates; nothing personal."""

    case_number: str
    holding_org_tier_label: str
    promised_date_provisional: bool
    due_date: date
    due_date_provisional: bool
    stages: list[StageOut]


class BoardStageOut(BaseModel):
    status: str
    status_label: str
    count: int


class BoardCaseOut(PublicCaseOut):
    """One case on a hall board: what was asked, where it stands, where it is; nothing personal."""

    masked_case_number: str = Field(
        description="The case number with its date masked (`370285101294-********-0007`)"
    )
    moved_at: datetime = Field(description="Its last move (open) or its handover (concluded)")


class BoardOut(BaseModel):
    """A hall's progress board (大厅进度屏): the cases accepted at a point and the points below it."""

    org: str
    org_name: str | None = _name_of("org")
    org_tier_label: str
    stages: list[BoardStageOut] = Field(description="Every open status in the order a case moves, with 0s")
    open_total: int
    open: list[BoardCaseOut] = Field(description="The open cases most recently moved first, at most `limit`")
    concluded_since: datetime
    concluded_total: int
    concluded: list[BoardCaseOut] = Field(description="Handed over since `concluded_since`, latest first")


class ConditionalOut(BaseModel):
    """A conditional material the application did not say applies, told with its condition."""

    material_code: str
    material_name: str
    condition: str
    required_form: str
    required_form_label: str
    required_copies: int
    fetched_by_window: bool = Field(description="Issued by a government body: the window fetches it")
    note: str = Field(description="The reminder as printed, e.g. 如：家庭成员中有残疾人的，还需提交……")


class NoticeOut(BaseModel):
    """A one-time notice (一次性告知书), printable for the citizen."""

    notice_number: str
    org: str
    org_name: str | None = _name_of("org")
    item_code: str
    item_name: str
    item_version: int
    applicant_name: str
    issued_by: StaffOut
    issued_at: datetime
    issues: list[IssueOut]
    conditional: list[ConditionalOut] = Field(
        description="Conditional materials not claimed in conditions_met, each with its condition"
    )


class SupplementOut(BaseModel):
    case_number: str
    kind: str
    material_codes: list[str]
    status: str
    status_label: str
    recorded_at: datetime


class HandoverOut(BaseModel):
    case_number: str
    status: str
    status_label: str
    method: str
    recipient_name: str | None
    carrier: str | None
    tracking_number: str | None
    handed_over_at: datetime


class EvaluationOut(BaseModel):
    case_number: str
    level: str
    level_label: str
    evaluated_at: datetime
    rectification_opened: bool


class ComplaintOut(BaseModel):
    complaint_id: str
    org: str
    org_name: str | None = _name_of("org")
    target: str
    target_label: str
    filed_at: datetime
    message: str
