"""The result of a work POST that creates something (a home visit, an extension): the case's route
after the change, read in the change's own unit of work, its answer stored there for
Idempotency-Key replays."""

from __future__ import annotations

from daiban_common.auth import Principal
from daiban_common.idempotency import AnswerOf, Once, remember
from daiban_common.uow import UnitOfWork
from daiban_routing.queries.work import route_after_change
from daiban_routing.schemas.work import RouteOut


async def settled_route(
    uow: UnitOfWork, principal: Principal, number: str, once: Once, answer: AnswerOf[RouteOut]
) -> RouteOut:
    await uow.flush()  # timeline lines are deferred (uow.defer): the route reads them
    route = await route_after_change(uow.session, principal, number)
    await remember(uow, once, answer(route))
    return route
