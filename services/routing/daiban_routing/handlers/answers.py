"""The answer of a work POST that creates something (a home visit, an extension): the case's route
after the change, read in the change's own unit of work and stored there for Idempotency-Key replays."""

from __future__ import annotations

from daiban_common.auth import Principal
from daiban_common.idempotency import Answer, Once, remember
from daiban_common.uow import UnitOfWork
from daiban_routing.queries.work import route_after_change


async def answered_route(uow: UnitOfWork, principal: Principal, number: str, once: Once) -> Answer:
    await uow.session.flush()
    route = await route_after_change(uow.session, principal, number)
    answer = Answer(200, route.model_dump(mode="json"))
    await remember(uow, once, answer)
    return answer
