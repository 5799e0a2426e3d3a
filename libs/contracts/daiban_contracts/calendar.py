"""The official working calendar: a year's State Council notice, as an administrator loaded it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from daiban_contracts.envelope import EventData, event_type


@event_type("daiban.calendar.year_published.v1")
class CalendarYearPublished(EventData):
    """A year's holidays and make-up working days (调休上班) replace those known before.

    Every process that counts working days loads it into its calendar; routing recomputes the
    provisional deadlines of its open cases in the same unit of work.
    """

    year: int
    holidays: tuple[date, ...] = Field(description="The days off the notice gives (weekend days included)")
    workdays: tuple[date, ...] = Field(description="The weekend days declared working days (调休上班)")
    reference: str = Field(description="The notice, e.g. 国办发明电〔2030〕7号")
    published_by: str
    published_at: datetime
