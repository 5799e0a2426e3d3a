"""Accepting an application (受理): a case with a receipt, or a one-time notice.

Both outcomes commit: the notice is kept and counted (its event is emitted in the same unit of
work), and its 422 answer is stored for replay like any other answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from daiban_common import clock
from daiban_common.auth import KnownOrgs, Principal, can_see
from daiban_common.calendar import WorkCalendar, default_calendar, to_shanghai_date
from daiban_common.contracts.case import (
    CaseAccepted,
    CaseSummary,
    OneTimeNoticeIssued,
    OnTheSpotResult,
    Outcome,
)
from daiban_common.contracts.catalogue import ItemVersionData
from daiban_common.errors import FieldError, InvalidInput, NotFound
from daiban_common.idempotency import PROBLEM_JSON, Answer, Once, remember, replay
from daiban_common.orgcodes import InvalidOrgCode, OrgCode
from daiban_common.uow import UnitOfWork
from daiban_intake.domain import acceptance, applicants, numbers
from daiban_intake.domain.materials import MaterialCheck, Presented, Promised, check_materials, validate_codes
from daiban_intake.domain.progress import CaseStatus, Stage
from daiban_intake.handlers.common import add_stage, next_sequence, staff_record, staff_ref
from daiban_intake.models import Case, OneTimeNotice
from daiban_intake.presenters import OUTCOME_LABELS, decision_out, notice_out, receipt_out, staff_out
from daiban_intake.queries.items import item_in_force
from daiban_intake.schemas import AcceptanceOut, AcceptApplication

NOTICE_TYPE = "/problems/one-time-notice"


@dataclass(frozen=True)
class Acceptor:
    """Who accepts, where this node is, and what personal data is hashed with."""

    principal: Principal
    node: OrgCode
    salt: str
    calendar: WorkCalendar = field(default_factory=default_calendar)
    # Org units below this node that run a node of their own (DAIBAN_CHILD_NODES): they accept there.
    child_nodes: tuple[OrgCode, ...] = ()
    # The county's org units as routing publishes them: a case is never accepted where routing
    # has no such unit (it could not take the case, which would wait at "accepted" for ever).
    known_orgs: KnownOrgs | None = None


async def _accepting_org(raw: str, acceptor: Acceptor) -> OrgCode:
    try:
        org = OrgCode.parse(raw)
    except InvalidOrgCode as exc:
        raise InvalidInput.field("org", str(exc)) from None
    if not can_see(acceptor.principal, org) or not org.is_within(acceptor.node):
        raise NotFound("受理单位不存在或不在您的管辖范围内", errors=[FieldError("org", "不在您的管辖范围内")])
    child = next((c for c in acceptor.child_nodes if org.is_within(c)), None)
    if child is not None:
        raise InvalidInput.field("org", f"受理单位{org.value}由{child.value}的独立节点受理，请在该节点办理")
    if acceptor.known_orgs is not None and not await acceptor.known_orgs.is_known(org.value):
        raise InvalidInput.field("org", f"区划单位{org.value}不在本县区划目录中，无法在此受理")
    return org


def _applicant(command: AcceptApplication, today: Any) -> applicants.Applicant:
    a = command.applicant
    if a.kind == "person":
        if not a.id_number:
            raise InvalidInput.field("applicant.id_number", "自然人申请须填写身份证号码")
        return applicants.person(
            name=a.name, id_number=a.id_number, phone=a.phone, address=a.address, today=today
        )
    if not a.credit_code:
        raise InvalidInput.field("applicant.credit_code", "法人申请须填写统一社会信用代码")
    return applicants.organisation(
        name=a.name, credit_code=a.credit_code, legal_representative=a.legal_representative, phone=a.phone
    )


async def accept_application(
    command: AcceptApplication, *, acceptor: Acceptor, once: Once, instance: str, uow: UnitOfWork
) -> Answer:
    """Check the application against the item version in force and accept it, or issue a notice."""
    now = clock.now()
    today = to_shanghai_date(now)
    org = await _accepting_org(command.org, acceptor)
    applicant = _applicant(command, today)
    representative = None
    if command.representative is not None:
        r = command.representative
        representative = applicants.representative(
            name=r.name, id_number=r.id_number, phone=r.phone, relation=r.relation, today=today
        )
    presented = [Presented(m.code, m.form, m.copies) for m in command.materials]
    promised = [Promised(d.code, d.due_date) for d in command.deficiencies]
    async with uow:
        stored = await replay(uow, once)
        if stored is not None:
            return stored
        item = acceptance.ensure_acceptable(
            await item_in_force(uow.session, command.item, org, today), org=org, channel=command.channel
        )
        validate_codes(item.materials, presented, promised, today=today)
        check = check_materials(item.materials, presented, promised)
        if check.complete and command.on_the_spot is not None:
            acceptance.ensure_on_the_spot_allowed(
                item,
                org=org,
                role=acceptor.principal.role,
                has_deficiencies=bool(check.deficiencies),
                refused_without_reason=(
                    command.on_the_spot.outcome is Outcome.refused and not command.on_the_spot.reasons
                ),
            )
        if not check.complete:
            answer = await _issue_notice(item, check, applicant, org, acceptor, now, instance, uow)
        else:
            answer = await _open_case(
                command, item, check, applicant, representative, org, acceptor, now, uow
            )
        await remember(uow, once, answer)
        await uow.commit()
    return answer


async def _issue_notice(
    item: ItemVersionData,
    check: MaterialCheck,
    applicant: applicants.Applicant,
    org: OrgCode,
    acceptor: Acceptor,
    now: datetime,
    instance: str,
    uow: UnitOfWork,
) -> Answer:
    day = to_shanghai_date(now)
    number = numbers.notice_number(org.value, day, await next_sequence(uow.session, "notice", org.value, day))
    notice = OneTimeNotice(
        number=number,
        org=org.value,
        item_code=item.implementation_code,
        item_version=item.version,
        item_name=item.name,
        applicant_name=applicant.name,
        issued_by=staff_record(acceptor.principal),
        issues=[issue.model_dump(mode="json") for issue in check.issues],
        issued_at=now,
    )
    uow.session.add(notice)
    uow.emit(
        OneTimeNoticeIssued(
            notice_number=number,
            item_implementation_code=item.implementation_code,
            item_name=item.name,
            org=org.value,
            issued_by=staff_ref(acceptor.principal),
            issues=check.issues,
            issued_at=now,
        ),
        subject=number,
        org=org.value,
        actor=acceptor.principal.sub,
    )
    shown = notice_out(notice)
    body: dict[str, Any] = {
        "type": NOTICE_TYPE,
        "title": "One-time notice",
        "status": 422,
        "detail": f"材料不齐全或不符合要求，共{len(check.issues)}项，请按一次性告知书一次补齐后再来办理",
        "instance": instance,
        "errors": [
            {
                "field": f"materials.{issue.material_code}",
                "message": f"{issue.material_name}：{issue.note or '未提交'}",
            }
            for issue in check.issues
        ],
        "notice_number": number,
        "notice": shown.model_dump(mode="json"),
        "notice_url": f"/v1/notices/{number}.html",
    }
    return Answer(422, body, PROBLEM_JSON)


async def _open_case(
    command: AcceptApplication,
    item: ItemVersionData,
    check: MaterialCheck,
    applicant: applicants.Applicant,
    representative: applicants.Representative | None,
    org: OrgCode,
    acceptor: Acceptor,
    now: datetime,
    uow: UnitOfWork,
) -> Answer:
    day = to_shanghai_date(now)
    number = numbers.case_number(org.value, day, await next_sequence(uow.session, "case", org.value, day))
    promised = acceptance.promised_date(acceptor.calendar, day, item)
    names = {m.code: m.name for m in item.materials}
    case = Case(
        number=number,
        org=org.value,
        item_code=item.implementation_code,
        item_version=item.version,
        item=item.model_dump(mode="json"),
        channel=command.channel.value,
        applicant=applicant.as_record(),
        representative=representative.as_record() if representative else None,
        materials=[
            {"code": m.code, "name": names[m.code], "form": m.form.value, "copies": m.copies}
            for m in command.materials
        ],
        deficiencies=[
            {
                "code": d.material_code,
                "name": d.material_name,
                "due_date": d.due_date.isoformat(),
                "supplied_at": None,
            }
            for d in check.deficiencies
        ],
        green_channel=command.green_channel,
        first_responder=staff_record(acceptor.principal),
        query_code=numbers.new_query_code(),
        accepted_at=now,
        promised_date=promised.date,
        promised_date_provisional=promised.provisional,
        due_date=promised.date,
        status=CaseStatus.accepted.value,
        holding_org=org.value,
        reasons=[],
        legal_basis=[],
        pending_supplement=[],
    )
    uow.session.add(case)
    add_stage(uow.session, case, Stage.accepted, org.value, now)
    on_the_spot = None
    if command.on_the_spot is not None:
        spot = command.on_the_spot
        on_the_spot = OnTheSpotResult(
            outcome=spot.outcome, result=spot.result, decided_by=staff_ref(acceptor.principal)
        )
        # Decided at the window where the citizen stands: the result is theirs to collect at once.
        case.status = CaseStatus.ready_for_handover.value
        case.outcome = spot.outcome.value
        case.result = spot.result
        case.reasons = list(spot.reasons)
        case.deciding_org = org.value
        case.decided_at = now
        add_stage(
            uow.session, case, Stage.concluded_on_the_spot, org.value, now, OUTCOME_LABELS[spot.outcome]
        )
    uow.emit(
        CaseAccepted(
            case=CaseSummary(
                case_number=number,
                item=acceptance.item_ref(item),
                accepting_org=org.value,
                channel=command.channel,
                applicant=applicants.applicant_ref(applicant, acceptor.salt),
                first_responder=staff_ref(acceptor.principal),
                accepted_at=now,
                promised_date=promised.date,
                promised_date_provisional=promised.provisional,
                green_channel=command.green_channel,
                deficiencies=check.deficiencies,
            ),
            on_the_spot=on_the_spot,
        ),
        subject=number,
        org=org.value,
        actor=acceptor.principal.sub,
    )
    status = CaseStatus(case.status)
    out = AcceptanceOut(
        case_number=number,
        query_code=case.query_code,
        status=status.value,
        status_label=status.label,
        promised_date=case.promised_date,
        promised_date_provisional=case.promised_date_provisional,
        first_responder=staff_out(case.first_responder),
        decision=decision_out(case),
        receipt=receipt_out(case),
        receipt_url=f"/v1/cases/{number}/receipt.html",
    )
    return Answer(201, out.model_dump(mode="json"))
