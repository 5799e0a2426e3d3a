"""The bounds that narrow supervision to flaggable cases never leave a flagged case out."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from daiban_common.calendar import default_calendar
from daiban_contracts.case import FlagLevel
from daiban_routing.domain.clock import Clock, Pause
from daiban_routing.domain.supervision import (
    CaseWatch,
    Policy,
    evaluate,
    latest_deadline_start,
    latest_idle_activity,
)

POLICY = Policy()
# Around the Spring Festival, National Day and an ordinary stretch, so holidays and make-up days count.
DAYS = [date(2026, 2, 20), date(2026, 10, 9), date(2026, 12, 1), date(2025, 1, 27), date(2027, 3, 3)]


@pytest.mark.parametrize("as_of", DAYS)
@pytest.mark.parametrize("limit", [1, 5, 12, 20, 60])
def test_a_deadline_flag_means_a_start_on_or_before_the_bound(as_of: date, limit: int) -> None:
    calendar = default_calendar()
    rng = random.Random(f"{as_of}{limit}")
    for level in (FlagLevel.red, None):
        left = -1 if level is FlagLevel.red else POLICY.yellow_threshold(limit)
        bound = latest_deadline_start(as_of, limit, left, calendar)
        assert bound is not None
        flagged_starts = []
        for offset in range(-3 * limit - 60, 15):
            start = as_of + timedelta(days=offset)
            closed: tuple[Pause, ...] = ()
            if rng.random() < 0.3:
                ended = start + timedelta(days=rng.randint(1, 9))
                closed = (Pause(start + timedelta(days=1), ended, "supplement"),)
            watch = CaseWatch(Clock(start, limit, 0, closed), last_activity=as_of, waiting=False)
            flag = evaluate(watch, as_of, calendar, POLICY)
            if flag is not None and (level is None or flag.level is level):
                flagged_starts.append(start)
                assert start <= bound, (start, bound)
        # The bound is tight: a case without pauses started on it is flagged.
        tight = CaseWatch(Clock(bound, limit), last_activity=as_of, waiting=False)
        flag = evaluate(tight, as_of, calendar, POLICY)
        assert flag is not None and (level is None or flag.level is level)
        assert flagged_starts


@pytest.mark.parametrize("as_of", DAYS)
def test_an_idle_flag_means_last_activity_on_or_before_the_bound(as_of: date) -> None:
    calendar = default_calendar()
    bound = latest_idle_activity(as_of, POLICY, calendar)
    assert bound is not None
    for offset in range(-40, 5):
        last = as_of + timedelta(days=offset)
        # A long limit keeps the deadline far, so only idleness can flag it.
        watch = CaseWatch(Clock(as_of, 200), last_activity=last, waiting=True)
        if evaluate(watch, as_of, calendar, POLICY) is not None:
            assert last <= bound
    assert evaluate(CaseWatch(Clock(as_of, 200), last_activity=bound, waiting=True), as_of, calendar, POLICY)
