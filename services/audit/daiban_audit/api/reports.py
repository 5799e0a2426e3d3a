"""Routes of the reports: an org unit's day, week or month, as JSON, CSV or printable HTML."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from daiban_audit import queries
from daiban_audit.api import problem_docs as docs
from daiban_audit.api.params import OrgQuery, StatsReader, day_range, only_params, org_param
from daiban_audit.domain.stats import Dimension, ReportPeriod, period_bounds
from daiban_audit.presenters import report_answer
from daiban_audit.schemas import ReportOut
from daiban_common.auth import ensure_within
from daiban_common.deps import UowDep
from daiban_common.openapi import problem_responses
from daiban_common.strict import Day

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/reports/{period}",
    summary="Daily, weekly or monthly report of an org unit",
    response_model=ReportOut,
    responses={
        200: {"content": {"text/csv": {}, "text/html": {}}},
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
    accept: Annotated[str | None, Header()] = None,
) -> Response | ReportOut:
    unit = org_param(org) or principal.org
    ensure_within(principal, unit)
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
