"""Working days on the official calendar, and what happens past the years it knows."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from daiban_common.calendar import (
    SHANGHAI,
    CountedDate,
    CountedDays,
    WorkCalendar,
    default_calendar,
    to_shanghai_date,
    today_in_shanghai,
)

# The first year the installed chinesecalendar has no data for; the tests must not go stale when
# the package is upgraded.
UNKNOWN_YEAR = max(chinese_calendar.holidays).year + 1


def _first(weekday: int, year: int) -> date:
    d = date(year, 1, 1)
    while d.weekday() != weekday:
        d += timedelta(days=1)
    return d


def test_shanghai_dates() -> None:
    # 16:30 UTC on 31 December is already New Year's Day in Shanghai (UTC+8).
    assert to_shanghai_date(datetime(2025, 12, 31, 16, 30, tzinfo=UTC)) == date(2026, 1, 1)
    assert today_in_shanghai(datetime(2025, 12, 31, 15, 59, tzinfo=UTC)) == date(2025, 12, 31)
    assert today_in_shanghai(datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)) == date(2026, 3, 1)
    assert isinstance(today_in_shanghai(), date)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        to_shanghai_date(datetime(2026, 1, 1, 12, 0))


def test_national_day_and_make_up_saturday() -> None:
    # Oct 1–7 off, Oct 8 and 9 worked, Saturday Oct 10 worked in exchange, Sunday off.
    assert default_calendar().add_working_days(date(2026, 9, 30), 5) == CountedDate(date(2026, 10, 13), False)


def test_working_days() -> None:
    calendar = default_calendar()
    assert calendar.is_working_day(date(2026, 2, 28))  # a Saturday worked for the Spring Festival
    assert not calendar.is_working_day(date(2026, 2, 16))  # a Monday in the Spring Festival
    assert not calendar.is_working_day(date(2026, 3, 1))  # an ordinary Sunday
    assert calendar.is_working_day(date(2026, 3, 2))


def test_agrees_with_chinese_calendar_over_its_whole_range() -> None:
    calendar = default_calendar()
    d = date(min(chinese_calendar.holidays).year, 1, 1)
    while d.year < UNKNOWN_YEAR:
        assert calendar.is_working_day(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_counting_starts_the_day_after() -> None:
    calendar = default_calendar()
    friday, monday = date(2026, 3, 6), date(2026, 3, 9)
    assert calendar.add_working_days(friday, 1).date == monday
    # Accepted on a Saturday: the first day counted is still the Monday.
    assert calendar.add_working_days(date(2026, 3, 7), 1).date == monday


def test_zero_days_is_the_start_itself() -> None:
    calendar = default_calendar()
    assert calendar.add_working_days(date(2026, 3, 7), 0) == CountedDate(date(2026, 3, 7), False)
    assert calendar.add_working_days(date(UNKNOWN_YEAR, 3, 7), 0).provisional


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        default_calendar().add_working_days(date(2026, 3, 6), -1)


def test_unknown_year_is_provisional_and_counts_weekdays() -> None:
    calendar = default_calendar()
    assert not calendar.is_known(date(UNKNOWN_YEAR, 1, 1))
    assert UNKNOWN_YEAR not in calendar.known_years
    assert calendar.is_known(date(2026, 1, 1))
    monday = _first(0, UNKNOWN_YEAR)
    assert calendar.is_working_day(monday)
    assert not calendar.is_working_day(monday + timedelta(days=5))
    counted = calendar.add_working_days(monday, 5)
    assert counted == CountedDate(monday + timedelta(days=7), provisional=True)


def test_count_crossing_into_unknown_year_is_provisional() -> None:
    counted = default_calendar().add_working_days(date(UNKNOWN_YEAR - 1, 12, 20), 20)
    assert counted.provisional
    assert counted.date.year == UNKNOWN_YEAR


def test_loaded_year_is_known_and_honours_its_holidays() -> None:
    calendar = WorkCalendar.from_chinese_calendar()
    monday = _first(0, UNKNOWN_YEAR)
    saturday = monday + timedelta(days=5)
    calendar.load_year(UNKNOWN_YEAR, holidays=[monday, monday + timedelta(days=6)], workdays=[saturday])
    assert UNKNOWN_YEAR in calendar.known_years
    assert not calendar.is_working_day(monday)
    assert calendar.is_working_day(saturday)
    # Tue–Fri, then the Saturday worked in exchange.
    assert calendar.add_working_days(monday - timedelta(days=1), 5) == CountedDate(saturday, False)
    # The shared default calendar is untouched.
    assert default_calendar().is_working_day(monday)


def test_load_year_rejects_inconsistent_data() -> None:
    calendar = WorkCalendar()
    saturday = _first(5, 2030)
    with pytest.raises(ValueError, match="不属于2030年"):
        calendar.load_year(2030, holidays=[date(2031, 1, 1)], workdays=[])
    with pytest.raises(ValueError, match="既是放假日又是调休上班日"):
        calendar.load_year(2030, holidays=[saturday], workdays=[saturday])
    with pytest.raises(ValueError, match="不能列为调休上班日"):
        calendar.load_year(2030, holidays=[], workdays=[saturday + timedelta(days=2)])
    assert calendar.known_years == ()


def test_working_days_between() -> None:
    calendar = default_calendar()
    start, end = date(2026, 9, 30), date(2026, 10, 13)
    assert calendar.working_days_between(start, end) == CountedDays(5, False)
    assert calendar.working_days_between(end, start) == CountedDays(-5, False)
    assert calendar.working_days_between(start, start) == CountedDays(0, False)
    # (Oct 9, Oct 11]: the make-up Saturday counts, the Sunday does not.
    assert calendar.working_days_between(date(2026, 10, 9), date(2026, 10, 11)).days == 1
    # Nothing in (Sep 30, Oct 7]: the whole National Day week is off.
    assert calendar.working_days_between(start, date(2026, 10, 7)).days == 0
    assert calendar.working_days_between(date(2026, 12, 1), date(UNKNOWN_YEAR, 1, 10)).provisional


def test_between_is_the_inverse_of_add() -> None:
    calendar = default_calendar()
    start = date(2025, 1, 1)
    for days in range(0, 400, 7):
        counted = calendar.add_working_days(start, days)
        assert calendar.working_days_between(start, counted.date).days == days


def test_fast_enough_for_thousands_of_deadlines() -> None:
    calendar = default_calendar()
    starts = [date(2025, 1, 1) + timedelta(days=i % 700) for i in range(5000)]
    began = time.perf_counter()
    for start in starts:
        deadline = calendar.add_working_days(start, 20).date
        calendar.working_days_between(start, deadline)
    # Generous: about 0.1 s on a laptop; a per-day call into chinese_calendar would be ~10x slower.
    assert time.perf_counter() - began < 2.0
