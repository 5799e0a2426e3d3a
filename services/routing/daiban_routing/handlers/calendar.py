"""Loading a year's official schedule (the State Council's notice) and what it moves.

The schedule, the deadlines it moves and the events announcing both commit in one unit of work;
the process calendar takes the year only after the commit, so a failed load changes no count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common import clock
from daiban_common.auth import Principal
from daiban_common.calendar import WorkCalendar, default_calendar
from daiban_common.errors import FieldError, InvalidInput
from daiban_common.uow import UnitOfWork
from daiban_contracts.calendar import CalendarYearPublished
from daiban_contracts.envelope import Envelope
from daiban_contracts.orgcodes import OrgCode
from daiban_contracts.routing import CaseDueRecomputed
from daiban_routing.domain.schedule import Schedule, schedule_errors
from daiban_routing.handlers import SYSTEM_ACTOR
from daiban_routing.handlers.cases import note, refresh_due
from daiban_routing.models import Case, PublishedYear
from daiban_routing.queries.cases import CaseStatus

# The first key of the advisory lock on a year (the second is the year): "cal" in ASCII.
_LOCK_SPACE = 0x63616C


@dataclass(frozen=True)
class YearLoaded:
    schedule: Schedule
    loaded_at: datetime
    changed: bool
    recomputed: tuple[str, ...]


def schedule_of(row: PublishedYear) -> Schedule:
    return Schedule.of(row.year, row.holidays, row.workdays, row.reference)


def validated(year: int, holidays: list[date], workdays: list[date], reference: str) -> Schedule:
    """The schedule as sent, or a 422 naming every day at fault (`holidays[i]`, `workdays[i]`)."""
    errors = schedule_errors(year, holidays, workdays)
    if errors:
        raise InvalidInput(
            f"{year}年节假日安排有误", errors=[FieldError(field, message) for field, message in errors]
        )
    return Schedule.of(year, holidays, workdays, reference)


async def load_year(uow: UnitOfWork, principal: Principal, schedule: Schedule, now: datetime) -> YearLoaded:
    """Store the year's schedule and recompute the provisional deadlines it reaches; the same
    schedule loaded again changes nothing and announces nothing (PUT)."""
    async with uow:
        stored = await _stored(uow, schedule.year)
        if stored is not None and schedule_of(stored) == schedule:
            return YearLoaded(schedule, stored.loaded_at, changed=False, recomputed=())
        uow.emit(
            CalendarYearPublished(
                year=schedule.year,
                holidays=schedule.holidays,
                workdays=schedule.workdays,
                reference=schedule.reference,
                published_by=principal.sub,
                published_at=now,
            ),
            subject=f"calendar-{schedule.year}",
            org=OrgCode.parse(principal.org).county.value,
            actor=principal.sub,
        )
        recomputed = await _store(uow, stored, schedule, principal.sub, now)
        await uow.commit()
    apply_schedule(schedule)
    return YearLoaded(schedule, now, changed=True, recomputed=recomputed)


async def on_year_published(envelope: Envelope, payload: CalendarYearPublished, uow: UnitOfWork) -> None:
    """A year loaded at another node of the county (a township node shares the county's stream):
    this node stores it and recomputes its own cases too. The node that loaded it finds it stored."""
    schedule = Schedule.of(payload.year, payload.holidays, payload.workdays, payload.reference)
    stored = await _stored(uow, schedule.year)
    if stored is not None and schedule_of(stored) == schedule:
        return
    await _store(uow, stored, schedule, payload.published_by, clock.now())
    # Before the consumer commits: a failed commit redelivers the event, which loads it again.
    apply_schedule(schedule)


async def _stored(uow: UnitOfWork, year: int) -> PublishedYear | None:
    # Two loads of a year not yet stored have no row to lock: they wait for each other here.
    await uow.session.exec(select(func.pg_advisory_xact_lock(_LOCK_SPACE, year)))
    return await uow.session.get(PublishedYear, year)


async def _store(
    uow: UnitOfWork, stored: PublishedYear | None, schedule: Schedule, by: str, now: datetime
) -> tuple[str, ...]:
    row = stored or PublishedYear(
        year=schedule.year, holidays=[], workdays=[], reference="", loaded_by=by, loaded_at=now
    )
    row.holidays, row.workdays = list(schedule.holidays), list(schedule.workdays)
    row.reference, row.loaded_by, row.loaded_at = schedule.reference, by, now
    uow.session.add(row)
    calendar = default_calendar().with_year(schedule.year, schedule.holidays, schedule.workdays)
    return await _recompute(uow, calendar, schedule, now)


async def _recompute(
    uow: UnitOfWork, calendar: WorkCalendar, schedule: Schedule, now: datetime
) -> tuple[str, ...]:
    """Count again every open provisional deadline whose count reaches into the year."""
    stmt = (
        select(Case)
        .where(
            col(Case.status).in_(CaseStatus.OPEN),
            col(Case.due_provisional).is_(True),
            col(Case.start_date) <= date(schedule.year, 12, 31),
            col(Case.due_date) >= date(schedule.year, 1, 1),
        )
        .order_by(col(Case.case_number))
        .with_for_update()
    )
    moved: list[str] = []
    for case in await uow.session.exec(stmt):
        before = case.due_date
        await refresh_due(uow.session, case, now, calendar)
        if case.due_date == before and case.due_provisional:
            continue
        moved.append(case.case_number)
        uow.emit(
            CaseDueRecomputed(
                case_number=case.case_number,
                accepting_org=case.accepting_org,
                org=case.current_org,
                previous_due_date=before,
                due_date=case.due_date,
                provisional=case.due_provisional,
                year=schedule.year,
                reference=schedule.reference,
                recomputed_at=now,
            ),
            subject=case.case_number,
            org=case.current_org,
            actor=SYSTEM_ACTOR,
        )
        note(
            uow,
            case,
            at=now,
            org=case.current_org,
            actor=SYSTEM_ACTOR,
            kind="due_recomputed",
            text=_recomputed_text(schedule, before, case.due_date),
        )
    return tuple(moved)


def _recomputed_text(schedule: Schedule, before: date, after: date) -> str:
    if before == after:
        return (
            f"{schedule.year}年节假日安排已公布（{schedule.reference}），"
            f"办结时限{after.isoformat()}不变，已确定"
        )
    return (
        f"{schedule.year}年节假日安排已公布（{schedule.reference}），"
        f"办结时限由{before.isoformat()}调整为{after.isoformat()}"
    )


def apply_schedule(schedule: Schedule) -> None:
    """This process counts with the schedule from now on."""
    default_calendar().load_year(schedule.year, schedule.holidays, schedule.workdays)


async def load_published_years(session: AsyncSession) -> int:
    """Load every stored schedule into the process calendar (at start, then now and again, so
    that every routing process counts alike); the number of years loaded."""
    rows = list(await session.exec(select(PublishedYear)))
    for row in rows:
        apply_schedule(schedule_of(row))
    return len(rows)
