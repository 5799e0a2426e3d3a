"""`/v1/items`: search and read (public), drafts, publishing, delegation, retirement (county admin)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response

from daiban_catalogue import presenters, queries
from daiban_catalogue.api.http import CatalogueRoute, CountyAdmin, json_body, parse_org
from daiban_catalogue.api.problem_docs import problems
from daiban_catalogue.commands import CreateDraft, DelegateItem, EditDraft, PublishDraft, RetireItem
from daiban_catalogue.context import ContextDep
from daiban_catalogue.handlers import items as handlers
from daiban_catalogue.queries import ItemFilter
from daiban_catalogue.schemas import (
    DelegateIn,
    DiffOut,
    DraftOut,
    ItemDraftBody,
    ItemOut,
    PublishIn,
    RetireIn,
    VersionSummary,
    wire_patch,
)
from daiban_common.deps import UowDep
from daiban_common.errors import InvalidInput
from daiban_common.idempotency import IdempotencyKey, once
from daiban_common.negotiation import conditional
from daiban_common.pagination import Page, PageParamsDep
from daiban_common.strict import Instant
from daiban_common.text import ensure_storable
from daiban_contracts.catalogue import (
    DEPARTMENT_CODE_PATTERN,
    IMPLEMENTATION_CODE_PATTERN,
    HandlingLevel,
    ItemKind,
    ItemStatus,
    ItemType,
)
from daiban_contracts.text import StoredText

_INT32 = 2**31 - 1
Code = Annotated[
    str,
    Path(
        pattern=IMPLEMENTATION_CODE_PATTERN,
        description="Implementation code, e.g. QR-00101-001-370285000000-01",
        examples=["QR-00101-001-370285000000-01"],
    ),
]
VersionNo = Annotated[int, Path(ge=1, le=_INT32, description="Version number, from 1")]

router = APIRouter(prefix="/v1/items", tags=["items"], route_class=CatalogueRoute)


@router.get(
    "",
    summary="Search the catalogue (Chinese, pinyin, initials, keywords) and filter it",
    response_model=Page[ItemOut],
    responses=problems(304, 422),
)
async def search_items(
    request: Request,
    uow: UowDep,
    page: PageParamsDep,
    q: Annotated[StoredText | None, Query(max_length=100, examples=["sfz"])] = None,
    kind: ItemKind | None = None,
    type: ItemType | None = None,
    handling_level: HandlingLevel | None = None,
    acceptable_at: Annotated[
        str | None, Query(description="12-digit org code where the citizen applies")
    ] = None,
    department: Annotated[str | None, Query(pattern=DEPARTMENT_CODE_PATTERN)] = None,
    online: bool | None = None,
    status: Annotated[
        ItemStatus | None, Query(description="Default: published; with updated_since: both")
    ] = None,
    updated_since: Annotated[
        Instant | None, Query(description="For replicas: versions recorded after this time")
    ] = None,
) -> Response:
    if updated_since is not None:
        try:
            updated_since = updated_since.astimezone(UTC)
        except OverflowError:
            raise InvalidInput.field("updated_since", "时间超出范围") from None
    f = ItemFilter(
        q=q,
        kind=kind,
        type=type,
        handling_level=handling_level,
        acceptable_at=parse_org(acceptable_at, "acceptable_at") if acceptable_at else None,
        department=department,
        online=online,
        status=status,
        updated_since=updated_since,
    )
    return conditional(request, json_body(presenters.item_page(await queries.search_items(uow, f, page))))


@router.get(
    "/{item_code}",
    summary="The current version of an item",
    response_model=ItemOut,
    responses=problems(304, 404, 422),
)
async def get_item(request: Request, item_code: Code, uow: UowDep) -> Response:
    shown = await queries.current_item(uow, item_code)
    return conditional(request, json_body(presenters.item_out(shown.version, shown.department_names)))


@router.get(
    "/{item_code}/versions",
    summary="An item's published versions, oldest first",
    response_model=Page[VersionSummary],
    responses=problems(304, 404, 422),
)
async def list_versions(request: Request, item_code: Code, uow: UowDep, page: PageParamsDep) -> Response:
    return conditional(
        request, json_body(presenters.version_page(await queries.item_versions(uow, item_code, page)))
    )


@router.get(
    "/{item_code}/versions/{version}",
    summary="One published version, as cases accepted under it keep it",
    response_model=ItemOut,
    responses=problems(304, 404, 422),
)
async def get_version(request: Request, item_code: Code, version: VersionNo, uow: UowDep) -> Response:
    shown = await queries.item_version(uow, item_code, version)
    return conditional(request, json_body(presenters.item_out(shown.version, shown.department_names)))


@router.patch(
    "/{item_code}/versions/{version}",
    summary="Published versions cannot be edited (always 409; edit the draft and publish)",
    responses=problems(401, 403, 404, 409, 422),
)
async def edit_version(item_code: Code, version: VersionNo, admin: CountyAdmin, uow: UowDep) -> None:
    await handlers.edit_version(item_code, version, uow)


@router.get(
    "/{item_code}/diff",
    summary="Field-by-field changes between two versions",
    response_model=DiffOut,
    responses=problems(304, 404, 422),
)
async def diff_versions(
    request: Request,
    item_code: Code,
    uow: UowDep,
    start: Annotated[int | None, Query(alias="from", ge=1, le=_INT32)] = None,
    end: Annotated[int | None, Query(alias="to", ge=1, le=_INT32)] = None,
) -> Response:
    pair = await queries.version_pair(uow, item_code, start, end)
    return conditional(request, json_body(presenters.diff_out(*pair)))


@router.post(
    "",
    status_code=201,
    summary="Create an item as a draft",
    response_model=DraftOut,
    responses=problems(401, 403, 409, 413, 422),
)
async def create_item(
    request: Request,
    body: ItemDraftBody,
    admin: CountyAdmin,
    uow: UowDep,
    context: ContextDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    command = CreateDraft(
        draft=body.draft(), actor=admin.sub, once=once(request, admin.sub, idempotency_key, body)
    )
    return presenters.DRAFT_CREATED.respond(
        await handlers.create_draft(command, uow, context, presenters.DRAFT_CREATED)
    )


@router.get(
    "/{item_code}/draft",
    summary="The draft being edited and how it differs from the current version",
    response_model=DraftOut,
    responses=problems(401, 403, 404, 422),
)
async def get_draft(item_code: Code, admin: CountyAdmin, uow: UowDep) -> DraftOut:
    return presenters.draft_out(await queries.get_draft(uow, item_code))


@router.patch(
    "/{item_code}",
    summary="Edit the draft (JSON merge patch, RFC 7396); publish to make it a version",
    response_model=DraftOut,
    responses=problems(401, 403, 404, 413, 422),
)
async def edit_draft(
    item_code: Code,
    admin: CountyAdmin,
    uow: UowDep,
    context: ContextDep,
    patch: Annotated[dict[str, Any], Body(examples=[{"promised_working_days": 5}])],
) -> DraftOut:
    ensure_storable(patch)
    command = EditDraft(code=item_code, patch=wire_patch(patch), actor=admin.sub)
    return presenters.draft_out(await handlers.edit_draft(command, uow, context))


@router.post(
    "/{item_code}/publish",
    status_code=201,
    summary="Publish the draft as the next immutable version (emits item_published)",
    response_model=ItemOut,
    responses=problems(401, 403, 404, 409, 422),
)
async def publish_item(
    request: Request,
    item_code: Code,
    admin: CountyAdmin,
    uow: UowDep,
    context: ContextDep,
    idempotency_key: IdempotencyKey,
    body: PublishIn | None = None,
) -> Response:
    body = body or PublishIn()
    command = PublishDraft(
        code=item_code,
        effective_date=body.effective_date,
        note=body.note,
        actor=admin.sub,
        once=once(request, admin.sub, idempotency_key, body),
    )
    return presenters.VERSION_CREATED.respond(
        await handlers.publish_draft(command, uow, context, presenters.VERSION_CREATED)
    )


@router.post(
    "/{item_code}/delegate",
    status_code=201,
    summary="Move the handling level down (delegate) or back up (recall) as a new version",
    description="下放或收回办理层级，形成新版本",
    response_model=ItemOut,
    responses=problems(401, 403, 404, 409, 422),
)
async def delegate_item(
    request: Request,
    item_code: Code,
    body: DelegateIn,
    admin: CountyAdmin,
    uow: UowDep,
    context: ContextDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    command = DelegateItem(
        code=item_code,
        to_level=body.to_level,
        departments=body.departments,
        reason=body.reason,
        effective_date=body.effective_date,
        kind=body.kind,
        deciding_authority=body.deciding_authority,
        actor=admin.sub,
        once=once(request, admin.sub, idempotency_key, body),
    )
    return presenters.VERSION_CREATED.respond(
        await handlers.delegate_item(command, uow, context, presenters.VERSION_CREATED)
    )


@router.post(
    "/{item_code}/retire",
    status_code=201,
    summary="Retire the item as a new version; accepted cases keep theirs",
    response_model=ItemOut,
    responses=problems(401, 403, 404, 409, 422),
)
async def retire_item(
    request: Request,
    item_code: Code,
    body: RetireIn,
    admin: CountyAdmin,
    uow: UowDep,
    context: ContextDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    command = RetireItem(
        code=item_code,
        reason=body.reason,
        effective_date=body.effective_date,
        actor=admin.sub,
        once=once(request, admin.sub, idempotency_key, body),
    )
    return presenters.VERSION_CREATED.respond(
        await handlers.retire_item(command, uow, context, presenters.VERSION_CREATED)
    )
