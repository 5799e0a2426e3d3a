"""China's public holidays computed by rule, for the years no State Council notice has settled yet.

《全国年节及纪念日放假办法》 as amended on 2024-11-10 (in force since 2025) gives every citizen 13 days
off (art. 2): 元旦 1 (Jan 1), 春节 4 (lunar New Year's Eve and lunar 1/1–1/3), 清明节 1 (the Qingming
solar term), 劳动节 2 (May 1–2), 端午节 1 (lunar 5/5), 中秋节 1 (lunar 8/15), 国庆节 3 (Oct 1–3); and
a holiday that falls on a Saturday or Sunday is made up on a working day (art. 6, 补假). Which weekend
days are then worked to join the days off into a longer break (调休) the State Council decides year by
year, so no rule can know them and none are assumed. The published schedule keeps the same balance
(a day worked for each extra weekday off), so a year by rule has the official number of working days
even where single dates differ, which is why dates counted on it are only provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import chinese_calendar
from lunar_python import Lunar

NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
QINGMING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
# The years chinesecalendar's solar-term formula covers; beyond them lunar_python's astronomical
# computation gives the term (the two agree on Qingming for 1900–2099).
_SOLAR_TERM_YEARS = range(1900, 2101)


@dataclass(frozen=True, slots=True)
class DayOffByRule:
    """A day off the law gives in `date.year`: a festival's own day, or a weekday in lieu (补假).

    A day in lieu makes up for a day of `holiday` that fell on a weekend, or on another festival's day
    (中秋 on Oct 1, as in 2031), so a date may appear twice, once for each festival it carries.
    """

    date: date
    holiday: str
    in_lieu: bool


def _lunar_to_solar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(int(solar.getYear()), int(solar.getMonth()), int(solar.getDay()))


def qingming(year: int) -> date:
    """The day of the Qingming solar term (April 4 or 5 in this era), in China's time."""
    if year in _SOLAR_TERM_YEARS:
        # April holds two terms, Qingming and then Guyu.
        term_day, _name = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))[0]
        return date(term_day.year, term_day.month, term_day.day)
    term = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]
    return date(int(term.getYear()), int(term.getMonth()), int(term.getDay()))


def _festival_days(year: int) -> list[tuple[date, str]]:
    new_year_day = _lunar_to_solar(year, 1, 1)
    return [
        (date(year, 1, 1), NEW_YEAR),
        # Lunar New Year's Eve is the day before 1/1, whether the twelfth month has 29 days or 30.
        *((new_year_day + offset * _ONE_DAY, SPRING_FESTIVAL) for offset in range(-1, 3)),
        (qingming(year), QINGMING),
        (date(year, 5, 1), LABOUR_DAY),
        (date(year, 5, 2), LABOUR_DAY),
        (_lunar_to_solar(year, 5, 5), DRAGON_BOAT),
        (_lunar_to_solar(year, 8, 15), MID_AUTUMN),
        *((date(year, 10, day), NATIONAL_DAY) for day in (1, 2, 3)),
    ]


def _is_weekend(d: date) -> bool:
    return d.weekday() >= _SATURDAY


@cache
def holidays_by_rule(year: int) -> tuple[DayOffByRule, ...]:
    """The days off the law gives in `year`, festivals and days in lieu, in date order.

    Days in lieu follow the break that owes them: the first weekdays after it that are not
    festivals themselves (Jan 1 on a Sunday gives Monday Jan 2, as the State Council has always
    placed them).
    """
    # By date; a date carrying two festivals keeps the order of the law (中秋 before 国庆).
    festivals = sorted(_festival_days(year), key=lambda festival: festival[0])
    taken = {d for d, _ in festivals}
    days: list[DayOffByRule] = []
    i = 0
    while i < len(festivals):
        # One break: festival days on consecutive dates (中秋 on Sep 30 runs into 国庆).
        j = i + 1
        while j < len(festivals) and festivals[j][0] - festivals[j - 1][0] <= _ONE_DAY:
            j += 1
        owed: list[str] = []
        seen: set[date] = set()
        for d, name in festivals[i:j]:
            days.append(DayOffByRule(d, name, in_lieu=False))
            # A weekend day was free anyway, and a weekday already taken by another festival
            # cannot be given twice: either way that festival's day is owed.
            if _is_weekend(d) or d in seen:
                owed.append(name)
            seen.add(d)
        candidate = festivals[j - 1][0]
        for name in owed:
            candidate += _ONE_DAY
            while _is_weekend(candidate) or candidate in taken:
                candidate += _ONE_DAY
            taken.add(candidate)
            days.append(DayOffByRule(candidate, name, in_lieu=True))
        i = j
    return tuple(sorted(days, key=lambda day: (day.date, day.in_lieu)))
