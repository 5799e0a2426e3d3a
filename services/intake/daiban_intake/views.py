"""Turning stored rows into response models (labels in Chinese, personal data only for staff)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from daiban_common.calendar import to_shanghai_date
from daiban_contracts.case import Channel, Outcome
from daiban_contracts.catalogue import ItemKind, ItemVersionData, MaterialForm
from daiban_contracts.orgcodes import OrgCode
from daiban_intake.domain.materials import PROBLEM_LABELS
from daiban_intake.domain.progress import CaseStatus, Stage
from daiban_intake.models import Case, CaseStage, OneTimeNotice
from daiban_intake.schemas import (
    ApplicantOut,
    CaseListItem,
    CaseOut,
    DecisionOut,
    DeficiencyOut,
    IssueOut,
    ItemOut,
    MaterialOut,
    NoticeOut,
    ProgressOut,
    ReceiptOut,
    RepresentativeOut,
    StaffOut,
    StageOut,
)

CHANNEL_LABELS: Final = {
    Channel.window: "窗口受理",
    Channel.agent: "代办员代办",
    Channel.online: "网上申请",
    Channel.hotline: "热线申请",
    Channel.home_visit: "上门服务",
}
OUTCOME_LABELS: Final = {Outcome.approved: "准予办理", Outcome.refused: "不予办理"}
PROGRESS_HINT: Final = "凭办件编号和查询码可随时查询办理进度；请妥善保管本回执，领取结果时出示。"


def item_out(item: dict[str, Any]) -> ItemOut:
    data = ItemVersionData.model_validate(item)
    return ItemOut(
        implementation_code=data.implementation_code,
        base_code=data.base_code,
        version=data.version,
        name=data.name,
        kind=data.kind.value,
        kind_label=ItemKind(data.kind).label,
        promised_working_days=data.promised_working_days,
    )


def staff_out(record: dict[str, Any]) -> StaffOut:
    return StaffOut(staff_id=record["staff_id"], name=record["name"], org=record["org"])


def applicant_out(record: dict[str, Any]) -> ApplicantOut:
    person = record["kind"] == "person"
    return ApplicantOut(
        kind=record["kind"],
        name=record["name"],
        id_number=record["id_number"] if person else None,
        credit_code=None if person else record["id_number"],
        legal_representative=record.get("legal_representative"),
        phone=record.get("phone"),
        address=record.get("address", ""),
    )


def materials_out(records: Sequence[dict[str, Any]]) -> list[MaterialOut]:
    return [
        MaterialOut(
            code=m["code"],
            name=m["name"],
            form=m["form"],
            form_label=MaterialForm(m["form"]).label,
            copies=m["copies"],
        )
        for m in records
    ]


def deficiencies_out(records: Sequence[dict[str, Any]]) -> list[DeficiencyOut]:
    return [DeficiencyOut.model_validate(d) for d in records]


def issue_out(issue: dict[str, Any]) -> IssueOut:
    form = issue["required_form"]
    form_label = MaterialForm(form).label if form in MaterialForm.__members__ else form
    return IssueOut(
        **issue,
        problem_label=PROBLEM_LABELS.get(issue["problem"], issue["problem"]),
        required_form_label=form_label,
    )


def decision_out(case: Case) -> DecisionOut | None:
    if case.outcome is None:
        return None
    return DecisionOut(
        outcome=case.outcome,
        outcome_label=OUTCOME_LABELS[Outcome(case.outcome)],
        result=case.result,
        reasons=case.reasons,
        legal_basis=case.legal_basis,
        deciding_org=case.deciding_org,
        decided_at=case.decided_at,
    )


def stage_out(stage: CaseStage) -> StageOut:
    return StageOut(
        stage=stage.stage,
        label=Stage(stage.stage).label,
        org=stage.org,
        org_tier_label=OrgCode.parse(stage.org).tier.label,
        at=stage.at,
        date=to_shanghai_date(stage.at),
        note=stage.note,
    )


def receipt_out(case: Case) -> ReceiptOut:
    return ReceiptOut(
        case_number=case.number,
        query_code=case.query_code,
        item=item_out(case.item),
        accepting_org=case.org,
        channel=case.channel,
        channel_label=CHANNEL_LABELS[Channel(case.channel)],
        applicant=applicant_out(case.applicant),
        representative=RepresentativeOut.model_validate(case.representative) if case.representative else None,
        materials=materials_out(case.materials),
        deficiencies=deficiencies_out(case.deficiencies),
        accepted_at=case.accepted_at,
        promised_date=case.promised_date,
        promised_date_provisional=case.promised_date_provisional,
        first_responder=staff_out(case.first_responder),
        progress_hint=PROGRESS_HINT,
    )


def case_out(case: Case, stages: Sequence[CaseStage]) -> CaseOut:
    status = CaseStatus(case.status)
    return CaseOut(
        number=case.number,
        org=case.org,
        status=status.value,
        status_label=status.label,
        item=item_out(case.item),
        channel=case.channel,
        applicant=applicant_out(case.applicant),
        representative=RepresentativeOut.model_validate(case.representative) if case.representative else None,
        materials=materials_out(case.materials),
        deficiencies=deficiencies_out(case.deficiencies),
        green_channel=case.green_channel,
        first_responder=staff_out(case.first_responder),
        accepted_at=case.accepted_at,
        promised_date=case.promised_date,
        promised_date_provisional=case.promised_date_provisional,
        due_date=case.due_date,
        holding_org=case.holding_org,
        decision=decision_out(case),
        pending_supplement=[issue_out(i) for i in case.pending_supplement],
        supervision_flag=case.supervision_flag,
        handover=case.handover,
        stages=[stage_out(s) for s in stages],
    )


def case_list_item(case: Case) -> CaseListItem:
    status = CaseStatus(case.status)
    return CaseListItem(
        number=case.number,
        org=case.org,
        status=status.value,
        status_label=status.label,
        item_code=case.item_code,
        item_name=str(case.item["name"]),
        applicant_name=str(case.applicant["name"]),
        accepted_at=case.accepted_at,
        promised_date=case.promised_date,
        due_date=case.due_date,
        holding_org=case.holding_org,
        supervision_flag=case.supervision_flag,
    )


def progress_out(case: Case, stages: Sequence[CaseStage]) -> ProgressOut:
    """Built field by field from what is public: no applicant, no staff, no result text."""
    status = CaseStatus(case.status)
    outcome = Outcome(case.outcome) if case.outcome else None
    return ProgressOut(
        case_number=case.number,
        item_name=str(case.item["name"]),
        accepting_org=case.org,
        status=status.value,
        status_label=status.label,
        holding_org=case.holding_org,
        holding_org_tier_label=OrgCode.parse(case.holding_org).tier.label,
        promised_date=case.promised_date,
        promised_date_provisional=case.promised_date_provisional,
        due_date=case.due_date,
        outcome=outcome.value if outcome else None,
        outcome_label=OUTCOME_LABELS[outcome] if outcome else None,
        stages=[stage_out(s) for s in stages],
    )


def notice_out(notice: OneTimeNotice) -> NoticeOut:
    return NoticeOut(
        notice_number=notice.number,
        org=notice.org,
        item_code=notice.item_code,
        item_name=notice.item_name,
        item_version=notice.item_version,
        applicant_name=notice.applicant_name,
        issued_by=staff_out(notice.issued_by),
        issued_at=notice.issued_at,
        issues=[issue_out(i) for i in notice.issues],
    )
