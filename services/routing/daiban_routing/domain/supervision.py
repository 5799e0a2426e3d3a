"""Electronic supervision (电子监察): which flag a case carries at a given moment.

A pure function of the case's clock, state and the moment asked about, so a supervisor can ask
what will be red next week, and the periodic sweep and the API can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from daiban_common.calendar import WorkCalendar
from daiban_contracts.case import FlagLevel
from daiban_routing.domain.clock import Clock

SUPPLEMENT = "supplement"


@dataclass(frozen=True, slots=True)
class Policy:
    """Yellow when at most max(yellow_working_days, yellow_ratio x limit) working days are left."""

    yellow_working_days: int = 1
    yellow_ratio: float = 0.2
    # Returned-for-supplement and idle cases are watched too (退补件监控), so nobody hides behind them.
    supplement_watch_working_days: int = 5
    idle_working_days: int = 3

    def yellow_threshold(self, limit_working_days: int) -> int:
        return max(self.yellow_working_days, math.ceil(limit_working_days * self.yellow_ratio))


@dataclass(frozen=True, slots=True)
class CaseWatch:
    """What supervision needs to know of an open case."""

    clock: Clock
    # Last time someone did something with it (assignment, claim, a decision, a resume).
    last_activity: date
    # Nobody has started work on it yet (queued or assigned, not claimed).
    waiting: bool


@dataclass(frozen=True, slots=True)
class Flag:
    level: FlagLevel
    reason: str
    due_date: date


def evaluate(watch: CaseWatch, as_of: date, calendar: WorkCalendar, policy: Policy) -> Flag | None:
    """The flag an open case carries on `as_of`, or None; red outranks yellow."""
    clock = watch.clock
    due = clock.due(as_of, calendar).date
    pause = clock.open_pause()
    if pause is not None:
        waited = pause.working_days(as_of, calendar)
        if pause.kind == SUPPLEMENT and waited > policy.supplement_watch_working_days:
            return Flag(FlagLevel.yellow, f"等待申请人补正已{waited}个工作日", due)
        if pause.kind != SUPPLEMENT and pause.expected_working_days and waited > pause.expected_working_days:
            return Flag(
                FlagLevel.yellow,
                f"特别程序已{waited}个工作日，超过预计的{pause.expected_working_days}个工作日",
                due,
            )
        return None
    left = calendar.working_days_between(as_of, due).days
    if left < 0:
        return Flag(FlagLevel.red, f"已超期{-left}个工作日", due)
    if left <= policy.yellow_threshold(clock.limit_working_days + clock.extension_working_days):
        return Flag(FlagLevel.yellow, f"距办结期限仅剩{left}个工作日", due)
    idle = calendar.working_days_between(watch.last_activity, as_of).days
    if watch.waiting and idle >= policy.idle_working_days:
        return Flag(FlagLevel.yellow, f"办件已闲置{idle}个工作日无人办理", due)
    return None


# Bounds for finding flagged cases without evaluating every open one. Each is a necessary
# condition: a case outside it cannot carry the flag, so evaluating only the cases inside gives
# the same flags. They rest on monotony: later starts give later deadlines (pauses only push a
# deadline back), and later activity leaves fewer idle working days.
_SEARCH = timedelta(days=3660)


def _last_true(holds: Callable[[date], bool], lo: date, hi: date) -> date | None:
    """The last day in [lo, hi] where `holds` (true up to some day, false after) is true; any day
    before `lo` if it holds nowhere in the range; None if it holds on `hi` (no bound found)."""
    if holds(hi):
        return None
    if not holds(lo):
        return lo - timedelta(days=1)
    while (hi - lo).days > 1:
        mid = lo + (hi - lo) / 2
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    return lo


def latest_deadline_start(
    as_of: date, limit_working_days: int, left: int, calendar: WorkCalendar
) -> date | None:
    """The latest start date of a case with this limit (extension included) that can have at most
    `left` working days left on `as_of`; a case started later cannot (None: no bound)."""

    def holds(start: date) -> bool:
        due = calendar.add_working_days(start, limit_working_days).date
        return calendar.working_days_between(as_of, due).days <= left

    return _last_true(holds, as_of - _SEARCH, as_of + _SEARCH)


def latest_idle_activity(as_of: date, policy: Policy, calendar: WorkCalendar) -> date | None:
    """The latest day of last activity that leaves a case idle long enough to be flagged on `as_of`."""

    def holds(last: date) -> bool:
        return calendar.working_days_between(last, as_of).days >= policy.idle_working_days

    return _last_true(holds, as_of - _SEARCH, as_of + _SEARCH)
