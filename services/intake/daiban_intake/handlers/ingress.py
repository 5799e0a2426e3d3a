"""The door: events outside systems push, applied through intake's own commands.

Over NATS the system is read from the ingress subject (the broker guarantees who may publish on
it); over HTTP from its bearer token. Either way the event is checked (daiban_intake.domain.ingress),
recorded in the inbox under the ingress consumer's name, so the same event id arriving both ways
applies once, and applied by the command a window or a citizen uses: the event intake then emits
is its own, with the system as its actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from daiban_common.consumer import Handler, PermanentFailure, delivered_on, first_application
from daiban_common.errors import Problem
from daiban_common.uow import UnitOfWork, UnitOfWorkFactory
from daiban_contracts.case import CaseEvaluated, CaseSupplemented, ComplaintFiled
from daiban_contracts.catalogue import ItemVersionData
from daiban_contracts.envelope import Envelope, EventData
from daiban_contracts.subjects import Subjects
from daiban_intake.context import IntakeContext
from daiban_intake.domain.ingress import (
    Door,
    Refused,
    check_pushed,
    parse_envelope,
    presented_as_required,
    refused_by_command,
)
from daiban_intake.domain.systems import acting_as
from daiban_intake.handlers.aftercare import record_supplement
from daiban_intake.handlers.feedback import Rating, record_complaint, record_evaluation
from daiban_intake.handlers.systems import door_by_id
from daiban_intake.models import Case
from daiban_intake.queries.cases import visible_case
from daiban_intake.schemas import FileComplaint
from daiban_intake.schemas_door import PushError, PushOutcome, PushResult

# The subscription's name; with the node and service it names the durable consumer, and the
# inbox rows of events pushed over HTTP too.
INGRESS = "ingress"


async def apply_pushed(uow: UnitOfWork, payload: EventData, door: Door, context: IntakeContext) -> None:
    """Apply a checked pushed event in the open unit of work; Refused when the command refuses it."""
    principal = acting_as(door)
    try:
        if isinstance(payload, CaseSupplemented):
            case = await _case(uow, payload.case_number, payload.accepting_org, door)
            item = ItemVersionData.model_validate(case.item)
            presented = presented_as_required(item.materials, payload.material_codes)
            record_supplement(uow, case, presented, principal=principal)
        elif isinstance(payload, CaseEvaluated):
            case = await _case(uow, payload.case_number, payload.accepting_org, door)
            rating = Rating(payload.level, dict(payload.scores))
            await record_evaluation(uow, case, rating, principal.sub, context.calendar)
        elif isinstance(payload, ComplaintFiled):
            await record_complaint(uow, _complaint(payload), principal=principal, node=context.node)
        else:
            raise Refused.field("type", f"本服务不受理外部系统推送的{payload.event_type}")
    except Problem as problem:
        raise refused_by_command(problem, payload) from None


async def _case(uow: UnitOfWork, number: str, accepting_org: str, door: Door) -> Case:
    case = await visible_case(uow.session, number, acting_as(door), lock=True)
    if case.org != accepting_org:
        raise Refused.field("data.accepting_org", f"办件{number}的受理单位是{case.org}")
    return case


def _complaint(payload: ComplaintFiled) -> FileComplaint:
    try:
        return FileComplaint(
            target=payload.target,
            case_number=payload.case_number,
            org=payload.org,
            target_ref=payload.target_ref,
            summary=payload.summary,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(["data", *map(str, first["loc"])])
        raise Refused.field(field, f"取值无效：{first['msg']}") from None


def ingress_handler(context: IntakeContext, subjects: Subjects) -> Handler[EventData]:
    """The consumer handler for the ingress subjects: every refusal is permanent (dead-lettered
    with its reason), the system being the one the subject names."""

    async def apply(envelope: Envelope, payload: EventData, uow: UnitOfWork) -> None:
        subject = delivered_on.get() or ""
        tokens = subject.split(".")
        system = tokens[5] if len(tokens) == 8 and tokens[4] == "ingress" else ""
        try:
            if not system or subject != subjects.ingress(envelope.org, system, envelope.type):
                raise Refused.field("subject", f"主题{subject}与事件的类型、org不一致")
            door = await door_by_id(uow.session, system)
            checked = check_pushed(envelope, door, system)
            assert door is not None  # check_pushed refuses an unknown system
            await apply_pushed(uow, checked, door, context)
        except Refused as refused:
            raise PermanentFailure(str(refused)) from None

    return apply


def _refusal(event_id: str | None, refused: Refused) -> PushResult:
    errors = [PushError(field=e.field, message=e.message) for e in refused.errors]
    return PushResult(
        id=event_id,
        result=PushOutcome.refused,
        reason=refused.reason,
        field=errors[0].field if errors else None,
        errors=errors,
    )


async def push_one(
    raw: Any, door: Door, *, context: IntakeContext, uow_factory: UnitOfWorkFactory, consumer: str
) -> PushResult:
    """One event of an HTTP batch, in a unit of work of its own: one refused changes nothing of
    the others."""
    event_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    try:
        envelope = parse_envelope(raw)
        payload = check_pushed(envelope, door, door.system)
        async with uow_factory() as uow:
            if not await first_application(uow, consumer, envelope):
                return PushResult(id=envelope.id, result=PushOutcome.duplicate)
            await apply_pushed(uow, payload, door, context)
            await uow.commit()
    except Refused as refused:
        return _refusal(event_id, refused)
    return PushResult(id=envelope.id, result=PushOutcome.accepted)


async def push_batch(
    events: Sequence[Any],
    door: Door,
    *,
    context: IntakeContext,
    uow_factory: UnitOfWorkFactory,
    consumer: str,
) -> list[PushResult]:
    """Each event in order (a later one may depend on an earlier: a supplement, then a rating)."""
    return [
        await push_one(raw, door, context=context, uow_factory=uow_factory, consumer=consumer)
        for raw in events
    ]
