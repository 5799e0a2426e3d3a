"""Routes of the audit log: its entries, the verification of its chain, and its checkpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from daiban_audit import queries
from daiban_audit.api import problem_docs as docs
from daiban_audit.api.params import OrgQuery, Reader, instant_range, org_param
from daiban_audit.context import ContextDep
from daiban_audit.domain.checkpoints import CheckpointRefused, supplied_anchors
from daiban_audit.presenters import own_checkpoint_out, verify_out
from daiban_audit.schemas import CheckpointOut, EntryOut, VerifyAgainst, VerifyOut
from daiban_common.auth import ensure_within
from daiban_common.deps import UowDep
from daiban_common.errors import InvalidInput
from daiban_common.openapi import problem_responses
from daiban_common.pagination import Page, PageParamsDep
from daiban_common.query_params import only_params
from daiban_contracts.audit import CheckpointSigned
from daiban_contracts.integers import PositiveSafeInt
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_contracts.text import StoredText

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/audit/entries",
    summary="Log entries by case, actor, org unit, type and time",
    responses=problem_responses(docs.OUTSIDE_SUBTREE, docs.UNKNOWN_PARAMETER),
    dependencies=[Depends(only_params("subject", "actor", "org", "type", "from", "to", "limit", "cursor"))],
)
async def list_entries(
    principal: Reader,
    uow: UowDep,
    page: PageParamsDep,
    subject: Annotated[
        StoredText | None,
        Query(max_length=64, description="The entries' subject: a case number, an item code, ..."),
    ] = None,
    actor: Annotated[StoredText | None, Query(max_length=128)] = None,
    org: OrgQuery = None,
    type: Annotated[
        StoredText | None, Query(max_length=128, description="e.g. daiban.case.accepted.v1")
    ] = None,
    since: Annotated[str | None, Query(alias="from", description="Date or RFC 3339 time, inclusive")] = None,
    until: Annotated[str | None, Query(alias="to", description="Date (inclusive) or RFC 3339 time")] = None,
) -> Page[EntryOut]:
    scope = org_param(org)
    if scope is not None:
        ensure_within(principal, scope)
    start, stop = instant_range(since, until)
    filters = queries.EntryFilter(
        scope_org=principal.org, subject=subject, actor=actor, org=scope, type=type, since=start, until=stop
    )
    async with uow:
        rows, next_cursor = await queries.list_entries(uow, filters, page)
        names = await queries.org_names(uow, {row.org for row in rows})
        # Inside the unit of work: leaving it rolls back, which expires the rows.
        items = [
            EntryOut.model_validate(row).model_copy(update={"org_name": names.get(row.org)}) for row in rows
        ]
    return Page(items=items, next_cursor=next_cursor)


def _seq_range(from_seq: int, to_seq: int | None) -> None:
    if to_seq is not None and to_seq < from_seq:
        raise InvalidInput.field("to_seq", "结束序号不能小于起始序号")


@router.get(
    "/audit/verify",
    summary="Verify the hash chain against its own checkpoints",
    responses=problem_responses(docs.OUTSIDE_SUBTREE, docs.SEQUENCE_RANGE),
    dependencies=[Depends(only_params("from_seq", "to_seq"))],
)
async def verify(
    principal: Reader,
    ctx: ContextDep,
    uow: UowDep,
    from_seq: Annotated[PositiveSafeInt, Query()] = 1,
    to_seq: Annotated[PositiveSafeInt | None, Query()] = None,
) -> VerifyOut:
    ensure_within(principal, ctx.node_org)
    _seq_range(from_seq, to_seq)
    async with uow:
        verdict, tail = await queries.verify_chain(uow, from_seq=from_seq, to_seq=to_seq)
    return verify_out(verdict, tail)


@router.post(
    "/audit/verify",
    summary="Verify the hash chain against checkpoints held elsewhere (e.g. by the parent node)",
    responses=problem_responses(docs.OUTSIDE_SUBTREE, docs.CHECKPOINT_REFUSED, docs.SEQUENCE_RANGE),
    dependencies=[Depends(only_params())],
)
async def verify_against(principal: Reader, ctx: ContextDep, uow: UowDep, body: VerifyAgainst) -> VerifyOut:
    ensure_within(principal, ctx.node_org)
    _seq_range(body.from_seq, body.to_seq)
    try:
        anchors = supplied_anchors(
            (CheckpointSigned(**checkpoint.model_dump()) for checkpoint in body.checkpoints),
            node_org=ctx.node_org.value,
            public_key=ctx.signer.public_key,
        )
    except CheckpointRefused as refused:
        raise InvalidInput.field(f"checkpoints[{refused.index}]", refused.reason) from None
    async with uow:
        verdict, tail = await queries.verify_chain(
            uow, from_seq=body.from_seq, to_seq=body.to_seq, extra_anchors=anchors
        )
    return verify_out(verdict, tail)


@router.get(
    "/audit/checkpoints",
    summary="Checkpoints this node signed, or (with node=) those it holds for a child node",
    responses=problem_responses(docs.OUTSIDE_SUBTREE, 422),
    description=(
        "Without `node`: the checkpoints this node signed and sent to its parent (its local copies). "
        "With `node`: the checkpoints this node keeps for that child node (or for itself, when it "
        "stands in for a parent that runs no node)."
    ),
    dependencies=[Depends(only_params("node", "limit", "cursor"))],
)
async def list_checkpoints(
    principal: Reader,
    ctx: ContextDep,
    uow: UowDep,
    page: PageParamsDep,
    node: Annotated[
        str | None,
        Query(
            description="12-digit org of a child node",
            pattern=ORG_CODE_PATTERN,
        ),
    ] = None,
) -> Page[CheckpointOut]:
    child = org_param(node, "node")
    async with uow:
        if child is None:
            ensure_within(principal, ctx.node_org)
            own, next_cursor = await queries.list_own_checkpoints(uow, page)
            items = [own_checkpoint_out(cp, node_org=ctx.node_org.value, node=ctx.node) for cp in own]
        else:
            ensure_within(principal, child)
            held, next_cursor = await queries.list_held_checkpoints(uow, child, page)
            items = [CheckpointOut.model_validate(cp) for cp in held]
    return Page(items=items, next_cursor=next_cursor)
