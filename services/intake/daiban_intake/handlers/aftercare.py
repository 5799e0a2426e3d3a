"""After acceptance, at the point where the citizen applied: supplements and handover (送达).

Each returns what it recorded (`Supplied`, `HandedOver`); the route answers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daiban_common import clock
from daiban_common.auth import Principal
from daiban_common.calendar import to_shanghai_date
from daiban_common.errors import Conflict, FieldError, InvalidInput
from daiban_common.idempotency import AnswerOf, Once, Replayed, remember, replay
from daiban_common.identity import InvalidIdentity, mask_resident_id, normalize_resident_id
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import (
    CaseHandedOver,
    CaseSupplemented,
    DeficienciesSupplied,
    HandoverMethod,
    MaterialIssue,
)
from daiban_contracts.catalogue import ItemVersionData
from daiban_contracts.ids import uuid7
from daiban_intake.domain.applicants import Applicant, may_collect
from daiban_intake.domain.materials import Presented, check_supplied, issue_field, validate_codes
from daiban_intake.domain.progress import CaseStatus, Stage
from daiban_intake.handlers.common import add_stage, staff_record, staff_ref
from daiban_intake.models import Case, Supplement
from daiban_intake.queries.cases import visible_case
from daiban_intake.schemas import HandOver, SupplyMaterials


@dataclass(frozen=True)
class Supplied:
    """Materials recorded for a case: a supplement (补正) or deficiencies promised at acceptance."""

    case: Case
    supplement: Supplement
    material_codes: list[str]


@dataclass(frozen=True)
class HandedOver:
    """The result handed over in person (`recipient_name`, identity checked) or mailed."""

    case: Case
    method: HandoverMethod
    recipient_name: str | None
    carrier: str | None
    tracking_number: str | None
    at: datetime


def _refuse_issues(issues: list[MaterialIssue], presented: list[Presented]) -> None:
    if issues:
        errors = [FieldError(issue_field(i, presented), f"{i.material_name}：{i.note}") for i in issues]
        raise InvalidInput("补交的材料不符合要求", errors=errors)


def _outstanding_deficiencies(case: Case) -> set[str]:
    return {d["code"] for d in case.deficiencies if d.get("supplied_at") is None}


def _mark_supplied(case: Case, codes: set[str], now: datetime) -> None:
    case.deficiencies = [
        {**d, "supplied_at": now.isoformat()} if d["code"] in codes and d.get("supplied_at") is None else d
        for d in case.deficiencies
    ]


async def supply_materials(
    number: str,
    command: SupplyMaterials,
    *,
    principal: Principal,
    once: Once,
    answer: AnswerOf[Supplied],
    uow: UnitOfWork,
) -> Supplied | Replayed:
    """Materials asked for by a supplement request (补正), or deficiencies promised at acceptance."""
    presented = [Presented(m.code, m.form, m.copies) for m in command.materials]
    async with uow:
        if (stored := await replay(uow, once)) is not None:
            return Replayed(stored)
        case = await visible_case(uow.session, number, principal, lock=True)
        supplied = record_supplement(uow, case, presented, principal=principal)
        await remember(uow, once, answer(supplied))
        await uow.commit()
    return supplied


def record_supplement(
    uow: UnitOfWork, case: Case, presented: list[Presented], *, principal: Principal
) -> Supplied:
    """The supplement of `case` (locked) in the open unit of work: checked, recorded, its event
    emitted. A window's request and an outside system's pushed event both come through here."""
    now = clock.now()
    codes = {p.code for p in presented}
    item = ItemVersionData.model_validate(case.item)
    validate_codes(item.materials, presented, [], today=to_shanghai_date(now))
    _refuse_issues(check_supplied(item.materials, presented), presented)
    outstanding = _outstanding_deficiencies(case)
    if case.status == CaseStatus.supplement_requested.value:
        known = {m.code for m in item.materials}
        asked = {i["material_code"] for i in case.pending_supplement} & known
        if asked - codes:
            missing = "、".join(
                i["material_name"] for i in case.pending_supplement if i["material_code"] in asked - codes
            )
            raise InvalidInput.field("materials", f"还须补正：{missing}", detail="补正材料不齐全")
        kind = "supplement"
        case.status = CaseStatus.in_review.value
        case.pending_supplement = []
        _mark_supplied(case, codes & outstanding, now)
        add_stage(uow.session, case, Stage.supplemented, case.org, now)
        uow.emit(
            CaseSupplemented(
                case_number=case.number,
                accepting_org=case.org,
                material_codes=tuple(sorted(codes)),
                supplemented_at=now,
                recorded_by=staff_ref(principal),
            ),
            subject=case.number,
            # Addressed to where the case waits for it: routing at that org's node resumes the clock.
            org=case.holding_org,
            actor=principal.sub,
        )
    elif codes and codes <= outstanding:
        kind = "deficiency"
        _mark_supplied(case, codes, now)
        add_stage(uow.session, case, Stage.deficiencies_supplied, case.org, now)
        uow.emit(
            DeficienciesSupplied(
                case_number=case.number,
                accepting_org=case.org,
                material_codes=tuple(sorted(codes)),
                supplied_at=now,
                recorded_by=staff_ref(principal),
            ),
            subject=case.number,
            org=case.org,
            actor=principal.sub,
        )
    else:
        raise Conflict(
            "该办件当前没有待补正或待补交的材料",
            type="/problems/not-waiting-for-supplement",
            title="Not waiting for a supplement",
        )
    case.updated_at = now
    supplement = Supplement(
        id=str(uuid7()),
        case_number=case.number,
        kind=kind,
        materials=[{"code": p.code, "form": p.form.value, "copies": p.copies} for p in presented],
        recorded_by=staff_record(principal),
        recorded_at=now,
    )
    uow.session.add(supplement)
    return Supplied(case, supplement, sorted(codes))


def _not_ready(status: CaseStatus) -> Conflict:
    if status.rank < CaseStatus.decided.rank:
        detail = "办件尚未作出决定，不能送达"
    elif status.rank < CaseStatus.ready_for_handover.rank:
        detail = "办理结果尚未送回受理点，不能送达"
    else:
        detail = "办理结果已经送达"
    return Conflict(detail, type="/problems/not-ready-for-handover", title="Not ready for handover")


def _recipient(command: HandOver, case: Case) -> tuple[str | None, str | None]:
    """(name, masked ID) of who collected in person; 422 naming the field if identity fails."""
    if command.method is HandoverMethod.mail:
        errors = [
            FieldError(name, "邮寄送达须填写" + label)
            for name, label, value in (
                ("carrier", "快递公司", command.carrier),
                ("tracking_number", "运单号", command.tracking_number),
            )
            if not value
        ]
        if errors:
            raise InvalidInput(errors=errors)
        return None, None
    if not command.recipient_name or not command.recipient_id_number:
        raise InvalidInput(
            "当面送达须核验领取人身份",
            errors=[
                FieldError(name, "必填字段缺失")
                for name, value in (
                    ("recipient_name", command.recipient_name),
                    ("recipient_id_number", command.recipient_id_number),
                )
                if not value
            ],
        )
    try:
        recipient_id = normalize_resident_id(command.recipient_id_number)
    except InvalidIdentity as exc:
        raise InvalidInput.field("recipient_id_number", exc.message) from None
    if not may_collect(recipient_id, Applicant.from_record(case.applicant), case.representative):
        raise InvalidInput.field("recipient_id_number", "领取人不是申请人或其代理人，不能当面领取")
    return command.recipient_name, mask_resident_id(recipient_id)


async def hand_over(
    number: str,
    command: HandOver,
    *,
    principal: Principal,
    once: Once,
    answer: AnswerOf[HandedOver],
    uow: UnitOfWork,
) -> HandedOver | Replayed:
    """The result handed to the applicant where they applied, or mailed; needs a decision first."""
    now = clock.now()
    async with uow:
        if (stored := await replay(uow, once)) is not None:
            return Replayed(stored)
        case = await visible_case(uow.session, number, principal, lock=True)
        status = CaseStatus(case.status)
        if status is not CaseStatus.ready_for_handover:
            raise _not_ready(status)
        name, masked_id = _recipient(command, case)
        case.status = CaseStatus.handed_over.value
        case.holding_org = case.org
        case.handover = {
            "method": command.method.value,
            "recipient_name": name,
            "recipient_id_masked": masked_id,
            "carrier": command.carrier,
            "tracking_number": command.tracking_number,
            "handed_over_at": now.isoformat(),
            "handed_over_by": staff_record(principal),
        }
        case.updated_at = now
        add_stage(
            uow.session,
            case,
            Stage.handed_over,
            case.org,
            now,
            "邮寄送达" if command.method is HandoverMethod.mail else "",
        )
        uow.emit(
            CaseHandedOver(
                case_number=case.number,
                accepting_org=case.org,
                method=command.method,
                carrier=command.carrier,
                tracking_number=command.tracking_number,
                handed_over_at=now,
                handed_over_by=staff_ref(principal),
            ),
            subject=case.number,
            org=case.org,
            actor=principal.sub,
        )
        handed = HandedOver(case, command.method, name, command.carrier, command.tracking_number, now)
        await remember(uow, once, answer(handed))
        await uow.commit()
    return handed
