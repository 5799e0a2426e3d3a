"""The statutory holidays by rule, checked against the published years and the lunar calendar."""

from __future__ import annotations

from collections import Counter
from datetime import date

import chinese_calendar
from lunar_python import Lunar

from daiban_common.holidays import (
    DRAGON_BOAT,
    LABOUR_DAY,
    MID_AUTUMN,
    NATIONAL_DAY,
    NEW_YEAR,
    QINGMING,
    SPRING_FESTIVAL,
    DayOffByRule,
    holidays_by_rule,
    qingming,
)

PUBLISHED = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
# Qingming, 端午 and 中秋 are holidays since the 2007 amendment, in force from 2008; the 2024
# amendment (除夕 and May 2 added) is in force from 2025.
SINCE_2008 = [year for year in PUBLISHED if year >= 2008]
UNDER_THE_2024_LAW = [year for year in PUBLISHED if year >= 2025]


def _festivals(year: int) -> list[DayOffByRule]:
    return [day for day in holidays_by_rule(year) if not day.in_lieu]


def test_2031_from_the_lunar_calendar() -> None:
    # Lunar 1/1 is 2031-01-23, 5/5 is June 24, 8/15 is October 1, Qingming is Saturday April 5.
    assert [(d.date, d.holiday, d.in_lieu) for d in holidays_by_rule(2031)] == [
        (date(2031, 1, 1), NEW_YEAR, False),
        (date(2031, 1, 22), SPRING_FESTIVAL, False),  # 除夕
        (date(2031, 1, 23), SPRING_FESTIVAL, False),
        (date(2031, 1, 24), SPRING_FESTIVAL, False),
        (date(2031, 1, 25), SPRING_FESTIVAL, False),  # a Saturday
        (date(2031, 1, 27), SPRING_FESTIVAL, True),  # so Monday is off in lieu
        (date(2031, 4, 5), QINGMING, False),  # a Saturday
        (date(2031, 4, 7), QINGMING, True),
        (date(2031, 5, 1), LABOUR_DAY, False),
        (date(2031, 5, 2), LABOUR_DAY, False),
        (date(2031, 6, 24), DRAGON_BOAT, False),
        (date(2031, 10, 1), MID_AUTUMN, False),
        (date(2031, 10, 1), NATIONAL_DAY, False),  # both festivals on one day
        (date(2031, 10, 2), NATIONAL_DAY, False),
        (date(2031, 10, 3), NATIONAL_DAY, False),
        (date(2031, 10, 6), NATIONAL_DAY, True),  # the day the coincidence cost
    ]


def test_the_law_gives_thirteen_days_every_year() -> None:
    expected = {
        NEW_YEAR: 1,
        SPRING_FESTIVAL: 4,
        QINGMING: 1,
        LABOUR_DAY: 2,
        DRAGON_BOAT: 1,
        MID_AUTUMN: 1,
        NATIONAL_DAY: 3,
    }
    for year in range(2025, 2100):
        assert Counter(day.holiday for day in _festivals(year)) == expected, year
        # And every festival day lost to a weekend or a coincidence comes back as a weekday.
        weekdays_off = {day.date for day in holidays_by_rule(year) if day.date.weekday() < 5}
        assert len(weekdays_off) == 13, year


def test_festival_days_are_the_published_holidays() -> None:
    # The days every version of the law since 2008 gave: the lunar dates and Qingming must land
    # where the State Council put them.
    for year in SINCE_2008:
        festivals = _festivals(year)
        eve = min(day.date for day in festivals if day.holiday == SPRING_FESTIVAL)
        added_in_2024 = {eve, date(year, 5, 2)}
        for day in festivals:
            if day.date not in added_in_2024:
                assert chinese_calendar.is_holiday(day.date), (year, day)


def test_the_2024_law_gives_the_published_number_of_days_off() -> None:
    # Single dates may move (调休), but the balance of the published years is the law's.
    for year in UNDER_THE_2024_LAW:
        for day in _festivals(year):
            assert chinese_calendar.is_holiday(day.date), day
        weekdays_off = sum(1 for d in chinese_calendar.holidays if d.year == year and d.weekday() < 5)
        weekends_worked = sum(1 for d in chinese_calendar.workdays if d.year == year)
        by_rule = {day.date for day in holidays_by_rule(year) if day.date.weekday() < 5}
        assert len(by_rule) == weekdays_off - weekends_worked, year


def test_a_single_festival_day_on_a_weekend_is_made_up_the_next_monday() -> None:
    assert DayOffByRule(date(2023, 1, 2), NEW_YEAR, in_lieu=True) in holidays_by_rule(2023)
    assert DayOffByRule(date(2021, 4, 5), QINGMING, in_lieu=True) in holidays_by_rule(2021)
    # As the State Council did for every such 元旦 and 清明 it published.
    for year in SINCE_2008:
        for day in holidays_by_rule(year):
            if day.in_lieu and day.holiday in (NEW_YEAR, QINGMING):
                assert chinese_calendar.is_holiday(day.date), day


def test_qingming_agrees_with_the_astronomical_term() -> None:
    for year in range(1900, 2100):
        term = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]
        assert qingming(year) == date(term.getYear(), term.getMonth(), term.getDay()), year
    # Past chinesecalendar's formula the astronomical term is used.
    assert qingming(2101) == date(2101, 4, 5)
    assert len(_festivals(2101)) == 13
