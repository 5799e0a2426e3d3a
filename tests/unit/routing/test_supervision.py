from datetime import date

from daiban_common.calendar import WorkCalendar
from daiban_contracts.case import FlagLevel
from daiban_routing.domain.clock import Clock, Pause
from daiban_routing.domain.supervision import CaseWatch, Policy, evaluate

CAL = WorkCalendar()
MON = date(2030, 1, 7)  # due after 10 working days: Monday 2030-01-21
POLICY = Policy()


def watch(clock: Clock, *, waiting: bool = False, last: date = MON) -> CaseWatch:
    return CaseWatch(clock=clock, last_activity=last, waiting=waiting)


def test_plenty_of_time_is_no_flag() -> None:
    assert evaluate(watch(Clock(MON, 10)), date(2030, 1, 8), CAL, POLICY) is None


def test_yellow_within_twenty_percent_of_the_limit() -> None:
    # 10 days: 20% is 2 working days, more than the 1-day minimum.
    flag = evaluate(watch(Clock(MON, 10)), date(2030, 1, 17), CAL, POLICY)
    assert flag is not None and flag.level is FlagLevel.yellow and "2" in flag.reason
    assert evaluate(watch(Clock(MON, 10)), date(2030, 1, 16), CAL, POLICY) is None


def test_red_once_overdue() -> None:
    flag = evaluate(watch(Clock(MON, 10)), date(2030, 1, 23), CAL, POLICY)
    assert flag is not None and flag.level is FlagLevel.red and flag.reason == "已超期2个工作日"
    assert flag.due_date == date(2030, 1, 21)


def test_a_special_procedure_stops_the_clock_until_it_runs_over() -> None:
    paused = Clock(MON, 10, pauses=(Pause(date(2030, 1, 8), None, "site_survey", 10),))
    assert evaluate(watch(paused), date(2030, 1, 21), CAL, POLICY) is None
    late = evaluate(watch(paused), date(2030, 1, 23), CAL, POLICY)
    assert late is not None and late.level is FlagLevel.yellow and "特别程序" in late.reason


def test_cases_waiting_for_a_supplement_are_watched() -> None:
    paused = Clock(MON, 10, pauses=(Pause(date(2030, 1, 8), None, "supplement"),))
    assert evaluate(watch(paused), date(2030, 1, 15), CAL, POLICY) is None
    flag = evaluate(watch(paused), date(2030, 1, 16), CAL, POLICY)
    assert flag is not None and "补正" in flag.reason


def test_idle_cases_nobody_took_are_watched() -> None:
    flag = evaluate(watch(Clock(MON, 20), waiting=True), date(2030, 1, 10), CAL, POLICY)
    assert flag is not None and "闲置" in flag.reason
    assert evaluate(watch(Clock(MON, 20), waiting=False), date(2030, 1, 10), CAL, POLICY) is None
