"""Public routes (no token): the directory of service points, for pages anyone may read.

A third-party front end shows "姜山镇便民服务中心" instead of a 12-digit code with these. Nothing
here is personal (no staff, windows or duty), and nothing is guessed, so there is no rate limit;
shared caches may keep an answer five minutes and revalidate it with its ETag.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from daiban_common.deps import UowDep
from daiban_common.negotiation import conditional
from daiban_common.openapi import NOT_MODIFIED, problem_responses
from daiban_common.pagination import Page, PageParamsDep
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_routing.api import problem_docs as docs
from daiban_routing.queries import directory as queries
from daiban_routing.schemas.directory import PublicServicePointOut

# A point's address or hours change seldom; five minutes stale is fine for a public page.
PUBLIC_CACHE = "public, max-age=300"

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get(
    "/service-points",
    summary="The public directory of service points (no token needed)",
    description="便民服务场所目录（无需令牌）",
    response_model=Page[PublicServicePointOut],
    responses={304: NOT_MODIFIED, **problem_responses(docs.PUBLIC_ORG_NOT_FOUND, 422)},
)
async def list_service_points(
    request: Request,
    uow: UowDep,
    page: PageParamsDep,
    org: Annotated[
        str | None, Query(description="12位区划代码：该单位及其下级的服务场所", pattern=ORG_CODE_PATTERN)
    ] = None,
    tier: Annotated[str | None, Query(pattern="^(county|township|village)$")] = None,
) -> Response:
    async with uow:
        found = await queries.public_points(uow.session, page, org=org, tier=tier)
    return conditional(request, found.model_dump_json().encode(), cache_control=PUBLIC_CACHE)


@router.get(
    "/service-points/{org}",
    summary="One service point (no token needed)",
    description="一个便民服务场所（无需令牌）",
    response_model=PublicServicePointOut,
    responses={304: NOT_MODIFIED, **problem_responses(docs.PUBLIC_ORG_NOT_FOUND, 422)},
)
async def service_point(
    request: Request,
    uow: UowDep,
    org: Annotated[str, Path(description="12位区划代码", pattern=ORG_CODE_PATTERN)],
) -> Response:
    async with uow:
        found = await queries.public_point(uow.session, org)
    return conditional(request, found.model_dump_json().encode(), cache_control=PUBLIC_CACHE)
