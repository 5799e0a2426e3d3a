"""Working days on China's official calendar, for promised completion dates (承诺时限).

The State Council publishes each year's holidays, and the weekend days worked in exchange (调休上班),
late in the year before. The `chinesecalendar` package ships the years published when it was
released; later years are loaded as data (`WorkCalendar.load_year`). A count that reaches into a year
nobody has loaded falls back to the statutory holidays computed by rule (`holidays.holidays_by_rule`:
festivals and days in lieu, no weekend worked) and is flagged provisional, so a deadline is never
refused for lack of data, New Year's Day is never a deadline, and supervision knows which deadlines
to recompute once the year is published.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

from daiban_common.holidays import holidays_by_rule

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


class DayRule(StrEnum):
    """What decided whether a day is a working day."""

    PUBLISHED_DAY_OFF = "published_day_off"  # the State Council's notice: a weekday off
    PUBLISHED_WORKDAY = "published_workday"  # the notice: a weekend day worked (调休上班)
    STATUTORY_HOLIDAY = "statutory_holiday"  # by rule, the year unpublished: a festival's day
    DAY_IN_LIEU = "day_in_lieu"  # by rule: a weekday off for a festival day lost to a weekend (补假)
    WEEKEND = "weekend"
    WEEKDAY = "weekday"


@dataclass(frozen=True)
class DayVerdict:
    """Whether `date` is a working day, the rule that decided, and the festival when one did.

    Provisional when the year is unpublished: the official notice may move the day.
    """

    date: date
    working: bool
    rule: DayRule
    provisional: bool
    holiday: str | None = None


@dataclass(frozen=True, slots=True)
class _Year:
    # Only the exceptions to Monday–Friday are stored: holidays on weekdays and weekend days worked.
    # Weekend holidays change nothing, so they are dropped and the two sets never overlap.
    days_off: frozenset[date]
    days_on: frozenset[date]
    published: bool


_MONDAY_TO_FRIDAY = _Year(frozenset(), frozenset(), published=False)


def _is_weekend(d: date) -> bool:
    return d.weekday() >= _SATURDAY


@cache
def _year_by_rule(year: int) -> _Year:
    days_off = frozenset(day.date for day in holidays_by_rule(year) if not _is_weekend(day.date))
    return _Year(days_off=days_off, days_on=frozenset(), published=False)


def _weekdays_through(d: date) -> int:
    """How many Mondays–Fridays there are from 0001-01-01 (a Monday, ordinal 1) through `d`."""
    weeks, rest = divmod(d.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


class WorkCalendar:
    """Which days are working days.

    An empty calendar knows no year. By default it counts an unpublished year as Monday to Friday
    (what tests of other rules want); with `statutory_fallback` it skips the holidays the law
    gives, as the platform's calendar (`from_chinese_calendar`) does.
    """

    def __init__(self, *, statutory_fallback: bool = False) -> None:
        self._years: dict[int, _Year] = {}
        self._statutory_fallback = statutory_fallback

    @classmethod
    def from_chinese_calendar(cls) -> WorkCalendar:
        """Every year the installed `chinesecalendar` has data for; other years by statutory rule."""
        calendar = cls(statutory_fallback=True)
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
            days_off=frozenset(d for d in days_off if not _is_weekend(d)),
            days_on=days_on,
            published=True,
        )

    def with_year(self, year: int, holidays: Iterable[date], workdays: Iterable[date]) -> WorkCalendar:
        """A copy with `year` loaded, this calendar untouched: counts as they will be once it is."""
        copy = WorkCalendar(statutory_fallback=self._statutory_fallback)
        copy._years = dict(self._years)
        copy.load_year(year, holidays, workdays)
        return copy

    def _year(self, year: int) -> _Year:
        published = self._years.get(year)
        if published is not None:
            return published
        return _year_by_rule(year) if self._statutory_fallback else _MONDAY_TO_FRIDAY

    @property
    def known_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    def is_known(self, d: date) -> bool:
        return d.year in self._years

    def is_working_day(self, d: date) -> bool:
        """Whether `d` is a working day; `explain(d)` says why and whether that may still change."""
        year = self._year(d.year)
        return d in year.days_on or (not _is_weekend(d) and d not in year.days_off)

    def explain(self, d: date) -> DayVerdict:
        """Whether `d` is a working day and which rule decided it."""
        year = self._year(d.year)
        provisional = not year.published
        if year.published:
            if d in year.days_on:
                return DayVerdict(d, True, DayRule.PUBLISHED_WORKDAY, provisional)
            if d in year.days_off:
                return DayVerdict(d, False, DayRule.PUBLISHED_DAY_OFF, provisional)
        elif self._statutory_fallback:
            # Before the weekend test, so that 春节 on a Saturday is named, not just a weekend; the
            # days come festivals first, so a date carrying both is named for its festival.
            day = next((day for day in holidays_by_rule(d.year) if day.date == d), None)
            if day is not None:
                rule = DayRule.DAY_IN_LIEU if day.in_lieu else DayRule.STATUTORY_HOLIDAY
                return DayVerdict(d, False, rule, provisional, day.holiday)
        if _is_weekend(d):
            return DayVerdict(d, False, DayRule.WEEKEND, provisional)
        return DayVerdict(d, True, DayRule.WEEKDAY, provisional)

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
        year_number, year = -1, _MONDAY_TO_FRIDAY
        remaining = days
        # Day by day, but with the year looked up once per year rather than once per day.
        while remaining:
            current += _ONE_DAY
            if current.year != year_number:
                year_number = current.year
                year = self._year(year_number)
                provisional = provisional or not year.published
            if current in year.days_on or (not _is_weekend(current) and current not in year.days_off):
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
                year = self._year(year_number)
                provisional = provisional or not year.published
                days += sum(1 for d in year.days_on if start < d <= end)
                days -= sum(1 for d in year.days_off if start < d <= end)
        return CountedDays(days, provisional)


@cache
def default_calendar() -> WorkCalendar:
    """The process-wide calendar, seeded from `chinesecalendar`; services load later years into it."""
    return WorkCalendar.from_chinese_calendar()
