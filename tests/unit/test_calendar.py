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
    DayRule,
    DayVerdict,
    WorkCalendar,
    default_calendar,
    to_shanghai_date,
    today_in_shanghai,
)
from daiban_common.holidays import holidays_by_rule

# The first year the installed chinesecalendar has no data for; the tests must not go stale when
# the package is upgraded.
UNKNOWN_YEAR = max(chinese_calendar.holidays).year + 1


def _published(*years: int) -> WorkCalendar:
    """The platform's calendar knowing only `years`, so a test does not change with the package."""
    calendar = WorkCalendar(statutory_fallback=True)
    for year in years:
        calendar.load_year(
            year,
            [d for d in chinese_calendar.holidays if d.year == year],
            [d for d in chinese_calendar.workdays if d.year == year],
        )
    return calendar


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


def test_unknown_year_is_provisional() -> None:
    calendar = default_calendar()
    assert not calendar.is_known(date(UNKNOWN_YEAR, 1, 1))
    assert UNKNOWN_YEAR not in calendar.known_years
    assert calendar.is_known(date(2026, 1, 1))
    monday = _first(0, UNKNOWN_YEAR) + timedelta(days=7)  # clear of a Monday in lieu of 元旦
    assert calendar.is_working_day(monday)
    assert not calendar.is_working_day(monday + timedelta(days=5))
    counted = calendar.add_working_days(monday, 5)
    assert counted == CountedDate(monday + timedelta(days=7), provisional=True)


def test_an_empty_calendar_counts_monday_to_friday() -> None:
    calendar = WorkCalendar()
    assert calendar.is_working_day(date(2031, 1, 1))
    assert calendar.explain(date(2031, 1, 1)) == DayVerdict(
        date(2031, 1, 1), True, DayRule.WEEKDAY, provisional=True
    )
    assert calendar.add_working_days(date(2030, 12, 31), 1) == CountedDate(date(2031, 1, 1), True)


def test_new_years_day_is_no_deadline_in_an_unpublished_year() -> None:
    # Sunday 2026-12-06 plus 20 working days: Dec 7 to Dec 31 hold 19, the 20th would be Friday
    # 2027-01-01 on Monday to Friday; 元旦 is skipped, so Monday Jan 4, provisional until 2027
    # is published (chinesecalendar 1.11 stops at 2026).
    counted = _published(2026).add_working_days(date(2026, 12, 6), 20)
    assert counted == CountedDate(date(2027, 1, 4), provisional=True)
    assert _published(2026).explain(date(2027, 1, 1)) == DayVerdict(
        date(2027, 1, 1), False, DayRule.STATUTORY_HOLIDAY, provisional=True, holiday="元旦"
    )


def test_every_statutory_holiday_of_a_far_year_is_skipped() -> None:
    calendar = _published(2026)
    days = holidays_by_rule(2031)
    assert days
    for day in days:
        assert not calendar.is_working_day(day.date), day
        verdict = calendar.explain(day.date)
        assert not verdict.working and verdict.provisional and verdict.holiday is not None, day
    # Tuesday Jan 21 + 1: 除夕 Wed to 初二 Fri, the weekend, Monday in lieu of 初三 (a Saturday).
    assert calendar.add_working_days(date(2031, 1, 21), 1) == CountedDate(date(2031, 1, 28), True)
    # Oct 1–3 and Monday Oct 6 for 中秋, which fell on Oct 1 too.
    assert calendar.working_days_between(date(2031, 9, 30), date(2031, 10, 7)) == CountedDays(1, True)


def test_explain_says_which_rule_decided() -> None:
    calendar = _published(2026)

    def rule(d: date) -> tuple[bool, DayRule, bool, str | None]:
        verdict = calendar.explain(d)
        return verdict.working, verdict.rule, verdict.provisional, verdict.holiday

    assert rule(date(2026, 2, 28)) == (True, DayRule.PUBLISHED_WORKDAY, False, None)
    assert rule(date(2026, 2, 16)) == (False, DayRule.PUBLISHED_DAY_OFF, False, None)
    assert rule(date(2026, 3, 1)) == (False, DayRule.WEEKEND, False, None)
    assert rule(date(2026, 3, 2)) == (True, DayRule.WEEKDAY, False, None)
    # A festival on a Saturday is named for the festival, and its Monday in lieu too.
    assert rule(date(2031, 1, 25)) == (False, DayRule.STATUTORY_HOLIDAY, True, "春节")
    assert rule(date(2031, 1, 27)) == (False, DayRule.DAY_IN_LIEU, True, "春节")
    assert rule(date(2031, 1, 26)) == (False, DayRule.WEEKEND, True, None)
    assert rule(date(2031, 1, 28)) == (True, DayRule.WEEKDAY, True, None)
    d = date(2026, 1, 1)
    while d.year < 2033:
        assert calendar.explain(d).working == calendar.is_working_day(d), d
        d += timedelta(days=1)


def test_a_year_by_rule_has_as_many_working_days_as_published() -> None:
    # For the years published under the 2024 law, whatever the State Council moved.
    by_rule = WorkCalendar(statutory_fallback=True)
    for year in (2025, 2026):
        span = date(year - 1, 12, 31), date(year, 12, 31)
        assert by_rule.working_days_between(*span) == CountedDays(
            default_calendar().working_days_between(*span).days, provisional=True
        )


def test_a_loaded_year_replaces_the_rule() -> None:
    calendar = _published(2026)
    # A made-up notice for 2031 that leaves Monday Jan 27 a working day.
    calendar.load_year(2031, [d.date for d in holidays_by_rule(2031) if d.date != date(2031, 1, 27)], [])
    assert calendar.explain(date(2031, 1, 27)) == DayVerdict(
        date(2031, 1, 27), True, DayRule.WEEKDAY, provisional=False
    )
    assert calendar.explain(date(2031, 1, 24)).rule is DayRule.PUBLISHED_DAY_OFF
    assert calendar.add_working_days(date(2031, 1, 21), 1) == CountedDate(date(2031, 1, 27), False)


def test_count_crossing_into_unknown_year_is_provisional() -> None:
    counted = default_calendar().add_working_days(date(UNKNOWN_YEAR - 1, 12, 20), 20)
    assert counted.provisional
    assert counted.date.year == UNKNOWN_YEAR


def test_loaded_year_is_known_and_honours_its_holidays() -> None:
    calendar = WorkCalendar.from_chinese_calendar()
    monday = _first(0, UNKNOWN_YEAR) + timedelta(days=7)  # clear of a Monday in lieu of 元旦
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
