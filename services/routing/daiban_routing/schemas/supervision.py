"""Response bodies of the supervision API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from daiban_common.pagination import Page
from daiban_contracts.case import FlagLevel


class FlagOut(BaseModel):
    case_number: str
    item_name: str
    org: str
    accepting_org: str
    level: FlagLevel
    level_label: str
    reason: str
    due_date: date
    as_of: date = Field(description="The day (Asia/Shanghai) the flag was counted on")


class FlagPage(Page[FlagOut]):
    as_of: datetime | date = Field(
        description="The `as_of` of the query as it was given (a date or an instant); now if none was"
    )
