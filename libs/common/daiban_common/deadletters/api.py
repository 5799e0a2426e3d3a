"""`/v1/dead-letters` on every service: list, show, replay, discard (supervisors and admins, in
their subtree). The routes translate HTTP into the commands and nothing more."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import Row

from daiban_common.auth import Principal, Role, ensure_within, require_roles
from daiban_common.calendar import SHANGHAI
from daiban_common.deadletters import commands, store
from daiban_common.deadletters.commands import ReplayResult
from daiban_common.deadletters.rules import Status
from daiban_common.deadletters.schemas import (
    DeadLetterDetail,
    DeadLetterOut,
    DiscardIn,
    ReplayIn,
    ReplayOut,
    dead_letter_detail,
    dead_letter_out,
    replay_out,
)
from daiban_common.deps import RuntimeDep, UowDep
from daiban_common.errors import InvalidInput
from daiban_common.idempotency import KEY_REUSED, Answer, Answering, IdempotencyKey, once
from daiban_common.openapi import ProblemDoc, problem_responses
from daiban_common.pagination import Page, PageParamsDep
from daiban_common.query_params import only_params
from daiban_common.strict import DayOrInstant
from daiban_contracts.integers import PositiveSafeInt
from daiban_contracts.orgcodes import ORG_CODE_PATTERN, OrgCode
from daiban_contracts.text import StoredText

Settler = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]
DeadLetterId = Annotated[PositiveSafeInt, Path(description="The dead letter's id")]

NOT_FOUND = ProblemDoc(
    404, "No such dead letter in the caller's subtree", detail="死信不存在，或不在您的辖区内"
)
SETTLED = ProblemDoc(
    409,
    "The dead letter was replayed or discarded already",
    detail="该死信已重放，不能再次处理",
    type="/problems/dead-letter-settled",
    title="Dead letter already settled",
)
REPLAY_FAILED = ProblemDoc(
    409,
    "The event failed again; the attempt is recorded and the dead letter stays open",
    detail="重放失败，事件仍未生效：本节点没有办件370285101294-20261206-0001",
    type="/problems/dead-letter-replay-failed",
    title="The replayed event failed again",
    extensions={"reason": "本节点没有办件370285101294-20261206-0001", "replay_attempts": 1},
)
CONSUMER_GONE = ProblemDoc(
    409,
    "The consumer that parked it no longer exists in this release",
    detail="本服务已没有消费者n370285000000-intake-old，无法重放；如该事件无需处理，请丢弃并说明理由",
    type="/problems/dead-letter-consumer-gone",
    title="The consumer of the dead letter no longer exists",
)

router = APIRouter(prefix="/v1/dead-letters", tags=["dead-letters"])


def _instant(value: date | datetime | None, *, end: bool) -> datetime | None:
    """A date is its whole day in Asia/Shanghai (`to` included); an instant is itself."""
    if value is None or isinstance(value, datetime):
        return value
    start = datetime.combine(value, time.min, tzinfo=SHANGHAI)
    return start + timedelta(days=1) if end else start


@router.get(
    "",
    summary="Dead letters in the caller's subtree, newest first",
    description="死信列表：本服务的消费者无法处理而搁置的事件（监察人员、管理员）",
    responses=problem_responses(NOT_FOUND, 422),
    dependencies=[Depends(only_params("status", "type", "consumer", "org", "from", "to", "limit", "cursor"))],
)
async def list_dead_letters(
    principal: Settler,
    runtime: RuntimeDep,
    uow: UowDep,
    page: PageParamsDep,
    status: Status | None = None,
    type: Annotated[
        StoredText | None, Query(max_length=128, description="e.g. daiban.case.decided.v1")
    ] = None,
    consumer: Annotated[StoredText | None, Query(max_length=120, description="The durable consumer")] = None,
    org: Annotated[str | None, Query(pattern=ORG_CODE_PATTERN, description="This unit and below")] = None,
    since: Annotated[DayOrInstant | None, Query(alias="from", description="Parked at or after")] = None,
    until: Annotated[
        DayOrInstant | None, Query(alias="to", description="Parked before (a date: that day included)")
    ] = None,
) -> Page[DeadLetterOut]:
    unit = OrgCode.parse(org) if org is not None else None
    if unit is not None:
        ensure_within(principal, unit)
    start, stop = _instant(since, end=False), _instant(until, end=True)
    if start is not None and stop is not None and stop <= start:
        raise InvalidInput.field("to", "结束时间不能早于开始时间")
    filters = store.DeadLetterFilter(
        status=status.value if status else None,
        type=type,
        consumer=consumer,
        org=unit,
        since=start,
        until=stop,
    )
    async with uow:
        conn = await uow.session.connection()
        rows, next_cursor = await store.page_of(
            conn, runtime.tables.dead_letters, commands.scope_of(runtime, principal), filters, page
        )
    return Page(items=[dead_letter_out(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/{dead_letter_id}",
    summary="One dead letter, with the message as received",
    description="死信详情，含收到的原始消息",
    responses=problem_responses(NOT_FOUND),
)
async def show_dead_letter(
    dead_letter_id: DeadLetterId, principal: Settler, runtime: RuntimeDep, uow: UowDep
) -> DeadLetterDetail:
    async with uow:
        conn = await uow.session.connection()
        row = await store.one(
            conn, runtime.tables.dead_letters, dead_letter_id, commands.scope_of(runtime, principal)
        )
    if row is None:
        raise commands.not_found()
    return dead_letter_detail(row)


REPLAYED: Answering[ReplayResult] = Answering(
    lambda result: Answer(200, replay_out(result.outcome, result.row).model_dump(mode="json"))
)
DISCARDED: Answering[Row[Any]] = Answering(
    lambda row: Answer(200, dead_letter_out(row).model_dump(mode="json"))
)


@router.post(
    "/{dead_letter_id}/replay",
    summary="Run the parked event through its consumer again, as parked or corrected",
    description=(
        "重放死信：以原事件（或更正后的数据、事件）再次交由原消费者处理，与其收件记录同一事务，"
        "至多生效一次。答复 applied（已生效）或 duplicate（此前已生效）；再次失败时答复 409 及原因。"
    ),
    response_model=ReplayOut,
    responses=problem_responses(NOT_FOUND, SETTLED, REPLAY_FAILED, CONSUMER_GONE, KEY_REUSED, 422),
)
async def replay_dead_letter(
    dead_letter_id: DeadLetterId,
    request: Request,
    principal: Settler,
    key: IdempotencyKey,
    runtime: RuntimeDep,
    uow: UowDep,
    body: ReplayIn | None = None,
) -> Response:
    correction = body or ReplayIn()
    keyed = once(request, principal.sub, key, correction)
    result = await commands.replay(runtime, uow, principal, dead_letter_id, correction, keyed, REPLAYED)
    return REPLAYED.respond(result)


@router.post(
    "/{dead_letter_id}/discard",
    summary="Discard the parked event, saying why",
    description="丢弃死信：确认该事件无需再处理，须用中文说明理由",
    response_model=DeadLetterOut,
    responses=problem_responses(NOT_FOUND, SETTLED, KEY_REUSED, 422),
)
async def discard_dead_letter(
    dead_letter_id: DeadLetterId,
    body: DiscardIn,
    request: Request,
    principal: Settler,
    key: IdempotencyKey,
    runtime: RuntimeDep,
    uow: UowDep,
) -> Response:
    keyed = once(request, principal.sub, key, body)
    result = await commands.discard(runtime, uow, principal, dead_letter_id, body.reason, keyed, DISCARDED)
    return DISCARDED.respond(result)
