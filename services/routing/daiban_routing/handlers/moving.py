"""Moving cases between tiers: the event handlers of routing's consumer.

Every hop is an event addressed to the receiving org unit; the receiver records it, acknowledges
it with `case.received` and takes the next step itself. So the same handlers serve a county node
hosting all its townships and a township node that forwards to a county node elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, exists, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from daiban_common import clock
from daiban_common.calendar import default_calendar, to_shanghai_date
from daiban_common.consumer import PermanentFailure
from daiban_common.uow import Prepared, UnitOfWork
from daiban_contracts.case import CaseAccepted, CaseSummary, Outcome
from daiban_contracts.envelope import Envelope
from daiban_contracts.ids import uuid7
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_contracts.routing import (
    CaseForwarded,
    CaseReadyForHandover,
    CaseReceived,
    CaseReturnedDown,
    HopDirection,
)
from daiban_routing.domain.hops import RouteError, StepKind, next_hop_down, next_step_up
from daiban_routing.handlers import SYSTEM_ACTOR, case_rows
from daiban_routing.handlers.assigning import assign_at
from daiban_routing.handlers.cases import note
from daiban_routing.models import Case, Hop
from daiban_routing.queries import lookup
from daiban_routing.queries.cases import CaseStatus, load_case


async def _known_org(uow: UnitOfWork, code: str) -> OrgCode:
    try:
        org = OrgCode.parse(code)
    except InvalidOrgCode as exc:
        raise PermanentFailure(f"区划代码无效：{code}（{exc}）") from None
    if org.value not in (await lookup.DIRECTORY.current(uow.session)).org_units:
        raise PermanentFailure(f"区划单位{code}不在本节点的目录中")
    return org


def _new_case(summary: CaseSummary, now: datetime) -> Case:
    calendar = default_calendar()
    start = to_shanghai_date(summary.accepted_at)
    limit = summary.item.promised_working_days
    due = calendar.add_working_days(start, limit)
    return Case(
        case_number=summary.case_number,
        accepting_org=summary.accepting_org,
        current_org=summary.accepting_org,
        status=CaseStatus.assigned,
        summary=summary.model_dump(mode="json"),
        first_responder_id=summary.first_responder.staff_id,
        green_channel=summary.green_channel,
        accepted_at=summary.accepted_at,
        start_date=start,
        limit_working_days=limit,
        due_date=due.date,
        due_provisional=due.provisional,
        last_activity_at=now,
    )


async def on_case_accepted(envelope: Envelope, payload: CaseAccepted, uow: UnitOfWork) -> None:
    """A case accepted at a point of this node: decide it here or send it up (immediate ones are done)."""
    summary = payload.case
    accepting = await _known_org(uow, summary.accepting_org)
    if await case_rows.known(uow, summary.case_number):
        return  # the same acceptance published twice under two event ids
    now = clock.now()
    case = _new_case(summary, now)
    note(
        uow,
        case,
        at=summary.accepted_at,
        org=accepting.value,
        actor=summary.first_responder.staff_id,
        kind="accepted",
        text=f"{summary.first_responder.name}受理办件：{summary.item.name}",
    )
    if payload.on_the_spot is not None:
        spot = payload.on_the_spot
        case.status = CaseStatus.decided
        case.deciding_org = accepting.value
        case.outcome = spot.outcome.value
        case.result = spot.result
        case.decided_at = summary.accepted_at
        case.decided_by = spot.decided_by.model_dump(mode="json")
        note(
            uow,
            case,
            at=summary.accepted_at,
            org=accepting.value,
            actor=spot.decided_by.staff_id,
            kind="decided",
            text=f"即办件当场办结：{spot.result}",
        )
    else:
        # A case new to routing has no hops yet: its first goes up as number 1.
        await _take_next_step(uow, case, summary, accepting, now, last_up=0)
    case_rows.created(uow, case)


async def _take_next_step(
    uow: UnitOfWork, case: Case, summary: CaseSummary, at: OrgCode, now: datetime, *, last_up: int
) -> None:
    """`last_up` is the highest up hop the case has had so far (the one just received, or 0)."""
    try:
        step = next_step_up(at, summary.item.handling_level)
    except RouteError as exc:
        raise PermanentFailure(str(exc)) from None
    if step.kind is StepKind.forward:
        await _forward(uow, case, summary, at, step.org, now, last_up)
    else:
        await assign_at(uow, case, at, now, escalate=step.kind is StepKind.escalate, summary=summary)


_HOPS = Hop.__table__  # type: ignore[attr-defined]
# A hop as its sender records it: nothing reads it back before the unit's next flush.
SENT_HOP: Final = Prepared.insert(
    _HOPS,
    ("id", "case_number", "direction", "hop", "from_org", "to_org", "sent_at", "received_at", "received_by"),
)


async def _next_hop_number(uow: UnitOfWork, number: str, direction: HopDirection) -> int:
    await uow.flush()  # hops this unit has deferred count too
    hops = await uow.session.exec(
        select(Hop.hop).where(Hop.case_number == number, Hop.direction == direction.value)
    )
    return max(hops, default=0) + 1


async def _record_hop(
    uow: UnitOfWork,
    number: str,
    direction: HopDirection,
    at: OrgCode,
    to: OrgCode,
    now: datetime,
    last: int | None = None,
) -> int:
    """Keep the hop's sent time; its number is the next in that direction for the case. An event
    handler knows the last one (`last`, from the hop it has just received): asking the database
    would cost a query and flush everything the handler has changed so far."""
    hop = last + 1 if last is not None else await _next_hop_number(uow, number, direction)
    uow.defer(
        SENT_HOP,
        {
            "id": str(uuid7()),
            "case_number": number,
            "direction": direction.value,
            "hop": hop,
            "from_org": at.value,
            "to_org": to.value,
            "sent_at": now,
            "received_at": None,
            "received_by": None,
        },
    )
    return hop


async def _forward(
    uow: UnitOfWork,
    case: Case,
    summary: CaseSummary,
    at: OrgCode,
    to: OrgCode,
    now: datetime,
    last_up: int,
) -> None:
    hop = await _record_hop(uow, case.case_number, HopDirection.up, at, to, now, last_up)
    case.status = CaseStatus.forwarded
    case.current_org = to.value
    uow.emit(
        CaseForwarded(case=summary, from_org=at.value, to_org=to.value, hop=hop, forwarded_at=now),
        subject=case.case_number,
        org=to.value,
        actor=SYSTEM_ACTOR,
    )
    note(
        uow,
        case,
        at=now,
        org=at.value,
        actor=SYSTEM_ACTOR,
        kind="forwarded",
        text=f"第{hop}次上报：转送{to.value}",
    )


async def _receive(
    uow: UnitOfWork,
    case: Case,
    direction: HopDirection,
    hop: int,
    from_org: str,
    to_org: str,
    sent_at: datetime,
) -> tuple[datetime, int]:
    """Record a hop as received (creating it when the sender was another node) and acknowledge it.
    Returns when, and the highest hop number the case has had in that direction."""
    now = clock.now()
    conn = await uow.session.connection()
    last = await conn.scalar(
        _RECEIVE,
        {
            "id": str(uuid7()),
            "case_number": case.case_number,
            "direction": direction.value,
            "hop": hop,
            "from_org": from_org,
            "to_org": to_org,
            "sent_at": sent_at,
            "received_at": now,
            "received_by": SYSTEM_ACTOR,
            "of_case": case.case_number,
            "of_direction": direction.value,
        },
    )
    uow.emit(
        CaseReceived(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            from_org=from_org,
            to_org=to_org,
            hop=hop,
            received_at=now,
            received_by=SYSTEM_ACTOR,
            direction=direction,
        ),
        subject=case.case_number,
        org=from_org,
        actor=SYSTEM_ACTOR,
    )
    label = "上报" if direction is HopDirection.up else "回传"
    note(
        uow,
        case,
        at=now,
        org=to_org,
        actor=SYSTEM_ACTOR,
        kind="received",
        text=f"{to_org}已接收第{hop}次{label}",
    )
    return now, max(int(last or 0), hop)


# One statement receives a hop: the sender's row gets its received time (the row is created when
# the sender was another node), and it answers the highest hop number the case had before in
# that direction (the subquery sees the table as it was when the statement began), so that the
# next hop's number needs no query of its own.
_UPSERT_HOP = insert(_HOPS)
_RECEIVE = _UPSERT_HOP.on_conflict_do_update(
    index_elements=[_HOPS.c.case_number, _HOPS.c.direction, _HOPS.c.hop],
    set_={
        "received_at": _UPSERT_HOP.excluded.received_at,
        "received_by": _UPSERT_HOP.excluded.received_by,
    },
).returning(
    select(func.max(_HOPS.c.hop))
    .where(_HOPS.c.case_number == bindparam("of_case"), _HOPS.c.direction == bindparam("of_direction"))
    .scalar_subquery()
)


async def on_case_forwarded(envelope: Envelope, payload: CaseForwarded, uow: UnitOfWork) -> None:
    """A case arrives from below: record the hop, acknowledge it, then decide here or go on up."""
    to = await _known_org(uow, payload.to_org)
    case = await case_rows.locked(uow, payload.case.case_number)
    new = case is None
    if case is None:
        # The case comes from another node: this node learns of it now, from the summary it carries.
        case = _new_case(payload.case, payload.forwarded_at)
    now, last_up = await _receive(
        uow, case, HopDirection.up, payload.hop, payload.from_org, to.value, payload.forwarded_at
    )
    case.current_org = to.value
    await _take_next_step(uow, case, payload.case, to, now, last_up=last_up)
    (case_rows.created if new else case_rows.changed)(uow, case)


async def on_case_received(envelope: Envelope, payload: CaseReceived, uow: UnitOfWork) -> None:
    """The receiver's acknowledgement: the sender's copy of the hop gets its received time."""
    conn = await uow.session.connection()
    known = await conn.scalar(
        _ACKNOWLEDGED,
        {
            "of_case": payload.case_number,
            "of_direction": payload.direction.value,
            "of_hop": payload.hop,
            "at": payload.received_at,
            "by": payload.received_by,
        },
    )
    if not known:
        # Rolled back with the unit of work: nothing of the update stays.
        raise PermanentFailure(f"办件{payload.case_number}不存在，无法登记接收回执")


# One statement for an acknowledgement: the hop's first received time is kept, and whether the
# case exists is answered at the same time. (No parameter is named after a column of hops: an
# UPDATE would take such a parameter as a column to SET.)
_ACKED = (
    update(_HOPS)
    .where(
        _HOPS.c.case_number == bindparam("of_case"),
        _HOPS.c.direction == bindparam("of_direction"),
        _HOPS.c.hop == bindparam("of_hop"),
        _HOPS.c.received_at.is_(None),
    )
    .values(received_at=bindparam("at"), received_by=bindparam("by"))
    .cte("acked")
)
_ACKNOWLEDGED = select(
    exists().where(col(Case.case_number) == bindparam("of_case")),
).add_cte(_ACKED)


async def send_down(uow: UnitOfWork, case: Case, now: datetime, *, last_down: int | None = None) -> None:
    """The decision starts (or continues) its way back to where the citizen applied; `last_down`
    is the down hop just received, when there is one."""
    at = OrgCode.parse(case.current_org)
    accepting = OrgCode.parse(case.accepting_org)
    target = next_hop_down(at, accepting)
    outcome = Outcome(case.outcome or Outcome.approved.value)
    if target is None:
        case.status = CaseStatus.ready_for_handover
        uow.emit(
            CaseReadyForHandover(
                case_number=case.case_number,
                accepting_org=case.accepting_org,
                outcome=outcome,
                result=case.result,
                reasons=tuple(case.reasons),
                legal_basis=tuple(case.legal_basis),
                deciding_org=case.deciding_org or at.value,
                ready_at=now,
            ),
            subject=case.case_number,
            org=case.accepting_org,
            actor=SYSTEM_ACTOR,
        )
        note(
            uow,
            case,
            at=now,
            org=at.value,
            actor=SYSTEM_ACTOR,
            kind="ready_for_handover",
            text="办理结果已到达受理点，待送达申请人",
        )
        uow.session.add(case)
        return
    hop = await _record_hop(uow, case.case_number, HopDirection.down, at, target, now, last_down)
    case.status = CaseStatus.returned_down
    case.current_org = target.value
    uow.emit(
        CaseReturnedDown(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            from_org=at.value,
            to_org=target.value,
            outcome=outcome,
            result=case.result,
            reasons=tuple(case.reasons),
            returned_at=now,
            hop=hop,
            legal_basis=tuple(case.legal_basis),
            deciding_org=case.deciding_org,
        ),
        subject=case.case_number,
        org=target.value,
        actor=SYSTEM_ACTOR,
    )
    note(
        uow,
        case,
        at=now,
        org=at.value,
        actor=SYSTEM_ACTOR,
        kind="returned_down",
        text=f"办理结果回传{target.value}",
    )
    uow.session.add(case)


async def on_case_returned_down(envelope: Envelope, payload: CaseReturnedDown, uow: UnitOfWork) -> None:
    to = await _known_org(uow, payload.to_org)
    case = await load_case(uow.session, payload.case_number, lock=True)
    if case is None:
        raise PermanentFailure(f"办件{payload.case_number}不存在，无法接收回传的办理结果")
    # Another node decided it: take the decision over from the event before passing it on.
    case.outcome = payload.outcome.value
    case.result = payload.result
    case.reasons = list(payload.reasons)
    case.legal_basis = list(payload.legal_basis)
    case.deciding_org = case.deciding_org or payload.deciding_org
    now, last_down = await _receive(
        uow, case, HopDirection.down, payload.hop, payload.from_org, to.value, payload.returned_at
    )
    case.current_org = to.value
    await send_down(uow, case, now, last_down=last_down)
