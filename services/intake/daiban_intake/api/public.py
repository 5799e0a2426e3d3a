"""Public routes (no token needed): progress by number and query code, a hall's progress board,
evaluations, complaints."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from daiban_common import clock
from daiban_common.auth import OptionalPrincipal
from daiban_common.deps import UowDep
from daiban_common.idempotency import OptionalIdempotencyKey, answering, once
from daiban_common.negotiation import wants_html
from daiban_common.query_params import only_params
from daiban_common.ratelimit import PublicAttempts, rate_limited_responses
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_contracts.text import StoredText
from daiban_intake import presenters, presenters_board
from daiban_intake.api import problem_docs as docs
from daiban_intake.api.http import html, problems
from daiban_intake.context import ContextDep
from daiban_intake.domain import board
from daiban_intake.handlers.feedback import PUBLIC_ACTOR, evaluate, file_complaint
from daiban_intake.queries import cases as queries
from daiban_intake.queries.board import hall_board
from daiban_intake.schemas import BoardOut, ComplaintOut, Evaluate, EvaluationOut, FileComplaint, ProgressOut

router = APIRouter(prefix="/v1", tags=["public"])

# A board polls every few seconds; a shared cache may answer a whole hall's screens for that long.
BOARD_CACHE = "public, max-age=10"


@router.get(
    "/public/progress/{case_number}",
    summary="Public progress of a case (case number and query code); a kiosk page for Accept: text/html",
    description="办理进度查询（办件编号 + 查询码；Accept: text/html 时为大厅查询机、打印用页面）",
    response_model=ProgressOut,
    responses={
        200: {"content": {"text/html": {}}},
        **problems(docs.PUBLIC_NOT_FOUND, 422),
        **rate_limited_responses(),
    },
    dependencies=[PublicAttempts],
)
async def progress(
    case_number: StoredText,
    request: Request,
    uow: UowDep,
    query_code: Annotated[StoredText, Query(min_length=1, max_length=16, description="查询码")],
) -> Any:
    async with uow:
        found = presenters.progress_out(*await queries.public_progress(uow.session, case_number, query_code))
    return html(presenters.progress_html(found)) if wants_html(request) else found


@router.get(
    "/public/boards/{org}",
    summary="A hall's progress board: cases of a service point and the points below it, nothing personal",
    description="大厅办件进度公示：本服务场所及下级代办点受理的在办件（按环节计数）和近期办结件；不含申请人信息，办件编号部分隐去",
    response_model=BoardOut,
    responses={**problems(docs.BOARD_NOT_FOUND, 422), **rate_limited_responses()},
    # An unknown code is a failed attempt: walking the codes is limited like walking case numbers.
    dependencies=[PublicAttempts, Depends(only_params("limit", "concluded_days"))],
)
async def hall_board_of(
    response: Response,
    uow: UowDep,
    context: ContextDep,
    org: Annotated[str, Path(description="服务场所的12位区划代码", pattern=ORG_CODE_PATTERN)],
    limit: Annotated[
        int, Query(ge=1, le=board.MAX_LIMIT, description="在办件、近期办结件各最多列出的件数")
    ] = board.DEFAULT_LIMIT,
    concluded_days: Annotated[
        int, Query(ge=1, le=board.MAX_CONCLUDED_DAYS, description="近期办结：送达后保留的天数")
    ] = board.DEFAULT_CONCLUDED_DAYS,
) -> BoardOut:
    since = clock.now() - timedelta(days=concluded_days)
    async with uow:
        shown = presenters_board.board_out(
            await hall_board(uow.session, org, hosts=context.hosts, since=since, limit=limit)
        )
    response.headers["Cache-Control"] = BOARD_CACHE
    return shown


@router.post(
    "/public/evaluations",
    status_code=201,
    summary="Evaluate a case once, after handover",
    description="好差评：送达后每件评价一次",
    response_model=EvaluationOut,
    responses={
        **problems(
            docs.PUBLIC_NOT_FOUND,
            docs.ALREADY_EVALUATED,
            docs.KEY_REUSED,
            docs.NOT_HANDED_OVER,
            docs.UNKNOWN_SCORE,
        ),
        **rate_limited_responses(),
    },
    dependencies=[PublicAttempts],
)
async def evaluations(
    body: Evaluate, request: Request, uow: UowDep, context: ContextDep, key: OptionalIdempotencyKey = None
) -> Response:
    answer = answering(presenters.evaluation_out, presenters.evaluation_location)
    result = await evaluate(
        body,
        once=once(request, PUBLIC_ACTOR, key, body),
        answer=answer,
        calendar=context.calendar,
        uow=uow,
    )
    return answer.respond(result)


@router.post(
    "/complaints",
    status_code=201,
    summary="File a complaint (about a case, a window or a staff member)",
    description="投诉（办件、窗口或工作人员）",
    response_model=ComplaintOut,
    responses={**problems(401, docs.COMPLAINT_ORG, docs.KEY_REUSED, 422), **rate_limited_responses()},
    # Filed without a token, a complaint about a case proves itself with the query code.
    dependencies=[PublicAttempts],
)
async def complaints(
    body: FileComplaint,
    request: Request,
    principal: OptionalPrincipal,
    uow: UowDep,
    context: ContextDep,
    key: OptionalIdempotencyKey = None,
) -> Response:
    actor = principal.sub if principal is not None else PUBLIC_ACTOR
    answer = answering(presenters.complaint_out, presenters.complaint_location)
    result = await file_complaint(
        body,
        principal=principal,
        node=context.node,
        once=once(request, actor, key, body),
        answer=answer,
        uow=uow,
    )
    return answer.respond(result)
