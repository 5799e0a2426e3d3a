from datetime import date

from daiban_common.calendar import WorkCalendar
from daiban_routing.domain.clock import Clock, Pause

# A calendar without published years: Monday to Friday. 2030-01-07 is a Monday.
CAL = WorkCalendar()
MON = date(2030, 1, 7)


def test_the_deadline_counts_working_days_from_the_day_after_acceptance() -> None:
    assert Clock(MON, 5).due(MON, CAL).date == date(2030, 1, 14)


def test_a_closed_pause_moves_the_deadline_by_its_working_days() -> None:
    # Paused Wednesday to the next Wednesday: five working days do not count.
    clock = Clock(MON, 5, pauses=(Pause(date(2030, 1, 9), date(2030, 1, 16), "site_survey", 5),))
    assert clock.paused_working_days(date(2030, 2, 1), CAL) == 5
    assert clock.due(date(2030, 2, 1), CAL).date == date(2030, 1, 21)


def test_an_open_pause_keeps_pushing_the_deadline() -> None:
    clock = Clock(MON, 5, pauses=(Pause(date(2030, 1, 9), None, "supplement"),))
    assert clock.due(date(2030, 1, 10), CAL).date == date(2030, 1, 15)
    assert clock.due(date(2030, 1, 14), CAL).date == date(2030, 1, 17)
    assert clock.open_pause() is not None


def test_an_extension_and_a_task_limit() -> None:
    clock = Clock(MON, 5, extension_working_days=2)
    assert clock.due(MON, CAL).date == date(2030, 1, 16)
    assert clock.due(MON, CAL, limit=4).date == date(2030, 1, 15)
    assert clock.working_days_left(date(2030, 1, 17), CAL) == -1
