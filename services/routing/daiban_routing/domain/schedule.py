"""A year's official schedule (the State Council's notice): what makes one valid, when two are the same."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class Schedule:
    """Holidays and make-up working days (调休上班) of one year, sorted and without repeats."""

    year: int
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]
    reference: str

    @classmethod
    def of(cls, year: int, holidays: Sequence[date], workdays: Sequence[date], reference: str) -> Schedule:
        return cls(year, tuple(sorted(set(holidays))), tuple(sorted(set(workdays))), reference)

    def covers(self, start: date, end: date) -> bool:
        """Whether a count over (start, end] reaches into this year."""
        return start.year <= self.year <= end.year


def schedule_errors(year: int, holidays: Sequence[date], workdays: Sequence[date]) -> list[tuple[str, str]]:
    """(field, Chinese message) for every day that cannot be in `year`'s schedule, in body order."""
    errors: list[tuple[str, str]] = []
    days_off = set(holidays)
    for i, day in enumerate(holidays):
        if day.year != year:
            errors.append((f"holidays[{i}]", f"{day.isoformat()}不属于{year}年"))
    for i, day in enumerate(workdays):
        field = f"workdays[{i}]"
        if day.year != year:
            errors.append((field, f"{day.isoformat()}不属于{year}年"))
        elif day in days_off:
            errors.append((field, f"{day.isoformat()}不能既是放假日又是调休上班日"))
        elif day.weekday() < _SATURDAY:
            errors.append((field, f"{day.isoformat()}本是工作日，不能列为调休上班日"))
    return errors
