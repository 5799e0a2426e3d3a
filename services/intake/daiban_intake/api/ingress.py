"""The door over HTTP: a township system that cannot speak NATS posts a batch of CloudEvents."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from daiban_common.auth import bearer_token
from daiban_common.consumer import Subscription
from daiban_common.deps import RuntimeDep, UowDep
from daiban_common.errors import InvalidInput, PayloadTooLarge, Problem, Unauthorized
from daiban_common.openapi import ProblemDoc
from daiban_intake.api.http import problems
from daiban_intake.context import ContextDep
from daiban_intake.domain.ingress import MAX_BATCH, Door
from daiban_intake.handlers.ingress import INGRESS, push_batch
from daiban_intake.handlers.systems import door_by_token
from daiban_intake.schemas_door import PushResults

router = APIRouter(prefix="/v1/ingress", tags=["systems"])

BATCH_MEDIA_TYPES = ("application/cloudevents-batch+json", "application/json")

_EXAMPLE_EVENT = {
    "specversion": "1.0",
    "id": "01938a7e-5b1c-7d3e-9f00-2b4c6d8e0a11",
    "type": "daiban.case.supplemented.v1",
    "source": "/systems/jiangshan-hall",
    "subject": "370285101294-20261201-0001",
    "time": "2026-12-03T09:12:00+08:00",
    "org": "370285101294",
    "datacontenttype": "application/json",
    "data": {
        "case_number": "370285101294-20261201-0001",
        "accepting_org": "370285101294",
        "material_codes": ["M02"],
        "supplemented_at": "2026-12-03T09:10:00+08:00",
        "recorded_by": {"staff_id": "hall-0031", "name": "许春花", "org": "370285101294"},
    },
}
_BODY = {
    "required": True,
    "content": {
        media: {
            "schema": {"type": "array", "maxItems": MAX_BATCH, "items": {"type": "object"}},
            "example": [_EXAMPLE_EVENT],
        }
        for media in BATCH_MEDIA_TYPES
    },
}
_NO_TOKEN = ProblemDoc(401, "缺少系统令牌，或令牌无效、已停用", detail="系统令牌无效或已停用")
_TOO_MANY = ProblemDoc(413, f"一批超过{MAX_BATCH}个事件", detail=f"一批最多{MAX_BATCH}个事件，请分批推送")
_NOT_BATCH = ProblemDoc(
    422, "请求体不是JSON数组", errors=[("body", "请求体须是CloudEvents结构化事件的JSON数组")]
)
_MEDIA = ProblemDoc(
    415,
    "内容类型不是application/cloudevents-batch+json或application/json",
    detail="内容类型须为application/cloudevents-batch+json或application/json",
    type="/problems/unsupported-media-type",
    title="Unsupported media type",
)


async def _door(request: Request, uow: UowDep) -> Door:
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthorized("缺少系统令牌：请求头应为“Authorization: Bearer 令牌”")
    async with uow:
        door = await door_by_token(uow.session, bearer_token(header))
    if door is None:
        raise Unauthorized("系统令牌无效或已停用")
    return door


SystemDoor = Annotated[Door, Depends(_door)]


async def _events(request: Request) -> list[Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in BATCH_MEDIA_TYPES:
        raise Problem(
            "内容类型须为application/cloudevents-batch+json或application/json",
            status=415,
            type="/problems/unsupported-media-type",
            title="Unsupported media type",
        )
    try:
        events = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        events = None
    if not isinstance(events, list):
        raise InvalidInput.field("body", "请求体须是CloudEvents结构化事件的JSON数组")
    if len(events) > MAX_BATCH:
        raise PayloadTooLarge(f"一批最多{MAX_BATCH}个事件，请分批推送")
    return events


@router.post(
    "/events",
    summary="Push a batch of events (CloudEvents structured JSON); one result per event, in order",
    description=(
        "外部系统推送事件（CloudEvents结构化JSON数组，至多100个），逐个答复："
        "accepted（已受理）、duplicate（同一事件id已处理，未作改动）、refused（拒收，附原因和出错字段）"
    ),
    response_model=PushResults,
    openapi_extra={"requestBody": _BODY},
    responses=problems(_NO_TOKEN, _TOO_MANY, _MEDIA, _NOT_BATCH),
)
async def push(request: Request, door: SystemDoor, runtime: RuntimeDep, context: ContextDep) -> PushResults:
    events = await _events(request)
    results = await push_batch(
        events,
        door,
        context=context,
        uow_factory=runtime.uow,
        consumer=runtime.durable_name(Subscription(name=INGRESS)),
    )
    return PushResults(results=results)
