"""`DayOrInstant`: a date or an RFC 3339 instant, kept in the form given so that answers can echo it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from daiban_common.strict import DayOrInstant

ADAPTER: TypeAdapter[datetime | date] = TypeAdapter(DayOrInstant)


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("2026-12-01T09:00:00+08:00", datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=8)))),
        ("2026-12-01T00:00:00Z", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01t00:00:00z", datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
def test_a_day_stays_a_day_and_an_instant_an_instant(given: str, read: date) -> None:
    value = ADAPTER.validate_python(given)
    assert value == read and type(value) is type(read)
    assert ADAPTER.dump_json(value).decode().strip('"').upper() == given.upper().replace("+00:00", "Z")


@pytest.mark.parametrize("given", ["0", "0.5", "2026-12-1", "next week", "2026-12-01T09:00:00", 0])
def test_anything_else_is_refused_in_chinese(given: object) -> None:
    with pytest.raises(ValidationError, match="应为日期"):
        ADAPTER.validate_python(given)
