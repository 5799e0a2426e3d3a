"""Supervision's reads: open cases with their clocks, which of them can carry a flag, the flags.

`GET /v1/supervision/flags` answers every flag of the caller's subtree as of a given moment.
Flags are evaluated in Python (`domain.supervision.evaluate`, on the working-day calendar), so
the list used to evaluate every open case until a page was full. `flaggable` narrows the cases
read to those that can be flagged: a deadline close enough for the case's limit, idle long
enough, or an open pause. Every case the condition leaves out provably carries no flag (see the
bounds in `domain.supervision`), so the flags found are the same.
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, exists, func, or_, true
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, subtree_clause
from daiban_common.calendar import SHANGHAI, WorkCalendar, default_calendar, to_shanghai_date
from daiban_common.pagination import Page, PageParams, paginate
from daiban_contracts.case import FlagLevel
from daiban_routing.domain.supervision import (
    CaseWatch,
    Policy,
    evaluate,
    latest_deadline_start,
    latest_idle_activity,
)
from daiban_routing.models import Case, PauseRecord, Task
from daiban_routing.queries.cases import CaseStatus, TaskStatus, clock_of, summary_of
from daiban_routing.queries.work import parse_org_filter
from daiban_routing.schemas.supervision import FlagOut

_LEVEL_LABELS = {FlagLevel.yellow: "黄牌", FlagLevel.red: "红牌"}


async def flags_as_of(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    policy: Policy,
    limits: OpenLimits,
    *,
    as_of: datetime,
    org: str | None,
    level: FlagLevel | None,
) -> Page[FlagOut]:
    scope = parse_org_filter(principal, org)
    where = [
        subtree_clause(col(Case.current_org), principal.org),
        subtree_clause(col(Case.current_org), scope),
    ]
    day = to_shanghai_date(as_of)
    calendar = default_calendar()
    after = page.key(str)
    cursor_after: str | None = after[0] if after is not None else None
    found: list[FlagOut] = []
    # Flags are computed, not stored per moment: SQL narrows the open cases to those that can be
    # flagged, Python evaluates them in batches until a page is full.
    where.append(await flaggable(session, day, policy, limits, level))
    size = max(50, 2 * (page.limit + 1))
    while len(found) <= page.limit:
        batch = await open_cases(session, where, after=cursor_after, batch=size)
        size = min(500, size * 2)
        if not batch:
            break
        for case, watch in batch:
            flag = evaluate(watch, day, calendar, policy)
            if flag is None or (level is not None and flag.level is not level):
                continue
            found.append(
                FlagOut(
                    case_number=case.case_number,
                    item_name=summary_of(case).item.name,
                    org=case.current_org,
                    accepting_org=case.accepting_org,
                    level=flag.level,
                    level_label=_LEVEL_LABELS[flag.level],
                    reason=flag.reason,
                    due_date=flag.due_date,
                    as_of=day,
                )
            )
        cursor_after = batch[-1][0].case_number
    items, next_cursor = paginate(found, page, key=lambda f: (f.case_number,))
    return Page(items=items, next_cursor=next_cursor)


async def open_cases(
    session: AsyncSession, where: Sequence[Any], *, after: str | None = None, batch: int = 500
) -> list[tuple[Case, CaseWatch]]:
    """One batch of open cases (by case number) with their clocks; pauses and tasks in two queries."""
    stmt = select(Case).where(col(Case.status).in_(CaseStatus.OPEN), *where)
    if after is not None:
        stmt = stmt.where(col(Case.case_number) > after)
    cases = list(await session.exec(stmt.order_by(col(Case.case_number)).limit(batch)))
    if not cases:
        return []
    numbers = [c.case_number for c in cases]
    pauses: dict[str, list[PauseRecord]] = defaultdict(list)
    for record in await session.exec(
        select(PauseRecord)
        .where(col(PauseRecord.case_number).in_(numbers))
        .order_by(col(PauseRecord.started_at))
    ):
        pauses[record.case_number].append(record)
    waiting = set(
        await session.exec(
            select(Task.case_number).where(
                col(Task.case_number).in_(numbers),
                col(Task.status).in_((TaskStatus.queued, TaskStatus.assigned)),
            )
        )
    )
    return [
        (
            case,
            CaseWatch(
                clock=clock_of(case, pauses[case.case_number]),
                last_activity=to_shanghai_date(case.last_activity_at),
                waiting=case.case_number in waiting,
            ),
        )
        for case in cases
    ]


def _limit_expr() -> Any:
    return col(Case.limit_working_days) + col(Case.extension_working_days)


class OpenLimits:
    """The working-day limits (extension included) of open cases, refreshed now and then: a case
    whose limit is not in the set is always a candidate, so a stale set costs time, never a flag.
    One per process (in the context), so two nodes in one process never share theirs."""

    TTL = 300.0

    def __init__(self) -> None:
        self._fetched_at = 0.0
        self._limits: frozenset[int] = frozenset()

    async def of(self, session: AsyncSession) -> frozenset[int]:
        if self._fetched_at == 0.0 or clock.monotonic() - self._fetched_at > self.TTL:
            stmt = sa_select(func.distinct(_limit_expr())).where(col(Case.status).in_(CaseStatus.OPEN))
            rows = (await session.exec(stmt)).all()  # type: ignore[call-overload]
            self._limits = frozenset(int(row[0]) for row in rows if row[0] is not None)
            self._fetched_at = clock.monotonic()
        return self._limits


@lru_cache(maxsize=4096)
def _deadline_bound(
    as_of: date, limit: int, left: int, years: tuple[int, ...], calendar: WorkCalendar
) -> date | None:
    return latest_deadline_start(as_of, limit, left, calendar)


@lru_cache(maxsize=256)
def _idle_bound(as_of: date, policy: Policy, years: tuple[int, ...], calendar: WorkCalendar) -> date | None:
    return latest_idle_activity(as_of, policy, calendar)


async def flaggable(
    session: AsyncSession, day: date, policy: Policy, limits: OpenLimits, level: FlagLevel | None
) -> Any:
    """A condition on `Case` true for every open case that can carry a flag (of `level`) on `day`."""
    calendar = default_calendar()
    years = calendar.known_years
    known = await limits.of(session)
    length = _limit_expr()
    parts: list[Any] = [length.notin_(known)] if known else [true()]
    for limit in sorted(known):
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
