"""Routes for staff: acceptance, cases of the caller's subtree, receipts, notices, supplements, handover,
complaints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from daiban_common import clock
from daiban_common.auth import CurrentPrincipal
from daiban_common.deps import UowDep
from daiban_common.idempotency import (
    PROBLEM_JSON,
    Answer,
    Answering,
    IdempotencyKey,
    answering,
    answering_ok,
    once,
)
from daiban_common.negotiation import wants_html
from daiban_common.pagination import Page, PageParamsDep
from daiban_common.query_params import only_params
from daiban_common.strict import Day
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_contracts.text import StoredText
from daiban_intake import presenters
from daiban_intake.api import problem_docs as docs
from daiban_intake.api.http import Acceptor, Supervisor, html, problems
from daiban_intake.api.links import PrintAccessDep
from daiban_intake.context import ContextDep
from daiban_intake.domain.links import LinkSigner
from daiban_intake.domain.progress import CaseStatus
from daiban_intake.handlers.acceptance import Acceptance, NoticeIssued, accept_application
from daiban_intake.handlers.aftercare import hand_over, supply_materials
from daiban_intake.handlers.feedback import Filed
from daiban_intake.queries import cases as queries
from daiban_intake.queries import feedback
from daiban_intake.queries.orgs import org_names
from daiban_intake.schemas import (
    AcceptanceOut,
    AcceptApplication,
    CaseListItem,
    CaseOut,
    ComplaintOut,
    HandOver,
    HandoverOut,
    NoticeOut,
    ReceiptOut,
    SupplementOut,
    SupplyMaterials,
)

_HTML: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}

router = APIRouter(prefix="/v1", tags=["staff"])


def _one_time_notice(result: NoticeIssued, instance: str, links: LinkSigner) -> dict[str, Any]:
    """The 422 problem+json of a notice: each issue as a field error, and the notice itself to print
    (its `conditional` lists the conditional materials not claimed, which are not errors)."""
    number = result.notice.number
    detail = f"材料不齐全或不符合要求，共{len(result.issues)}项，请按一次性告知书一次补齐后再来办理"
    if result.reminders:
        detail += f"；另有{len(result.reminders)}项材料视情形提交，详见告知书"
    return {
        "type": docs.NOTICE_TYPE,
        "title": "One-time notice",
        "status": 422,
        "detail": detail,
        "instance": instance,
        "errors": [
            {"field": field, "message": f"{issue.material_name}：{issue.note or '未提交'}"}
            for issue, field in zip(result.issues, result.fields, strict=True)
        ],
        "notice_number": number,
        "notice": presenters.notice_out(result.notice, result.names).model_dump(mode="json"),
        "notice_url": links.sign(presenters.notice_page(number), now=clock.now().timestamp()),
    }


def _acceptance_answer(instance: str, links: LinkSigner) -> Answering[Acceptance]:
    """201 with the receipt, or the 422 one-time notice; each with a signed link to its page."""

    def answer(result: Acceptance) -> Answer:
        if isinstance(result, NoticeIssued):
            return Answer(422, _one_time_notice(result, instance, links), PROBLEM_JSON)
        receipt_url = links.sign(presenters.receipt_page(result.case.number), now=clock.now().timestamp())
        body = presenters.acceptance_out(result.case, result.names, receipt_url).model_dump(mode="json")
        return Answer(201, body, headers={"Location": presenters.acceptance_location(result.case)})

    return Answering(answer)


@router.post(
    "/applications",
    status_code=201,
    summary="Accept an application: a receipt if the materials are complete, else a one-time notice",
    description="受理申请：材料齐全则立案并出具回执，否则一次性告知",
    response_model=AcceptanceOut,
    responses=problems(
        401,
        403,
        docs.NOT_IN_DIRECTORY,
        docs.ORG_OUTSIDE,
        docs.KEY_REUSED,
        docs.ONE_TIME_NOTICE,
        docs.INVALID_ID,
    ),
)
async def accept(
    body: AcceptApplication,
    request: Request,
    principal: Acceptor,
    key: IdempotencyKey,
    uow: UowDep,
    context: ContextDep,
) -> Response:
    answer = _acceptance_answer(instance=request.url.path, links=context.links)
    result = await accept_application(
        body,
        principal=principal,
        point=context.acceptance,
        once=once(request, principal.sub, key, body),
        answer=answer,
        uow=uow,
    )
    return answer.respond(result)


@router.get(
    "/cases",
    summary="List cases in the caller's subtree",
    description="本辖区办件列表",
    responses=problems(401, 422),
    dependencies=[Depends(only_params("org", "status", "item_code", "from", "to", "limit", "cursor"))],
)
async def list_cases(
    principal: CurrentPrincipal,
    page: PageParamsDep,
    uow: UowDep,
    org: Annotated[str | None, Query(pattern=ORG_CODE_PATTERN)] = None,
    status: CaseStatus | None = None,
    item_code: Annotated[StoredText | None, Query(max_length=40)] = None,
    from_: Annotated[Day | None, Query(alias="from", description="受理日期起（含）")] = None,
    to: Annotated[Day | None, Query(description="受理日期止（含）")] = None,
) -> Page[CaseListItem]:
    filters = queries.CaseFilter(
        org=org, status=status, item_code=item_code, accepted_from=from_, accepted_to=to
    )
    async with uow:
        rows, next_cursor = await queries.list_cases(uow.session, principal, filters, page)
        names = await org_names(uow.session, [code for c in rows for code in (c.org, c.holding_org)])
        return Page(items=[presenters.case_list_item(c, names) for c in rows], next_cursor=next_cursor)


@router.get(
    "/cases/{case_number}",
    summary="A case",
    description="办件详情",
    response_model=CaseOut,
    responses=problems(401, docs.CASE_NOT_FOUND),
)
async def get_case(case_number: StoredText, principal: CurrentPrincipal, uow: UowDep) -> CaseOut:
    async with uow:
        return presenters.case_out(*await queries.case_detail(uow.session, principal, case_number))


@router.get(
    "/cases/{case_number}/receipt.html",
    summary="The acceptance receipt, printable (a token, or the signed link of the acceptance answer)",
    description="受理回执（打印；身份令牌或受理答复中的签名链接）",
    response_class=Response,
    responses={**_HTML, **problems(401, docs.LINK_REFUSED, docs.CASE_NOT_FOUND)},
)
async def receipt_page(case_number: StoredText, access: PrintAccessDep, uow: UowDep) -> Response:
    reader = access.reader(presenters.receipt_page(case_number))
    async with uow:
        case, names = await queries.receipt(uow.session, case_number, reader)
        return html(presenters.receipt_html(presenters.receipt_out(case, names)))


@router.get(
    "/cases/{case_number}/receipt",
    summary="The acceptance receipt (JSON, or the printable page with Accept: text/html)",
    description="受理回执（JSON；Accept: text/html 时为打印页）",
    response_model=ReceiptOut,
    responses={**_HTML, **problems(401, docs.CASE_NOT_FOUND)},
)
async def receipt(case_number: StoredText, request: Request, principal: CurrentPrincipal, uow: UowDep) -> Any:
    async with uow:
        found = presenters.receipt_out(*await queries.receipt(uow.session, case_number, principal))
    return html(presenters.receipt_html(found)) if wants_html(request) else found


@router.get(
    "/notices/{notice_number}.html",
    summary="The one-time notice, printable (a token, or the signed link of the notice answer)",
    description="一次性告知书（打印；身份令牌或告知答复中的签名链接）",
    response_class=Response,
    responses={**_HTML, **problems(401, docs.LINK_REFUSED, docs.NOTICE_NOT_FOUND)},
)
async def notice_page(notice_number: StoredText, access: PrintAccessDep, uow: UowDep) -> Response:
    reader = access.reader(presenters.notice_page(notice_number))
    async with uow:
        return html(
            presenters.notice_html(
                presenters.notice_out(*await queries.notice(uow.session, reader, notice_number))
            )
        )


@router.get(
    "/notices/{notice_number}",
    summary="The one-time notice",
    description="一次性告知书",
    response_model=NoticeOut,
    responses={**_HTML, **problems(401, docs.NOTICE_NOT_FOUND)},
)
async def notice(
    notice_number: StoredText, request: Request, principal: CurrentPrincipal, uow: UowDep
) -> Any:
    async with uow:
        found = presenters.notice_out(*await queries.notice(uow.session, principal, notice_number))
    return html(presenters.notice_html(found)) if wants_html(request) else found


@router.post(
    "/cases/{case_number}/supplements",
    status_code=201,
    summary="Supply requested or deferred materials",
    description="补正材料或补交容缺材料",
    response_model=SupplementOut,
    responses=problems(
        401,
        403,
        docs.NOT_IN_DIRECTORY,
        docs.CASE_NOT_FOUND,
        docs.NOT_WAITING,
        docs.KEY_REUSED,
        docs.SUPPLEMENT_INCOMPLETE,
    ),
)
async def supplements(
    case_number: StoredText,
    body: SupplyMaterials,
    request: Request,
    principal: Acceptor,
    key: IdempotencyKey,
    uow: UowDep,
) -> Response:
    answer = answering(presenters.supplement_out, presenters.supplement_location)
    result = await supply_materials(
        case_number,
        body,
        principal=principal,
        once=once(request, principal.sub, key, body),
        answer=answer,
        uow=uow,
    )
    return answer.respond(result)


@router.post(
    "/cases/{case_number}/handover",
    summary="Hand over the result (in person with identity check, or by mail)",
    description="送达办理结果（当面核验身份或邮寄）",
    response_model=HandoverOut,
    responses=problems(
        401,
        403,
        docs.NOT_IN_DIRECTORY,
        docs.CASE_NOT_FOUND,
        docs.NOT_READY,
        docs.KEY_REUSED,
        docs.IDENTITY_REQUIRED,
    ),
)
async def handover(
    case_number: StoredText,
    body: HandOver,
    request: Request,
    principal: Acceptor,
    key: IdempotencyKey,
    uow: UowDep,
) -> Response:
    answer = answering_ok(presenters.handover_out)
    result = await hand_over(
        case_number,
        body,
        principal=principal,
        once=once(request, principal.sub, key, body),
        answer=answer,
        uow=uow,
    )
    return answer.respond(result)


@router.get(
    "/complaints/{complaint_id}",
    summary="A complaint (supervisors, admins)",
    description="投诉详情（监察人员、管理员）",
    response_model=ComplaintOut,
    responses=problems(401, 403, docs.COMPLAINT_NOT_FOUND),
)
async def get_complaint(complaint_id: StoredText, principal: Supervisor, uow: UowDep) -> ComplaintOut:
    async with uow:
        complaint = await feedback.complaint(uow.session, principal, complaint_id)
        return presenters.complaint_out(Filed(complaint, await org_names(uow.session, [complaint.org])))
