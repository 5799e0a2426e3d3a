"""Home visits (上门服务): an agent books a visit and the case is handled by home visit."""

from __future__ import annotations

from datetime import datetime

from daiban_common.auth import Principal
from daiban_common.calendar import to_shanghai_date
from daiban_common.errors import InvalidInput, NotFound
from daiban_common.idempotency import AnswerOf, Once, Replayed, replayed
from daiban_common.uow import UnitOfWork
from daiban_contracts.routing import HomeVisitBooked
from daiban_routing.handlers.access import staff_ref
from daiban_routing.handlers.answers import settled_route
from daiban_routing.handlers.cases import note
from daiban_routing.queries.cases import can_see_case, load_case
from daiban_routing.schemas.work import HomeVisitIn, RouteOut


async def book_home_visit(
    uow: UnitOfWork,
    principal: Principal,
    number: str,
    body: HomeVisitIn,
    now: datetime,
    once: Once,
    answer: AnswerOf[RouteOut],
) -> RouteOut | Replayed:
    """A booking is a new visit each time: a retry of one (same Idempotency-Key) replays, books nothing."""
    if body.visit_date < to_shanghai_date(now):
        raise InvalidInput.field("visit_date", "上门日期不能早于今天")
    async with uow:
        if (retry := await replayed(uow, once)) is not None:
            return retry
        case = await load_case(uow.session, number, lock=True)
        if case is None or not can_see_case(principal, case):
            raise NotFound("办件不存在")
        case.home_visit = True
        uow.emit(
            HomeVisitBooked(
                case_number=number,
                accepting_org=case.accepting_org,
                visit_date=body.visit_date,
                note=body.note,
                booked_by=staff_ref(principal),
                booked_at=now,
            ),
            subject=number,
            org=case.accepting_org,
            actor=principal.sub,
        )
        note(
            uow,
            case,
            at=now,
            org=principal.org,
            actor=principal.sub,
            kind="home_visit",
            text=f"{principal.name}预约{body.visit_date.isoformat()}上门服务"
            + (f"：{body.note}" if body.note else ""),
        )
        route = await settled_route(uow, principal, number, once, answer)
        await uow.commit()
    return route
