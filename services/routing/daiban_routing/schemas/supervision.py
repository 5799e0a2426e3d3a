"""Response bodies of the supervision API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

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
    as_of: date
