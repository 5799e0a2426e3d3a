"""The time handlers read: the wall clock, or a moment set for one piece of work in this process.

Handlers ask `clock.now()` instead of `datetime.now(UTC)`. In a running service that is the wall
clock. The demo's history seeder runs the services' own routes and consumers in its process to
write months of past cases, and sets the moment each step happened with `at(...)`; being a
context variable, the moment is seen by the work started inside the block and nowhere else (no
request or event from outside the process can set it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_MOMENT: ContextVar[datetime | None] = ContextVar("daiban_clock_moment", default=None)


def now() -> datetime:
    """The current time in UTC (timezone-aware)."""
    moment = _MOMENT.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    """Within the block, `now()` is `moment` (which must be timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware moment")
    token = _MOMENT.set(moment.astimezone(UTC))
    try:
        yield moment
    finally:
        _MOMENT.reset(token)
