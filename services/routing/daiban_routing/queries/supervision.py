"""`GET /v1/supervision/flags`: every flag of the caller's subtree as of a given moment."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, subtree_clause
from daiban_common.calendar import default_calendar, to_shanghai_date
from daiban_common.contracts.case import FlagLevel
from daiban_common.pagination import Page, PageParams, paginate
from daiban_routing.domain.supervision import Policy, evaluate
from daiban_routing.models import Case
from daiban_routing.queries.supervision_candidates import flaggable
from daiban_routing.queries.supervision_watch import open_cases
from daiban_routing.queries.cases import summary_of
from daiban_routing.queries.work import parse_org_filter

_LEVEL_LABELS = {FlagLevel.yellow: "黄牌", FlagLevel.red: "红牌"}


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


async def flags_as_of(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    policy: Policy,
    *,
    as_of: datetime,
    org: str | None,
    level: FlagLevel | None,
) -> Page[FlagOut]:
    scope = parse_org_filter(principal, org)
    where = [
        subtree_clause(col(Case.current_org), principal.org),
        subtree_clause(col(Case.current_org), scope),
    ]
    day = to_shanghai_date(as_of)
    calendar = default_calendar()
    after = page.key(str)
    cursor_after: str | None = after[0] if after is not None else None
    found: list[FlagOut] = []
    # Flags are computed, not stored per moment: SQL narrows the open cases to those that can be
    # flagged, Python evaluates them in batches until a page is full.
    where.append(await flaggable(session, day, policy, level))
    size = max(50, 2 * (page.limit + 1))
    while len(found) <= page.limit:
        batch = await open_cases(session, where, after=cursor_after, batch=size)
        size = min(500, size * 2)
        if not batch:
            break
        for case, watch in batch:
            flag = evaluate(watch, day, calendar, policy)
            if flag is None or (level is not None and flag.level is not level):
                continue
            found.append(
                FlagOut(
                    case_number=case.case_number,
                    item_name=summary_of(case).item.name,
                    org=case.current_org,
                    accepting_org=case.accepting_org,
                    level=flag.level,
                    level_label=_LEVEL_LABELS[flag.level],
                    reason=flag.reason,
                    due_date=flag.due_date,
                    as_of=day,
                )
            )
        cursor_after = batch[-1][0].case_number
    items, next_cursor = paginate(found, page, key=lambda f: (f.case_number,))
    return Page(items=items, next_cursor=next_cursor)
