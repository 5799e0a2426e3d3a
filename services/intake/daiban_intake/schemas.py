"""Response models. Staff answers carry personal data in full (only staff of the case's org
subtree ever reach them); public answers (`ProgressOut`, `EvaluationOut`, `ComplaintOut`) carry none.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


class ItemOut(BaseModel):
    implementation_code: str
    base_code: str
    version: int
    name: str
    kind: str
    kind_label: str
    promised_working_days: int


class StaffOut(BaseModel):
    staff_id: str
    name: str
    org: str


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
    decided_at: datetime | None


class StageOut(BaseModel):
    stage: str
    label: str
    org: str
    org_tier_label: str
    at: datetime
    date: date
    note: str = ""


class ReceiptOut(BaseModel):
    """The acceptance receipt (受理回执) the citizen takes home."""

    case_number: str
    query_code: str
    item: ItemOut
    accepting_org: str
    channel: str
    channel_label: str
    applicant: ApplicantOut
    representative: RepresentativeOut | None
    materials: list[MaterialOut]
    deficiencies: list[DeficiencyOut]
    accepted_at: datetime
    promised_date: date
    promised_date_provisional: bool
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
    number: str
    org: str
    status: str
    status_label: str
    item: ItemOut
    channel: str
    applicant: ApplicantOut
    representative: RepresentativeOut | None
    materials: list[MaterialOut]
    deficiencies: list[DeficiencyOut]
    green_channel: bool
    first_responder: StaffOut
    accepted_at: datetime
    promised_date: date
    promised_date_provisional: bool
    due_date: date
    holding_org: str
    decision: DecisionOut | None
    pending_supplement: list[IssueOut]
    supervision_flag: str | None
    handover: dict[str, Any] | None
    stages: list[StageOut]


class CaseListItem(BaseModel):
    number: str
    org: str
    status: str
    status_label: str
    item_code: str
    item_name: str
    applicant_name: str
    accepted_at: datetime
    promised_date: date
    due_date: date
    holding_org: str
    supervision_flag: str | None


class ProgressOut(BaseModel):
    """Public progress: stages, the unit holding the case and the dates; nothing personal."""

    case_number: str
    item_name: str
    accepting_org: str
    status: str
    status_label: str
    holding_org: str
    holding_org_tier_label: str
    promised_date: date
    promised_date_provisional: bool
    due_date: date
    outcome: str | None
    outcome_label: str | None
    stages: list[StageOut]


class NoticeOut(BaseModel):
    """A one-time notice (一次性告知书), printable for the citizen."""

    notice_number: str
    org: str
    item_code: str
    item_name: str
    item_version: int
    applicant_name: str
    issued_by: StaffOut
    issued_at: datetime
    issues: list[IssueOut]


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
    target: str
    filed_at: datetime
    message: str
