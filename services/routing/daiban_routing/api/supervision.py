"""`GET /v1/supervision/flags`: the flags of the caller's subtree as of any moment."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from daiban_common.auth import Principal, Role, require_roles
from daiban_common.calendar import SHANGHAI
from daiban_common.deps import UowDep
from daiban_common.errors import InvalidInput
from daiban_common.pagination import PageParamsDep
from daiban_common.strict import DayOrInstant
from daiban_contracts.case import FlagLevel
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_routing.context import ContextDep
from daiban_routing.queries.supervision import flags_as_of
from daiban_routing.schemas.supervision import FlagPage

Watcher = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin, Role.auditor))]


router = APIRouter(prefix="/v1/supervision", tags=["supervision"])


@router.get(
    "/flags",
    summary="Electronic supervision: yellow and red flags as of an instant or a day",
    description="电子监察：指定时刻的黄牌、红牌",
    responses={
        401: {"description": "未登录"},
        403: {"description": "仅限监察、管理、审计人员"},
        404: {"description": "区划不在辖区内"},
        422: {"description": "参数有误"},
    },
)
async def flags(
    principal: Watcher,
    context: ContextDep,
    uow: UowDep,
    page: PageParamsDep,
    org: Annotated[
        str | None,
        Query(
            description="12位区划代码，含其下级",
            pattern=ORG_CODE_PATTERN,
        ),
    ] = None,
    level: Annotated[FlagLevel | None, Query(description="yellow | red")] = None,
    as_of: Annotated[
        DayOrInstant | None,
        Query(
            description=(
                "RFC 3339 时刻，或日期 YYYY-MM-DD（指北京时间当日零时；黄牌、红牌按工作日计，"
                "同一天内任何时刻结果相同）；默认现在；可问将来某时。应答的 as_of 与所给形式相同"
            )
        ),
    ] = None,
) -> FlagPage:
    given = as_of if as_of is not None else datetime.now(UTC)
    moment = given if isinstance(given, datetime) else datetime.combine(given, time(), tzinfo=SHANGHAI)
    if moment.tzinfo is None:
        raise InvalidInput.field("as_of", "时间须带时区，例如 2026-12-01T09:00:00+08:00")
    async with uow:
        found = await flags_as_of(
            uow.session, principal, page, context.policy, context.limits, as_of=moment, org=org, level=level
        )
    return FlagPage(items=found.items, next_cursor=found.next_cursor, as_of=given)
