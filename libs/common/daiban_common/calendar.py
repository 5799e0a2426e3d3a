"""Working days on China's official calendar, for promised completion dates (承诺时限).

The State Council publishes each year's holidays, and the weekend days worked in exchange (调休上班),
late in the year before. The `chinesecalendar` package ships the years published when it was
released; later years are loaded as data (`WorkCalendar.load_year`). A count that reaches into a year
nobody has loaded falls back to Monday–Friday and is flagged provisional, so a deadline is never
refused for lack of data, and supervision knows which deadlines to recompute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


def to_shanghai_date(ts: datetime) -> date:
    """The calendar date in Shanghai at instant `ts`. Naive datetimes are refused: their zone is a guess."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("naive datetime: attach a timezone before converting to a Shanghai date")
    return ts.astimezone(SHANGHAI).date()


def today_in_shanghai(now: datetime | None = None) -> date:
    return to_shanghai_date(now if now is not None else datetime.now(SHANGHAI))


@dataclass(frozen=True)
class CountedDate:
    """A date reached by counting working days; provisional if the count crossed unpublished years."""

    date: date
    provisional: bool


@dataclass(frozen=True)
class CountedDays:
    """A number of working days; provisional if some day counted lies in an unpublished year."""

    days: int
    provisional: bool


@dataclass(frozen=True, slots=True)
class _Year:
    # Only the exceptions to Monday–Friday are stored: holidays on weekdays and weekend days worked.
    # Weekend holidays change nothing, so they are dropped and the two sets never overlap.
    days_off: frozenset[date]
    days_on: frozenset[date]


def _is_weekend(d: date) -> bool:
    return d.weekday() >= _SATURDAY


def _weekdays_through(d: date) -> int:
    """How many Mondays–Fridays there are from 0001-01-01 (a Monday, ordinal 1) through `d`."""
    weeks, rest = divmod(d.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


class WorkCalendar:
    """Which days are working days. An empty calendar knows no year; see `from_chinese_calendar`."""

    def __init__(self) -> None:
        self._years: dict[int, _Year] = {}

    @classmethod
    def from_chinese_calendar(cls) -> WorkCalendar:
        """A calendar holding every year the installed `chinesecalendar` package has data for."""
        calendar = cls()
        holidays: dict[int, list[date]] = {}
        workdays: dict[int, list[date]] = {}
        for d in chinese_calendar.holidays:
            holidays.setdefault(d.year, []).append(d)
        for d in chinese_calendar.workdays:
            workdays.setdefault(d.year, []).append(d)
        # The package treats every year between its first and last as covered, even one without
        # a single exception, so the range is what counts, not the years that happen to have entries.
        for year in range(min(holidays), max(holidays) + 1):
            calendar.load_year(year, holidays.get(year, ()), workdays.get(year, ()))
        return calendar

    def load_year(self, year: int, holidays: Iterable[date], workdays: Iterable[date]) -> None:
        """Replace what is known about `year` with the State Council's notice for it.

        `holidays` are the days off (those falling on a weekend are accepted and change nothing);
        `workdays` are the weekend days declared working days.
        """
        days_off = frozenset(holidays)
        days_on = frozenset(workdays)
        stray = sorted(d for d in days_off | days_on if d.year != year)
        if stray:
            raise ValueError(f"{stray[0].isoformat()}不属于{year}年，不能作为{year}年的节假日安排")
        if not days_on.isdisjoint(days_off):
            both = min(days_on & days_off)
            raise ValueError(f"{both.isoformat()}不能既是放假日又是调休上班日")
        weekday_workdays = sorted(d for d in days_on if not _is_weekend(d))
        if weekday_workdays:
            raise ValueError(f"{weekday_workdays[0].isoformat()}是工作日，不能列为调休上班日")
        # One assignment, so a concurrent reader sees the old year or the new one, never a mix.
        self._years[year] = _Year(
            days_off=frozenset(d for d in days_off if not _is_weekend(d)), days_on=days_on
        )

    @property
    def known_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    def is_known(self, d: date) -> bool:
        return d.year in self._years

    def is_working_day(self, d: date) -> bool:
        """Whether `d` is a working day; in a year not yet published, whether it is Monday to Friday."""
        year = self._years.get(d.year)
        if year is None:
            return not _is_weekend(d)
        return d in year.days_on or (not _is_weekend(d) and d not in year.days_off)

    def add_working_days(self, start: date, days: int) -> CountedDate:
        """The date `days` working days after `start`, counting from the first working day after it.

        `days=0` returns `start` itself, whatever kind of day it is.
        """
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        if days == 0:
            return CountedDate(start, provisional=not self.is_known(start))
        provisional = False
        current = start
        current_year = -1
        year: _Year | None = None
        remaining = days
        # Day by day, but with the year looked up once per year rather than once per day.
        while remaining:
            current += _ONE_DAY
            if current.year != current_year:
                current_year = current.year
                year = self._years.get(current_year)
                provisional = provisional or year is None
            if year is None:
                working = not _is_weekend(current)
            else:
                working = current in year.days_on or (
                    not _is_weekend(current) and current not in year.days_off
                )
            if working:
                remaining -= 1
        return CountedDate(current, provisional)

    def working_days_between(self, start: date, end: date) -> CountedDays:
        """The number of working days in (start, end]: 0 if equal, negative if `end` is before `start`.

        So `working_days_between(today, deadline)` is the working days left, and once the deadline
        has passed, minus the working days overdue. The count is antisymmetric and additive:
        between(a, b) == -between(b, a), and between(a, b) + between(b, c) == between(a, c).
        """
        if end < start:
            counted = self.working_days_between(end, start)
            return CountedDays(-counted.days, counted.provisional)
        days = _weekdays_through(end) - _weekdays_through(start)
        provisional = False
        if end > start:
            for year_number in range((start + _ONE_DAY).year, end.year + 1):
                year = self._years.get(year_number)
                if year is None:
                    provisional = True
                    continue
                days += sum(1 for d in year.days_on if start < d <= end)
                days -= sum(1 for d in year.days_off if start < d <= end)
        return CountedDays(days, provisional)


@cache
def default_calendar() -> WorkCalendar:
    """The process-wide calendar, seeded from `chinesecalendar`; services load later years into it."""
    return WorkCalendar.from_chinese_calendar()
