"""Dates, instants and booleans that mean exactly what the OpenAPI documents say.

Pydantic's lax mode reads `0` (or the string `"0"`) as 1970-01-01, `0.5` as an instant half a
second after the epoch and `0`/`1` as booleans. The documents say `format: date`, `format:
date-time` and `type: boolean`, so a client that sends a number gets a 422 naming the field,
never a silent answer about 1970:

    since: Annotated[Day | None, Query(alias="from")] = None
    absent_from: Instant | None = None
    green_channel: StrictBool = False
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, StrictBool

__all__ = ["Day", "DayOrInstant", "Instant", "StrictBool"]

_DAY_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
# RFC 3339 `date-time` as JSON Schema's format means it: a date, `T`, a time, an offset or `Z`.
_INSTANT_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _day(value: Any) -> Any:
    if isinstance(value, str) and not _DAY_RE.fullmatch(value):
        raise ValueError("日期格式应为YYYY-MM-DD")
    if not isinstance(value, str | date) or isinstance(value, datetime):
        raise ValueError("日期格式应为YYYY-MM-DD")
    return value


def _instant(value: Any) -> Any:
    if isinstance(value, str) and not _INSTANT_RE.fullmatch(value):
        raise ValueError("时间格式应为RFC 3339，例如2026-12-01T09:30:00+08:00")
    if not isinstance(value, str | datetime):
        raise ValueError("时间格式应为RFC 3339，例如2026-12-01T09:30:00+08:00")
    return value


Day = Annotated[date, BeforeValidator(_day)]
Instant = Annotated[datetime, BeforeValidator(_instant)]


def _day_or_instant(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DAY_RE.fullmatch(value):
        return date.fromisoformat(value)
    if isinstance(value, str) and _INSTANT_RE.fullmatch(value):
        # Parsed here, not by the union: pydantic would also read "2026-12-01T00:00:00Z" as a date.
        return datetime.fromisoformat(value.upper())
    raise ValueError("应为日期（YYYY-MM-DD）或RFC 3339时刻，例如2026-12-01T09:30:00+08:00")


# A date or an instant, kept as given (a `date` or a `datetime`) so that an answer can echo it.
DayOrInstant = Annotated[datetime | date, BeforeValidator(_day_or_instant)]
