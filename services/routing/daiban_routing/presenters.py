"""Rows and results -> response bodies: what the directory and work APIs show of their records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel

from daiban_common import clock
from daiban_common.auth import Role
from daiban_common.calendar import DayRule, WorkCalendar
from daiban_common.idempotency import Answer, Answering, answering_ok
from daiban_contracts.orgcodes import Tier
from daiban_routing.domain.schedule import Schedule
from daiban_routing.handlers import Upserted
from daiban_routing.handlers.calendar import YearLoaded, schedule_of
from daiban_routing.models import Department, OrgUnit, PublishedYear, Staff, Task, Window
from daiban_routing.queries.cases import staff_ref_of
from daiban_routing.queries.lookup import duty_of
from daiban_routing.schemas.calendar import CalendarYearLoaded, CalendarYearOut, YearSource
from daiban_routing.schemas.directory import (
    DepartmentOut,
    OrgOut,
    PublicServicePointOut,
    ServicePoint,
    StaffOut,
    WindowOut,
)
from daiban_routing.schemas.work import RouteOut, TaskOut

_STATUS_LABELS = {
    "queued": "排队待领",
    "assigned": "已分派",
    "in_review": "审查中",
    "paused": "暂停计时",
    "decided": "已决定",
    "forwarded": "上报中",
    "escalated": "上报上级机关",
    "returned_down": "结果回传中",
    "ready_for_handover": "待送达",
}


def status_label(status: str) -> str:
    return _STATUS_LABELS.get(status, status)


def org_out(org: OrgUnit) -> OrgOut:
    return OrgOut(
        code=org.code,
        name=org.name,
        tier=org.tier,
        tier_label=Tier(org.tier).label,
        parent_code=org.parent_code,
        service_point=ServicePoint(
            name=org.point_name, address=org.address, phone=org.phone, opening_hours=org.opening_hours
        ),
    )


def public_point_out(org: OrgUnit, parent: OrgUnit | None) -> PublicServicePointOut:
    return PublicServicePointOut(
        code=org.code,
        name=org.point_name or org.name,
        org_name=org.name,
        tier=org.tier,
        tier_label=Tier(org.tier).label,
        address=org.address,
        opening_hours=org.opening_hours,
        phone=org.phone,
        parent_code=org.parent_code,
        parent_name=parent.name if parent is not None else None,
    )


def department_out(d: Department) -> DepartmentOut:
    return DepartmentOut(id=d.id, org=d.org, code=d.code, name=d.name)


def window_out(w: Window) -> WindowOut:
    return WindowOut(
        id=w.id,
        org=w.org,
        number=w.number,
        name=w.name,
        departments=w.departments,
        a_post=w.a_post,
        b_post=w.b_post,
    )


def staff_out(s: Staff) -> StaffOut:
    return StaffOut(
        staff_id=s.id,
        name=s.name,
        role=s.role,
        role_label=Role(s.role).label,
        org=s.org,
        windows=s.windows,
        on_duty=s.on_duty,
        on_duty_now=duty_of(s).at(clock.now()),
        absent_from=s.absent_from,
        absent_until=s.absent_until,
        absence_reason=s.absence_reason,
    )


def task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.id,
        case_number=task.case_number,
        org=task.org,
        department=task.department,
        department_name=task.department_name,
        lead=task.lead,
        kind=task.kind,
        window=task.window_number,
        staff_id=task.staff_id,
        post=task.post,
        status=task.status,
        status_label=status_label(task.status),
        green_channel=task.priority == 0,
        limit_working_days=task.limit_working_days,
        due_date=task.due_date,
        created_at=task.created_at,
        claimed_at=task.claimed_at,
        decided_at=task.decided_at,
        decided_by=staff_ref_of(task.decided_by),
        outcome=task.outcome,
        result=task.result,
        reasons=task.reasons,
        legal_basis=task.legal_basis,
    )


R = TypeVar("R")


# ---------------------------------------------------------------------------------------------
# The answers of the creating POSTs, stored by the handlers for Idempotency-Key replays.


def _upserted(present: Callable[[R], BaseModel]) -> Answering[Upserted[R]]:
    """201 for a new record, with where it is; 200 for the same record sent again under another
    key (already there)."""

    def answer(result: Upserted[R]) -> Answer:
        headers = {"Location": result.location} if result.created else {}
        return Answer(
            201 if result.created else 200, present(result.record).model_dump(mode="json"), headers=headers
        )

    return Answering(answer)


DEPARTMENT_UPSERTED: Answering[Upserted[Department]] = _upserted(department_out)
WINDOW_UPSERTED: Answering[Upserted[Window]] = _upserted(window_out)
STAFF_UPSERTED: Answering[Upserted[Staff]] = _upserted(staff_out)
# An extension or a home visit answers the case's route after the change.
ROUTE_AFTER: Answering[RouteOut] = answering_ok(lambda route: route)


_DAYS_OFF = (DayRule.PUBLISHED_DAY_OFF, DayRule.STATUTORY_HOLIDAY, DayRule.DAY_IN_LIEU)


def calendar_year_out(year: int, row: PublishedYear | None, calendar: WorkCalendar) -> CalendarYearOut:
    """The loaded notice as it was sent, or the days the calendar counts with when none was loaded."""
    if row is not None:
        return _notice_out(schedule_of(row), row.loaded_at)
    verdicts = [calendar.explain(day) for day in _days_of(year)]
    provisional = verdicts[0].provisional
    return CalendarYearOut(
        year=year,
        source=YearSource.statutory_rule if provisional else YearSource.built_in,
        provisional=provisional,
        holidays=[v.date for v in verdicts if v.rule in _DAYS_OFF],
        workdays=[v.date for v in verdicts if v.rule is DayRule.PUBLISHED_WORKDAY],
    )


def calendar_year_loaded(loaded: YearLoaded) -> CalendarYearLoaded:
    return CalendarYearLoaded(
        **_notice_out(loaded.schedule, loaded.loaded_at).model_dump(),
        changed=loaded.changed,
        recomputed_cases=list(loaded.recomputed),
    )


def _notice_out(schedule: Schedule, loaded_at: datetime) -> CalendarYearOut:
    return CalendarYearOut(
        year=schedule.year,
        source=YearSource.notice,
        provisional=False,
        holidays=list(schedule.holidays),
        workdays=list(schedule.workdays),
        reference=schedule.reference,
        loaded_at=loaded_at,
    )


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]
