"""Request and response bodies of the calendar API: a year's official schedule."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from daiban_common.strict import Day
from daiban_contracts.text import StoredText


class ScheduleIn(BaseModel):
    """The State Council's notice for the year: its days off and the weekend days worked."""

    holidays: list[Day] = Field(max_length=60, description="放假日（含落在周末的放假日）")
    workdays: list[Day] = Field(default_factory=list, max_length=20, description="调休上班的周末日期")
    reference: StoredText = Field(
        min_length=1, max_length=200, description="通知文号，如 国办发明电〔2030〕7号"
    )


class YearSource(StrEnum):
    notice = "notice"  # loaded through this API (the State Council's notice)
    built_in = "built_in"  # shipped with the software (the chinesecalendar package)
    statutory_rule = "statutory_rule"  # not published: the statutory holidays by rule, provisional


class CalendarYearOut(BaseModel):
    year: int
    source: YearSource
    provisional: bool = Field(description="Deadlines counted over this year may still move")
    holidays: list[date] = Field(description="Days off; by rule, the festivals and days in lieu")
    workdays: list[date] = Field(description="Weekend days worked (调休上班)")
    reference: str | None = None
    loaded_at: datetime | None = None


class CalendarYearLoaded(CalendarYearOut):
    changed: bool = Field(description="False when the same schedule was already loaded: nothing moved")
    recomputed_cases: list[str] = Field(description="Open cases whose provisional deadline was counted again")
