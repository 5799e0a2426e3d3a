"""Routes of the statistics: an org unit's subtree over days, optionally grouped (`/stats`), and its
day, week or month (`/reports/{period}`), as JSON, CSV or printable HTML."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from daiban_audit import queries
from daiban_audit.api import problem_docs as docs
from daiban_audit.api.params import (
    AS_DOCUMENTS,
    AcceptHeader,
    OrgQuery,
    StatsReader,
    day_range,
    unit_asked,
)
from daiban_audit.domain.stats import Dimension, ReportPeriod, period_bounds
from daiban_audit.presenters import report_answer, stats_answer
from daiban_audit.schemas import GroupBy, ReportOut, StatsOut
from daiban_common.deps import UowDep
from daiban_common.openapi import problem_responses
from daiban_common.query_params import only_params
from daiban_common.strict import Day

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/stats",
    summary="Statistics of an org unit's subtree over days, optionally grouped",
    response_model=StatsOut,
    responses={
        **AS_DOCUMENTS,
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
    accept: AcceptHeader = None,
) -> Response | StatsOut:
    unit = unit_asked(principal, org)
    start, stop = day_range(since, until)
    by_day = group_by is GroupBy.day
    dimension = None if group_by is None or by_day else Dimension(group_by.value)
    async with uow:
        found = await queries.statistics(
            uow, org=unit, since=start, until=stop, group_by=dimension, by_day=by_day
        )
    return stats_answer(accept, org=unit, since=start, until=stop, group_by=group_by, found=found)


@router.get(
    "/reports/{period}",
    summary="Daily, weekly or monthly report of an org unit",
    response_model=ReportOut,
    responses={
        **AS_DOCUMENTS,
        **problem_responses(docs.OUTSIDE_SUBTREE, 422),
    },
    dependencies=[Depends(only_params("org", "date"))],
)
async def report(
    period: ReportPeriod,
    principal: StatsReader,
    uow: UowDep,
    org: OrgQuery = None,
    day: Annotated[
        Day | None, Query(alias="date", description="Any day of the period; today by default")
    ] = None,
    accept: AcceptHeader = None,
) -> Response | ReportOut:
    unit = unit_asked(principal, org)
    start, stop = period_bounds(period, day or day_range(None, None)[0])
    async with uow:
        by_org = await queries.statistics(
            uow, org=unit, since=start, until=stop, group_by=Dimension.org, by_day=False
        )
        by_department = await queries.statistics(
            uow, org=unit, since=start, until=stop, group_by=Dimension.department, by_day=False
        )
    return report_answer(
        accept,
        period=period,
        org=unit,
        since=start,
        until=stop,
        by_org=by_org,
        by_department=by_department,
    )
