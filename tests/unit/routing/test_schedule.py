"""A year's official schedule: which days it may hold, when two loads are the same."""

from __future__ import annotations

from datetime import date

from daiban_common.calendar import WorkCalendar
from daiban_routing.domain.schedule import Schedule, schedule_errors


def test_a_valid_schedule_has_no_errors() -> None:
    # 2031-01-25 is a Saturday: a weekend day off is accepted (it changes nothing).
    assert schedule_errors(2031, [date(2031, 1, 1), date(2031, 1, 25)], [date(2031, 1, 19)]) == []


def test_each_day_at_fault_is_named_by_its_index() -> None:
    errors = schedule_errors(
        2031,
        [date(2031, 1, 1), date(2030, 12, 31)],
        [date(2031, 1, 19), date(2032, 1, 3), date(2031, 1, 1), date(2031, 2, 3)],
    )
    assert [field for field, _ in errors] == ["holidays[1]", "workdays[1]", "workdays[2]", "workdays[3]"]
    messages = dict(errors)
    assert messages["holidays[1]"] == "2030-12-31不属于2031年"
    assert messages["workdays[2]"] == "2031-01-01不能既是放假日又是调休上班日"
    assert messages["workdays[3]"] == "2031-02-03本是工作日，不能列为调休上班日"


def test_the_same_days_in_another_order_or_repeated_are_the_same_schedule() -> None:
    one = Schedule.of(2031, [date(2031, 1, 2), date(2031, 1, 1)], [], "国办发明电〔2030〕7号")
    two = Schedule.of(
        2031, [date(2031, 1, 1), date(2031, 1, 2), date(2031, 1, 1)], [], "国办发明电〔2030〕7号"
    )
    assert one == two
    assert one != Schedule.of(2031, [date(2031, 1, 1)], [], "国办发明电〔2030〕7号")
    assert one != Schedule.of(2031, one.holidays, [], "另一文号")


def test_a_schedule_covers_the_counts_that_reach_into_its_year() -> None:
    schedule = Schedule.of(2031, [], [], "x")
    assert schedule.covers(date(2030, 12, 20), date(2031, 1, 5))
    assert schedule.covers(date(2031, 12, 20), date(2032, 1, 5))
    assert not schedule.covers(date(2030, 1, 1), date(2030, 12, 31))


def test_with_year_counts_with_the_year_and_leaves_the_calendar_alone() -> None:
    calendar = WorkCalendar(statutory_fallback=True)
    # By rule, 2031-01-01 (Wednesday) is New Year's Day; the notice here moves it to Thursday.
    assert not calendar.is_working_day(date(2031, 1, 1))
    loaded = calendar.with_year(2031, [date(2031, 1, 2)], [])
    assert loaded.is_working_day(date(2031, 1, 1)) and not loaded.is_working_day(date(2031, 1, 2))
    assert not loaded.explain(date(2031, 1, 2)).provisional
    assert not calendar.is_working_day(date(2031, 1, 1)) and calendar.known_years == ()
