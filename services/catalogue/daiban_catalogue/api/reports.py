"""Public documents printed from the catalogue: the handbook of an org unit and reform statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from daiban_catalogue import presenters, queries
from daiban_catalogue.api.http import CatalogueRoute, json_body, parse_org
from daiban_catalogue.api.problem_docs import problems
from daiban_catalogue.context import ContextDep
from daiban_catalogue.schemas import HandbookOut, ReformStatsOut
from daiban_common.deps import UowDep
from daiban_common.negotiation import HTML, conditional, wants_html
from daiban_common.strict import Day
from daiban_contracts.orgcodes import ORG_CODE_PATTERN

OrgQuery = Annotated[
    str,
    Query(description="12-digit code of the org unit", examples=["370285101000"], pattern=ORG_CODE_PATTERN),
]


router = APIRouter(prefix="/v1", tags=["reports"], route_class=CatalogueRoute)


async def _handbook(uow: UowDep, context: ContextDep, org: str) -> HandbookOut:
    book = await queries.handbook(uow, parse_org(org, "org"), context.prefixes)
    return presenters.handbook_out(book)


@router.get(
    "/handbook",
    summary="The convenience handbook of an org unit (JSON, or HTML with Accept: text/html)",
    response_model=HandbookOut,
    responses={**problems(304, 404, 422), 200: {"content": {"text/html": {}}}},
)
async def get_handbook(request: Request, uow: UowDep, context: ContextDep, org: OrgQuery) -> Response:
    book = await _handbook(uow, context, org)
    if wants_html(request):
        return conditional(request, presenters.render_handbook(book).encode(), HTML, vary=True)
    return conditional(request, json_body(book), vary=True)


@router.get(
    "/handbook.html",
    summary="The convenience handbook of an org unit, printable",
    response_class=Response,
    responses={**problems(304, 404, 422), 200: {"content": {"text/html": {}}}},
)
async def get_handbook_html(request: Request, uow: UowDep, context: ContextDep, org: OrgQuery) -> Response:
    book = await _handbook(uow, context, org)
    return conditional(request, presenters.render_handbook(book).encode(), HTML)


@router.get(
    "/reform-stats",
    summary="Reform statistics: the catalogue in force on `to` against the one on `from`",
    response_model=ReformStatsOut,
    responses=problems(304, 422),
)
async def get_reform_stats(
    request: Request,
    uow: UowDep,
    context: ContextDep,
    start: Annotated[Day | None, Query(alias="from", description="Default: the first catalogue")] = None,
    end: Annotated[Day | None, Query(alias="to", description="Default: today")] = None,
) -> Response:
    today = context.today()
    reform = await queries.reform(uow, start, end or today, today)
    return conditional(request, json_body(presenters.reform_out(reform)))
