"""Public routes (no token needed): progress by number and query code, evaluations, complaints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from daiban_common.auth import OptionalPrincipal
from daiban_common.deps import UowDep
from daiban_common.idempotency import OptionalIdempotencyKey, answering, once
from daiban_common.negotiation import wants_html
from daiban_common.ratelimit import PublicAttempts, rate_limited_responses
from daiban_contracts.text import StoredText
from daiban_intake import presenters
from daiban_intake.api import problem_docs as docs
from daiban_intake.api.http import html, problems
from daiban_intake.context import ContextDep
from daiban_intake.handlers.feedback import PUBLIC_ACTOR, evaluate, file_complaint
from daiban_intake.queries import cases as queries
from daiban_intake.schemas import ComplaintOut, Evaluate, EvaluationOut, FileComplaint, ProgressOut

router = APIRouter(prefix="/v1", tags=["public"])


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
