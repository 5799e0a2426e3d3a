"""What the citizen says afterwards: ratings (好差评) and complaints."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from daiban_common.calendar import WorkCalendar
from daiban_common.identity import mask_phone, mask_resident_id
from daiban_contracts.case import EvaluationLevel

RECTIFICATION_WORKING_DAYS: Final = 15

LEVEL_LABELS: Final = {
    EvaluationLevel.very_satisfied: "非常满意",
    EvaluationLevel.satisfied: "满意",
    EvaluationLevel.basically_satisfied: "基本满意",
    EvaluationLevel.dissatisfied: "不满意",
    EvaluationLevel.very_dissatisfied: "非常不满意",
}

# Indicators of the national 好差评 system the citizen may score from 1 to 5.
INDICATORS: Final = {
    "attitude": "服务态度",
    "efficiency": "办事效率",
    "transparency": "办事公开",
    "convenience": "便捷程度",
    "integrity": "廉洁自律",
}


def opens_rectification(level: EvaluationLevel) -> bool:
    """Every bad rating must be put right and answered (差评整改)."""
    return level in (EvaluationLevel.dissatisfied, EvaluationLevel.very_dissatisfied)


def rectification_due(calendar: WorkCalendar, today: date) -> date:
    return calendar.add_working_days(today, RECTIFICATION_WORKING_DAYS).date


_ID_LIKE: Final = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_PHONE_LIKE: Final = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_free_text(text: str) -> str:
    """Mask ID and mobile numbers a citizen typed into a comment before it leaves the node."""
    text = _ID_LIKE.sub(lambda m: mask_resident_id(m.group()), text)
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group()), text)
