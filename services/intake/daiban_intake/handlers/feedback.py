"""What citizens say afterwards: one rating per case (好差评), and complaints for the supervisors.

Each returns what it recorded (`Evaluated`, `Filed`); the route answers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daiban_common import clock
from daiban_common.auth import Principal
from daiban_common.calendar import WorkCalendar, to_shanghai_date
from daiban_common.errors import Conflict, FieldError, InvalidInput, NotFound
from daiban_common.idempotency import AnswerOf, Once, Replayed, remember, replay
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import CaseEvaluated, ComplaintFiled, EvaluationLevel, RectificationOpened
from daiban_contracts.ids import uuid7
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_intake.domain.applicants import normalise_phone
from daiban_intake.domain.feedback import (
    INDICATORS,
    LEVEL_LABELS,
    mask_free_text,
    opens_rectification,
    rectification_due,
)
from daiban_intake.domain.progress import CaseStatus, Stage
from daiban_intake.handlers.common import add_stage
from daiban_intake.models import Case, Complaint, Evaluation, Rectification
from daiban_intake.queries.cases import public_case, visible_case
from daiban_intake.queries.orgs import org_names
from daiban_intake.schemas import ComplaintTarget, Evaluate, FileComplaint

PUBLIC_ACTOR = "public"


@dataclass(frozen=True)
class Evaluated:
    evaluation: Evaluation
    # A dissatisfied rating opens a rectification for the unit that decided.
    rectification_opened: bool


def _check_scores(scores: dict[str, int]) -> None:
    errors = [
        FieldError(f"scores.{key}", f"未知的评价指标，可选：{'、'.join(INDICATORS)}")
        for key in scores
        if key not in INDICATORS
    ]
    errors += [
        FieldError(f"scores.{key}", "评分应为1至5的整数")
        for key, value in scores.items()
        if not 1 <= value <= 5
    ]
    if errors:
        raise InvalidInput(errors=errors)


async def evaluate(
    command: Evaluate,
    *,
    once: Once | None,
    answer: AnswerOf[Evaluated],
    calendar: WorkCalendar,
    uow: UnitOfWork,
) -> Evaluated | Replayed:
    """Once per case, after handover; a dissatisfied rating opens a rectification (15 working days).

    A retry with the same Idempotency-Key replays the first answer rather than the 409 of a second rating.
    """
    _check_scores(command.scores)
    async with uow:
        if (stored := await replay(uow, once)) is not None:
            return Replayed(stored)
        case = await public_case(uow.session, command.case_number, command.query_code, lock=True)
        evaluated = await record_evaluation(
            uow, case, Rating(command.level, command.scores, command.comment), PUBLIC_ACTOR, calendar
        )
        await remember(uow, once, answer(evaluated))
        await uow.commit()
    return evaluated


@dataclass(frozen=True)
class Rating:
    """What a citizen said of a case: the level, scores per indicator, an optional comment."""

    level: EvaluationLevel
    scores: dict[str, int]
    comment: str = ""


async def record_evaluation(
    uow: UnitOfWork, case: Case, rating: Rating, actor: str, calendar: WorkCalendar
) -> Evaluated:
    """The rating of `case` (locked) in the open unit of work, by `actor` (the public, or the
    outside system that collected it): once per case, after handover."""
    now = clock.now()
    _check_scores(rating.scores)
    earlier = await uow.session.get(Evaluation, case.number)
    if case.status == CaseStatus.evaluated.value or earlier is not None:
        raise Conflict(
            "该办件已评价，每件只能评价一次",
            type="/problems/already-evaluated",
            title="Already evaluated",
        )
    if case.status != CaseStatus.handed_over.value:
        raise Conflict(
            "办理结果送达后才能评价", type="/problems/not-handed-over", title="Not handed over yet"
        )
    evaluation = Evaluation(
        case_number=case.number,
        level=rating.level.value,
        scores=rating.scores,
        comment=rating.comment,
        evaluated_at=now,
    )
    uow.session.add(evaluation)
    case.status = CaseStatus.evaluated.value
    case.updated_at = now
    add_stage(uow.session, case, Stage.evaluated, case.org, now)
    uow.emit(
        CaseEvaluated(
            case_number=case.number,
            accepting_org=case.org,
            deciding_org=case.deciding_org,
            level=rating.level,
            scores=rating.scores,
            has_comment=bool(rating.comment),
            evaluated_at=now,
        ),
        subject=case.number,
        org=case.org,
        actor=actor,
    )
    rectify = opens_rectification(rating.level)
    if rectify:
        _open_rectification(case, rating, now, calendar, uow)
    return Evaluated(evaluation, rectify)


def _open_rectification(
    case: Case, rating: Rating, now: datetime, calendar: WorkCalendar, uow: UnitOfWork
) -> None:
    # The unit that decided answers for the service; the accepting point if it decided itself.
    org = case.deciding_org or case.org
    reason = f"群众评价“{LEVEL_LABELS[rating.level]}”"
    if rating.comment:
        reason += f"：{mask_free_text(rating.comment)}"
    rectification = Rectification(
        id=str(uuid7()),
        case_number=case.number,
        org=org,
        reason=reason,
        due_date=rectification_due(calendar, to_shanghai_date(now)),
        opened_at=now,
    )
    uow.session.add(rectification)
    uow.emit(
        RectificationOpened(
            rectification_id=rectification.id,
            case_number=case.number,
            org=org,
            reason=reason,
            due_date=rectification.due_date,
            opened_at=now,
        ),
        subject=case.number,
        org=org,
        actor="system:intake",
    )


async def _target_org(
    command: FileComplaint, principal: Principal | None, node: OrgCode, uow: UnitOfWork
) -> str:
    if command.target is ComplaintTarget.case:
        if not command.case_number:
            raise InvalidInput.field("case_number", "投诉办件须填写办件编号")
        if principal is not None:
            return (await visible_case(uow.session, command.case_number, principal)).org
        if not command.query_code:
            raise InvalidInput.field("query_code", "未登录投诉办件须填写查询码")
        return (await public_case(uow.session, command.case_number, command.query_code)).org
    errors = [
        FieldError(name, "投诉窗口或工作人员须填写" + label)
        for name, label, value in (
            ("org", "所在单位", command.org),
            ("target_ref", "窗口编号或工作人员", command.target_ref),
        )
        if not value
    ]
    if errors:
        raise InvalidInput(errors=errors)
    assert command.org is not None
    try:
        org = OrgCode.parse(command.org)
    except InvalidOrgCode as exc:
        raise InvalidInput.field("org", str(exc)) from None
    if not org.is_within(node):
        raise NotFound("该单位不在本节点服务范围内", errors=[FieldError("org", "不在本节点服务范围内")])
    return org.value


@dataclass(frozen=True)
class Filed:
    """A complaint as recorded, with the name of the unit it concerns (code -> name)."""

    complaint: Complaint
    names: dict[str, str]


async def file_complaint(
    command: FileComplaint,
    *,
    principal: Principal | None,
    node: OrgCode,
    once: Once | None,
    answer: AnswerOf[Filed],
    uow: UnitOfWork,
) -> Filed | Replayed:
    """A complaint against a case, a window or a person; the supervisors get an event."""
    async with uow:
        if (stored := await replay(uow, once)) is not None:
            return Replayed(stored)
        filed = await record_complaint(uow, command, principal=principal, node=node)
        await remember(uow, once, answer(filed))
        await uow.commit()
    return filed


async def record_complaint(
    uow: UnitOfWork, command: FileComplaint, *, principal: Principal | None, node: OrgCode
) -> Filed:
    """The complaint in the open unit of work, by `principal` (staff, an outside system) or the public."""
    now = clock.now()
    phone = normalise_phone(command.contact_phone, "contact_phone") if command.contact_phone else None
    actor = principal.sub if principal is not None else PUBLIC_ACTOR
    org = await _target_org(command, principal, node, uow)
    complaint = Complaint(
        id=str(uuid7()),
        org=org,
        target=command.target.value,
        case_number=command.case_number if command.target is ComplaintTarget.case else None,
        target_ref=command.target_ref,
        summary=command.summary,
        contact_phone=phone,
        filed_by=actor,
        filed_at=now,
    )
    uow.session.add(complaint)
    uow.emit(
        ComplaintFiled(
            complaint_id=complaint.id,
            org=org,
            target=complaint.target,
            case_number=complaint.case_number,
            target_ref=complaint.target_ref,
            summary=mask_free_text(command.summary),
            filed_at=now,
        ),
        subject=complaint.case_number or complaint.id,
        org=org,
        actor=actor,
    )
    return Filed(complaint, await org_names(uow.session, [org]))
