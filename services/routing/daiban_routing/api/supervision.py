"""`GET /v1/supervision/flags`: the flags of the caller's subtree as of any moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from daiban_common.auth import Principal, Role, require_roles
from daiban_common.deps import UowDep
from daiban_common.errors import InvalidInput
from daiban_common.pagination import Page, PageParamsDep
from daiban_common.strict import Instant
from daiban_contracts.case import FlagLevel
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_routing.context import ContextDep
from daiban_routing.queries.supervision import flags_as_of
from daiban_routing.schemas.supervision import FlagOut

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
    as_of: Annotated[Instant | None, Query(description="RFC 3339 时刻，默认现在；可问将来某时")] = None,
) -> Page[FlagOut]:
    moment = as_of or datetime.now(UTC)
    if moment.tzinfo is None:
        raise InvalidInput.field("as_of", "时间须带时区，例如 2026-12-01T09:00:00+08:00")
    async with uow:
        return await flags_as_of(
            uow.session, principal, page, context.policy, context.limits, as_of=moment, org=org, level=level
        )
