"""`/v1/calendar/years/{year}`: the official schedule of a year, loaded by an administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from daiban_common import clock
from daiban_common.auth import Principal, Role, require_roles
from daiban_common.calendar import default_calendar
from daiban_common.deps import UowDep
from daiban_common.openapi import problem_responses
from daiban_routing import presenters
from daiban_routing.api import problem_docs as docs
from daiban_routing.handlers import calendar as commands
from daiban_routing.queries.calendar import published_year
from daiban_routing.schemas.calendar import CalendarYearLoaded, CalendarYearOut, ScheduleIn

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Year = Annotated[int, Path(ge=2000, le=2099, description="公历年份")]

router = APIRouter(prefix="/v1/calendar", tags=["calendar"])


@router.get(
    "/years/{year}",
    summary="A year's days off and make-up working days, as deadlines count them (no token needed)",
    description="某年的节假日安排：已载入的国务院办公厅通知、软件内置的安排，或按法定节假日推算（暂定）",
    responses={422: {"description": "年份有误"}},
)
async def get_year(year: Year, uow: UowDep) -> CalendarYearOut:
    async with uow:
        row = await published_year(uow.session, year)
        return presenters.calendar_year_out(year, row, default_calendar())


@router.put(
    "/years/{year}",
    summary="Load a year's official schedule (admins); provisional deadlines are recomputed",
    description="载入某年国务院办公厅节假日安排通知（放假、调休上班），重算暂定的办结时限",
    responses={
        401: {"description": "缺少或无效的身份令牌"},
        403: {"description": "仅限管理员"},
        **problem_responses(docs.BAD_SCHEDULE),
    },
)
async def put_year(year: Year, body: ScheduleIn, principal: Admin, uow: UowDep) -> CalendarYearLoaded:
    schedule = commands.validated(year, body.holidays, body.workdays, body.reference)
    loaded = await commands.load_year(uow, principal, schedule, clock.now())
    return presenters.calendar_year_loaded(loaded)
