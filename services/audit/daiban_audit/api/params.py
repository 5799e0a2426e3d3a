"""What the audit routes take: who may read, org units, date ranges."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Query

from daiban_common.auth import Principal, Role, ensure_within, require_roles
from daiban_common.calendar import SHANGHAI, today_in_shanghai
from daiban_common.errors import InvalidInput
from daiban_contracts.orgcodes import ORG_CODE_PATTERN, InvalidOrgCode, OrgCode

MAX_RANGE_DAYS = 366

Reader = Annotated[Principal, Depends(require_roles(Role.auditor, Role.supervisor))]
StatsReader = Annotated[Principal, Depends(require_roles(Role.auditor, Role.supervisor, Role.admin))]
OrgQuery = Annotated[
    str | None,
    Query(
        description="12-digit org unit; defaults to the caller's",
        pattern=ORG_CODE_PATTERN,
    ),
]
AcceptHeader = Annotated[str | None, Header()]
# Statistics and reports come as JSON, or by the Accept header as CSV (for Excel) or printable HTML.
AS_DOCUMENTS: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}, "text/html": {}}}}


def org_param(raw: str | None, field: str = "org") -> str | None:
    if raw is None:
        return None
    try:
        return OrgCode.parse(raw).value
    except InvalidOrgCode as exc:
        raise InvalidInput.field(field, str(exc)) from None


def unit_asked(principal: Principal, org: str | None) -> str:
    """The org unit asked for, or the caller's own; 404 outside the caller's subtree."""
    unit = org_param(org) or principal.org
    ensure_within(principal, unit)
    return unit


def _instant(raw: str, field: str, *, end: bool) -> datetime:
    """A date (a whole day in Asia/Shanghai) or an RFC 3339 timestamp with its offset."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
            return start + timedelta(days=1) if end else start
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput.field(field, "应为日期（YYYY-MM-DD）或带时区的时间（RFC 3339）") from None
    if value.tzinfo is None:
        raise InvalidInput.field(field, "时间必须带时区，例如 2026-11-02T09:00:00+08:00")
    return value


def instant_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """[since, until): a date as `to` includes that whole day."""
    start = _instant(since, "from", end=False) if since else None
    stop = _instant(until, "to", end=True) if until else None
    if start is not None and stop is not None and stop <= start:
        raise InvalidInput.field("to", "结束时间不能早于开始时间")
    return start, stop


def day_range(since: date | None, until: date | None) -> tuple[date, date]:
    """An inclusive range of days; either end defaults to the other, or to today."""
    today = today_in_shanghai()
    start = since or until or today
    stop = until or since or today
    if stop < start:
        raise InvalidInput.field("to", "结束日期不能早于开始日期")
    if (stop - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput.field("to", f"查询区间不能超过{MAX_RANGE_DAYS}天")
    return start, stop
