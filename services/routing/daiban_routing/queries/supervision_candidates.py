"""Which open cases can carry a flag on a given day, as a SQL condition (a superset, never less).

Flags are evaluated in Python (`domain.supervision.evaluate`, on the working-day calendar), so
`GET /v1/supervision/flags` used to evaluate every open case until a page was full. This narrows
the cases read to those that can be flagged: a deadline close enough for the case's limit, idle
long enough, or an open pause. Every case the condition leaves out provably carries no flag (see
the bounds in `domain.supervision`), so the flags found are the same.
"""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, true
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.calendar import SHANGHAI, WorkCalendar, default_calendar
from daiban_common.contracts.case import FlagLevel
from daiban_routing.domain.supervision import Policy, latest_deadline_start, latest_idle_activity
from daiban_routing.models import Case, PauseRecord
from daiban_routing.queries.cases import CaseStatus

# The working-day limits (extension included) of open cases, refreshed now and then: a case whose
# limit is not in the set is always a candidate, so a stale set costs time, never a flag.
_LIMITS_TTL = 300.0
_limits: tuple[float, frozenset[int]] = (0.0, frozenset())


def _limit_expr() -> Any:
    return col(Case.limit_working_days) + col(Case.extension_working_days)


async def _known_limits(session: AsyncSession) -> frozenset[int]:
    global _limits
    fetched_at, limits = _limits
    if clock.monotonic() - fetched_at > _LIMITS_TTL:
        stmt = select(func.distinct(_limit_expr())).where(col(Case.status).in_(CaseStatus.OPEN))
        rows = (await session.exec(stmt)).all()  # type: ignore[call-overload]
        limits = frozenset(int(row[0]) for row in rows if row[0] is not None)
        _limits = (clock.monotonic(), limits)
    return limits


@lru_cache(maxsize=4096)
def _deadline_bound(
    as_of: date, limit: int, left: int, years: tuple[int, ...], calendar: WorkCalendar
) -> date | None:
    return latest_deadline_start(as_of, limit, left, calendar)


@lru_cache(maxsize=256)
def _idle_bound(as_of: date, policy: Policy, years: tuple[int, ...], calendar: WorkCalendar) -> date | None:
    return latest_idle_activity(as_of, policy, calendar)


async def flaggable(session: AsyncSession, day: date, policy: Policy, level: FlagLevel | None) -> Any:
    """A condition on `Case` true for every open case that can carry a flag (of `level`) on `day`."""
    calendar = default_calendar()
    years = calendar.known_years
    limits = await _known_limits(session)
    length = _limit_expr()
    parts: list[Any] = [length.notin_(limits)] if limits else [true()]
    for limit in sorted(limits):
        # Red: overdue, fewer than 0 working days left; yellow: within the threshold.
        left = -1 if level is FlagLevel.red else policy.yellow_threshold(limit)
        bound = _deadline_bound(day, limit, left, years, calendar)
        started = true() if bound is None else col(Case.start_date) <= bound
        parts.append(and_(length == limit, started))
    if level is not FlagLevel.red:
        idle = _idle_bound(day, policy, years, calendar)
        if idle is None:
            parts.append(true())
        else:
            next_midnight = datetime.combine(idle + timedelta(days=1), time(), tzinfo=SHANGHAI)
            parts.append(col(Case.last_activity_at) < next_midnight)
        parts.append(
            exists().where(
                col(PauseRecord.case_number) == col(Case.case_number), col(PauseRecord.ended_at).is_(None)
            )
        )
    return or_(*parts)
