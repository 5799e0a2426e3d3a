"""A case's clock: its deadline in working days, with pauses taken out and an extension added."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from daiban_common.calendar import CountedDate, WorkCalendar


@dataclass(frozen=True, slots=True)
class Pause:
    """A stretch during which the clock stood still; `end` is None while it lasts."""

    start: date
    end: date | None
    kind: str
    expected_working_days: int = 0

    def working_days(self, as_of: date, calendar: WorkCalendar) -> int:
        """Working days this pause has taken out of the count, as of `as_of`."""
        end = self.end if self.end is not None else max(self.start, as_of)
        return max(0, calendar.working_days_between(self.start, end).days)


@dataclass(frozen=True, slots=True)
class Clock:
    """Counting starts the working day after `start` (the acceptance date, in Shanghai)."""

    start: date
    limit_working_days: int
    extension_working_days: int = 0
    pauses: tuple[Pause, ...] = ()

    def paused_working_days(self, as_of: date, calendar: WorkCalendar) -> int:
        return sum(p.working_days(as_of, calendar) for p in self.pauses)

    def open_pause(self) -> Pause | None:
        return next((p for p in self.pauses if p.end is None), None)

    def due(self, as_of: date, calendar: WorkCalendar, *, limit: int | None = None) -> CountedDate:
        """The deadline as known on `as_of`; an open pause keeps pushing it back day by day.

        `limit` replaces the case's limit for a task's sub-deadline; pauses and the extension
        apply to every task of the case alike.
        """
        days = (self.limit_working_days if limit is None else limit) + self.extension_working_days
        return calendar.add_working_days(self.start, days + self.paused_working_days(as_of, calendar))

    def working_days_left(self, as_of: date, calendar: WorkCalendar) -> int:
        """Negative once overdue: minus the working days past the deadline."""
        return calendar.working_days_between(as_of, self.due(as_of, calendar).date).days
