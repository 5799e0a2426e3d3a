"""Routes of the statistics: an org unit's subtree over days, optionally grouped, as JSON, CSV or HTML."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from daiban_audit import queries
from daiban_audit.api import problem_docs as docs
from daiban_audit.api.params import OrgQuery, StatsReader, day_range, only_params, org_param
from daiban_audit.domain.stats import Dimension
from daiban_audit.presenters import stats_answer
from daiban_audit.schemas import GroupBy, StatsOut
from daiban_common.auth import ensure_within
from daiban_common.deps import UowDep
from daiban_common.openapi import problem_responses
from daiban_common.strict import Day

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/stats",
    summary="Statistics of an org unit's subtree over days, optionally grouped",
    response_model=StatsOut,
    responses={
        200: {"content": {"text/csv": {}, "text/html": {}}},
        **problem_responses(docs.OUTSIDE_SUBTREE, docs.DAY_RANGE),
    },
    dependencies=[Depends(only_params("org", "from", "to", "group_by"))],
)
async def stats(
    principal: StatsReader,
    uow: UowDep,
    org: OrgQuery = None,
    since: Annotated[Day | None, Query(alias="from", description="First day, YYYY-MM-DD")] = None,
    until: Annotated[Day | None, Query(alias="to", description="Last day (inclusive)")] = None,
    group_by: GroupBy | None = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response | StatsOut:
    unit = org_param(org) or principal.org
    ensure_within(principal, unit)
    start, stop = day_range(since, until)
    by_day = group_by is GroupBy.day
    dimension = None if group_by is None or by_day else Dimension(group_by.value)
    async with uow:
        found = await queries.statistics(
            uow, org=unit, since=start, until=stop, group_by=dimension, by_day=by_day
        )
    return stats_answer(accept, org=unit, since=start, until=stop, group_by=group_by, found=found)
