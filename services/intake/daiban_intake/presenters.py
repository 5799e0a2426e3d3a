"""Results and rows -> response models (labels in Chinese, personal data only for staff), and the
printable HTML for the citizen: the acceptance receipt (受理回执), the one-time notice (一次性告知书) and the
public progress page for hall kiosks (办理进度). Every org code shown comes with its unit's name
(`names`: code -> name from the county's directory; a code it lacks gets a null name).

The pages are plain string templates; every value goes through `html.escape`, since names and
addresses are typed by people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any, Final

from daiban_common.calendar import SHANGHAI, to_shanghai_date
from daiban_contracts.case import Channel, EvaluationLevel, Outcome
from daiban_contracts.catalogue import ItemKind, ItemVersionData, MaterialForm
from daiban_contracts.orgcodes import OrgCode
from daiban_intake.domain.feedback import LEVEL_LABELS
from daiban_intake.domain.materials import PROBLEM_LABELS
from daiban_intake.domain.progress import CaseStatus, Stage
from daiban_intake.handlers.aftercare import HandedOver, Supplied
from daiban_intake.handlers.feedback import Evaluated, Filed
from daiban_intake.models import Case, CaseStage, OneTimeNotice
from daiban_intake.schemas import (
    AcceptanceOut,
    ApplicantOut,
    CaseListItem,
    CaseOut,
    ComplaintOut,
    ConditionalOut,
    DecisionOut,
    DeficiencyOut,
    EvaluationOut,
    HandoverOut,
    HandoverRecordOut,
    IssueOut,
    ItemOut,
    MaterialOut,
    NoticeOut,
    ProgressOut,
    ReceiptOut,
    RepresentativeOut,
    StaffOut,
    StageOut,
    SupplementOut,
)

CHANNEL_LABELS: Final = {
    Channel.window: "窗口受理",
    Channel.agent: "代办员代办",
    Channel.online: "网上申请",
    Channel.hotline: "热线申请",
    Channel.home_visit: "上门服务",
}
PROGRESS_HINT: Final = "凭办件编号和查询码可随时查询办理进度；请妥善保管本回执，领取结果时出示。"
COMPLAINT_FILED: Final = "投诉已登记，监察人员将及时核实处理并答复"


def item_out(item: dict[str, Any]) -> ItemOut:
    data = ItemVersionData.model_validate(item)
    return ItemOut(
        item_code=data.implementation_code,
        base_code=data.base_code,
        version=data.version,
        name=data.name,
        kind=data.kind.value,
        kind_label=ItemKind(data.kind).label,
        promised_working_days=data.promised_working_days,
    )


OrgNames = Mapping[str, str]


def handover_record_out(record: dict[str, Any], names: OrgNames) -> HandoverRecordOut:
    """The stored handover, its staff member with the unit's name like every other staff field."""
    return HandoverRecordOut.model_validate(
        {**record, "handed_over_by": staff_out(record["handed_over_by"], names)}
    )


def staff_out(record: dict[str, Any], names: OrgNames) -> StaffOut:
    return StaffOut(
        staff_id=record["staff_id"], name=record["name"], org=record["org"], org_name=names.get(record["org"])
    )


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


def _form_label(form: str) -> str:
    return MaterialForm(form).label if form in MaterialForm.__members__ else form


def issue_out(issue: dict[str, Any]) -> IssueOut:
    return IssueOut(
        **issue,
        problem_label=PROBLEM_LABELS.get(issue["problem"], issue["problem"]),
        required_form_label=_form_label(issue["required_form"]),
    )


def conditional_out(record: dict[str, Any]) -> ConditionalOut:
    return ConditionalOut(**record, required_form_label=_form_label(record["required_form"]))


def decision_out(case: Case, names: OrgNames) -> DecisionOut | None:
    if case.outcome is None:
        return None
    return DecisionOut(
        outcome=case.outcome,
        outcome_label=Outcome(case.outcome).label,
        result=case.result,
        reasons=case.reasons,
        legal_basis=case.legal_basis,
        deciding_org=case.deciding_org,
        deciding_org_name=names.get(case.deciding_org) if case.deciding_org else None,
        decided_at=case.decided_at,
    )


def stage_out(stage: CaseStage, names: OrgNames) -> StageOut:
    return StageOut(
        stage=Stage(stage.stage),
        label=Stage(stage.stage).label,
        org=stage.org,
        org_name=names.get(stage.org),
        org_tier_label=OrgCode.parse(stage.org).tier.label,
        at=stage.at,
        date=to_shanghai_date(stage.at),
        note=stage.note,
    )


def receipt_out(case: Case, names: OrgNames) -> ReceiptOut:
    return ReceiptOut(
        case_number=case.number,
        query_code=case.query_code,
        item=item_out(case.item),
        accepting_org=case.org,
        accepting_org_name=names.get(case.org),
        channel=case.channel,
        channel_label=CHANNEL_LABELS[Channel(case.channel)],
        applicant=applicant_out(case.applicant),
        representative=RepresentativeOut.model_validate(case.representative) if case.representative else None,
        materials=materials_out(case.materials),
        deficiencies=deficiencies_out(case.deficiencies),
        accepted_at=case.accepted_at,
        promised_date=case.promised_date,
        promised_date_provisional=case.promised_date_provisional,
        due_date=case.due_date,
        due_date_provisional=case.due_date_provisional,
        first_responder=staff_out(case.first_responder, names),
        progress_hint=PROGRESS_HINT,
    )


def case_out(case: Case, stages: Sequence[CaseStage], names: OrgNames) -> CaseOut:
    status = CaseStatus(case.status)
    return CaseOut(
        case_number=case.number,
        org=case.org,
        org_name=names.get(case.org),
        status=status.value,
        status_label=status.label,
        item=item_out(case.item),
        channel=case.channel,
        applicant=applicant_out(case.applicant),
        representative=RepresentativeOut.model_validate(case.representative) if case.representative else None,
        materials=materials_out(case.materials),
        deficiencies=deficiencies_out(case.deficiencies),
        conditions_met=case.conditions_met,
        green_channel=case.green_channel,
        first_responder=staff_out(case.first_responder, names),
        accepted_at=case.accepted_at,
        promised_date=case.promised_date,
        promised_date_provisional=case.promised_date_provisional,
        due_date=case.due_date,
        due_date_provisional=case.due_date_provisional,
        holding_org=case.holding_org,
        holding_org_name=names.get(case.holding_org),
        decision=decision_out(case, names),
        pending_supplement=[issue_out(i) for i in case.pending_supplement],
        supervision_flag=case.supervision_flag,
        handover=handover_record_out(case.handover, names) if case.handover else None,
        stages=[stage_out(s, names) for s in stages],
    )


def case_list_item(case: Case, names: OrgNames) -> CaseListItem:
    status = CaseStatus(case.status)
    return CaseListItem(
        case_number=case.number,
        org=case.org,
        org_name=names.get(case.org),
        status=status.value,
        status_label=status.label,
        item_code=case.item_code,
        item_name=str(case.item["name"]),
        applicant_name=str(case.applicant["name"]),
        accepted_at=case.accepted_at,
        promised_date=case.promised_date,
        due_date=case.due_date,
        holding_org=case.holding_org,
        holding_org_name=names.get(case.holding_org),
        supervision_flag=case.supervision_flag,
    )


def public_case_fields(case: Case, names: OrgNames) -> dict[str, Any]:
    """The fields of `PublicCaseOut`: what anyone may know of a case."""
    status = CaseStatus(case.status)
    outcome = Outcome(case.outcome) if case.outcome else None
    return {
        "item_name": str(case.item["name"]),
        "accepting_org": case.org,
        "accepting_org_name": names.get(case.org),
        "status": status.value,
        "status_label": status.label,
        "holding_org": case.holding_org,
        "holding_org_name": names.get(case.holding_org),
        "promised_date": case.promised_date,
        "outcome": outcome.value if outcome else None,
        "outcome_label": outcome.label if outcome else None,
    }


def progress_out(case: Case, stages: Sequence[CaseStage], names: OrgNames) -> ProgressOut:
    """Built field by field from what is public: no applicant, no staff, no result text."""
    return ProgressOut(
        **public_case_fields(case, names),
        case_number=case.number,
        holding_org_tier_label=OrgCode.parse(case.holding_org).tier.label,
        promised_date_provisional=case.promised_date_provisional,
        due_date=case.due_date,
        due_date_provisional=case.due_date_provisional,
        stages=[stage_out(s, names) for s in stages],
    )


def notice_out(notice: OneTimeNotice, names: OrgNames) -> NoticeOut:
    return NoticeOut(
        notice_number=notice.number,
        org=notice.org,
        org_name=names.get(notice.org),
        item_code=notice.item_code,
        item_name=notice.item_name,
        item_version=notice.item_version,
        applicant_name=notice.applicant_name,
        issued_by=staff_out(notice.issued_by, names),
        issued_at=notice.issued_at,
        issues=[issue_out(i) for i in notice.issues],
        conditional=[conditional_out(c) for c in notice.conditional],
    )


# Where a created thing is read (the Location of a 201).


def case_location(number: str) -> str:
    return f"/v1/cases/{number}"


# The printable pages, each the path a signed link is made for (`domain.links`).


def receipt_page(number: str) -> str:
    return f"/v1/cases/{number}/receipt.html"


def notice_page(number: str) -> str:
    return f"/v1/notices/{number}.html"


def acceptance_location(case: Case) -> str:
    return case_location(case.number)


def supplement_location(supplied: Supplied) -> str:
    # A supplement has no address of its own: it is part of the case it completes.
    return case_location(supplied.case.number)


def evaluation_location(evaluated: Evaluated) -> str:
    # The case's public page, where the citizen who evaluated it reads it; the query code it also
    # needs is never put in a header (headers reach logs and proxies).
    return f"/v1/public/progress/{evaluated.evaluation.case_number}"


def complaint_location(filed: Filed) -> str:
    return f"/v1/complaints/{filed.complaint.id}"


def acceptance_out(case: Case, names: OrgNames, receipt_url: str) -> AcceptanceOut:
    status = CaseStatus(case.status)
    return AcceptanceOut(
        case_number=case.number,
        query_code=case.query_code,
        status=status.value,
        status_label=status.label,
        promised_date=case.promised_date,
        promised_date_provisional=case.promised_date_provisional,
        first_responder=staff_out(case.first_responder, names),
        decision=decision_out(case, names),
        receipt=receipt_out(case, names),
        receipt_url=receipt_url,
    )


def supplement_out(supplied: Supplied) -> SupplementOut:
    status = CaseStatus(supplied.case.status)
    return SupplementOut(
        case_number=supplied.case.number,
        kind=supplied.supplement.kind,
        material_codes=supplied.material_codes,
        status=status.value,
        status_label=status.label,
        recorded_at=supplied.supplement.recorded_at,
    )


def handover_out(handed: HandedOver) -> HandoverOut:
    return HandoverOut(
        case_number=handed.case.number,
        status=handed.case.status,
        status_label=CaseStatus(handed.case.status).label,
        method=handed.method.value,
        recipient_name=handed.recipient_name,
        carrier=handed.carrier,
        tracking_number=handed.tracking_number,
        handed_over_at=handed.at,
    )


def evaluation_out(evaluated: Evaluated) -> EvaluationOut:
    evaluation = evaluated.evaluation
    return EvaluationOut(
        case_number=evaluation.case_number,
        level=evaluation.level,
        level_label=LEVEL_LABELS[EvaluationLevel(evaluation.level)],
        evaluated_at=evaluation.evaluated_at,
        rectification_opened=evaluated.rectification_opened,
    )


COMPLAINT_TARGET_LABELS: Final = {"case": "办件", "window": "窗口", "staff": "工作人员"}


def complaint_out(filed: Filed) -> ComplaintOut:
    complaint = filed.complaint
    return ComplaintOut(
        complaint_id=complaint.id,
        org=complaint.org,
        org_name=filed.names.get(complaint.org),
        target=complaint.target,
        target_label=COMPLAINT_TARGET_LABELS.get(complaint.target, complaint.target),
        filed_at=complaint.filed_at,
        message=COMPLAINT_FILED,
    )


# Printable pages.

_STYLE = """
body { font-family: "Songti SC", "SimSun", serif; max-width: 720px; margin: 2em auto; color: #000; }
h1 { text-align: center; font-size: 1.6em; letter-spacing: 0.2em; }
table { width: 100%; border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #000; padding: 0.4em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; width: 28%; }
.note { font-size: 0.9em; margin-top: 1.5em; }
.sign { margin-top: 3em; text-align: right; }
@media print { body { margin: 0 auto; } }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def _rows(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in pairs)


def _table(head: list[str], rows: Iterable[list[object]]) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def _when(ts: datetime) -> str:
    return ts.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def _unit(code: str, name: str | None) -> str:
    """A unit as printed: its name, with the code beside it for whoever must look it up."""
    return f"{name}（{code}）" if name else code


def _staff(staff: StaffOut) -> str:
    return f"{staff.name}（{staff.org_name}）" if staff.org_name else staff.name


def receipt_html(receipt: ReceiptOut) -> str:
    a = receipt.applicant
    identity = a.id_number or a.credit_code or ""
    promised = receipt.promised_date.strftime("%Y年%m月%d日") + (
        "（暂定）" if receipt.promised_date_provisional else ""
    )
    info = _rows(
        [
            ("办件编号", receipt.case_number),
            ("查询码", receipt.query_code),
            ("办理事项", f"{receipt.item.name}（{receipt.item.kind_label}）"),
            ("事项编码", f"{receipt.item.item_code} 第{receipt.item.version}版"),
            ("申请人", a.name),
            ("证件号码", identity),
            ("联系电话", a.phone or ""),
            ("受理单位", _unit(receipt.accepting_org, receipt.accepting_org_name)),
            ("受理方式", receipt.channel_label),
            ("受理时间", _when(receipt.accepted_at)),
            ("承诺办结日期", promised),
            *_moved_due(receipt),
            ("首问责任人", _staff(receipt.first_responder)),
        ]
    )
    materials = _table(
        ["材料编号", "材料名称", "形式", "份数"],
        ([m.code, m.name, m.form_label, m.copies] for m in receipt.materials),
    )
    deficiencies = ""
    if receipt.deficiencies:
        deficiencies = "<h2>容缺材料（请按期补交）</h2>" + _table(
            ["材料编号", "材料名称", "承诺补交日期"],
            ([d.code, d.name, d.due_date.isoformat()] for d in receipt.deficiencies),
        )
    body = (
        f"<table>{info}</table><h2>已收材料</h2>{materials}{deficiencies}"
        f'<p class="note">{escape(receipt.progress_hint)}</p><p class="sign">（受理专用章）</p>'
    )
    return _page("受理回执", body)


def _moved_due(receipt: ReceiptOut) -> list[tuple[str, str]]:
    """The deadline as moved since acceptance (pauses, an extension, the year's official schedule)."""
    if receipt.due_date == receipt.promised_date:
        return []
    moved = receipt.due_date.strftime("%Y年%m月%d日") + ("（暂定）" if receipt.due_date_provisional else "")
    return [("调整后办结日期", moved)]


def notice_html(notice: NoticeOut) -> str:
    info = _rows(
        [
            ("告知书编号", notice.notice_number),
            ("申请人", notice.applicant_name),
            ("申请事项", f"{notice.item_name}（{notice.item_code} 第{notice.item_version}版）"),
            ("告知单位", _unit(notice.org, notice.org_name)),
            ("告知时间", _when(notice.issued_at)),
            ("经办人", _staff(notice.issued_by)),
        ]
    )
    issues = _table(
        ["材料编号", "材料名称", "问题", "须提交形式", "份数", "说明"],
        (
            [
                i.material_code,
                i.material_name,
                i.problem_label,
                i.required_form_label,
                i.required_copies,
                i.note,
            ]
            for i in notice.issues
        ),
    )
    conditional = ""
    if notice.conditional:
        conditional = (
            "<h2>按情形提交的材料</h2><p>以下材料仅在相应情形下需要，请对照自身情况，符合的一并准备：</p>"
            + _table(
                ["材料编号", "材料名称", "适用情形", "须提交形式", "份数", "说明"],
                (
                    [
                        c.material_code,
                        c.material_name,
                        c.condition,
                        "由窗口调取" if c.fetched_by_window else c.required_form_label,
                        "" if c.fetched_by_window else c.required_copies,
                        c.note,
                    ]
                    for c in notice.conditional
                ),
            )
        )
    body = (
        f"<table>{info}</table><p>您申请的事项，经审查，所需材料尚有以下{len(notice.issues)}项不齐全或不符合要求。"
        "现一次性告知如下，请补齐后再来办理：</p>"
        f"{issues}{conditional}"
        '<p class="note">本告知书一次性列明全部问题，补齐上述材料后即予受理。</p>'
        '<p class="sign">（受理专用章）</p>'
    )
    return _page("一次性告知书", body)


def progress_html(progress: ProgressOut) -> str:
    """The public progress as a page for hall kiosks and LED boards: only what `progress_out` made
    public (no applicant, no staff, no query code)."""
    promised = progress.promised_date.strftime("%Y年%m月%d日") + (
        "（暂定）" if progress.promised_date_provisional else ""
    )
    info = _rows(
        [
            ("办件编号", progress.case_number),
            ("办理事项", progress.item_name),
            ("受理单位", _unit(progress.accepting_org, progress.accepting_org_name)),
            ("当前状态", progress.status_label),
            ("当前办理单位", _unit(progress.holding_org, progress.holding_org_name)),
            ("承诺办结日期", promised),
            *([("办理结果", progress.outcome_label)] if progress.outcome_label else []),
        ]
    )
    stages = _table(
        ["时间", "办理环节", "办理单位", "说明"],
        ([_when(s.at), s.label, _unit(s.org, s.org_name), s.note] for s in progress.stages),
    )
    body = f"<table>{info}</table><h2>办理过程</h2>{stages}"
    return _page("办理进度", body)
