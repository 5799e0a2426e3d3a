"""Routes of the audit service: HTTP in, queries out. No rules here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from daiban_audit import problem_docs as docs
from daiban_audit import queries
from daiban_audit.context import audit_context
from daiban_audit.domain.chain import Anchor
from daiban_audit.domain.checkpoints import supplied_checkpoint_refusal
from daiban_audit.domain.stats import Dimension, ReportPeriod, period_bounds
from daiban_audit.params import day_range, instant_range, only_params, org_param
from daiban_audit.render import csv_response, html_response, wants
from daiban_audit.schemas import (
    CheckpointIn,
    CheckpointOut,
    EntryOut,
    GroupBy,
    ReportOut,
    StatsOut,
    VerifyAgainst,
    VerifyOut,
)
from daiban_common.auth import Principal, Role, ensure_within, require_roles
from daiban_common.deps import RuntimeDep, UowDep
from daiban_common.errors import InvalidInput
from daiban_common.openapi import problem_responses
from daiban_common.pagination import Page, PageParamsDep
from daiban_common.strict import Day
from daiban_contracts.audit import CheckpointSigned
from daiban_contracts.integers import PositiveSafeInt
from daiban_contracts.orgcodes import ORG_CODE_PATTERN
from daiban_contracts.text import StoredText

Reader = Annotated[Principal, Depends(require_roles(Role.auditor, Role.supervisor))]
StatsReader = Annotated[Principal, Depends(require_roles(Role.auditor, Role.supervisor, Role.admin))]
OrgQuery = Annotated[
    str | None,
    Query(
        description="12-digit org unit; defaults to the caller's",
        pattern=ORG_CODE_PATTERN,
    ),
]
_GROUP_LABELS = {
    "day": "按日",
    "department": "按部门",
    "window": "按窗口",
    "staff": "按人员",
    "org": "按区划单位",
}

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/audit/entries",
    summary="Log entries by case, actor, org unit, type and time",
    responses=problem_responses(docs.OUTSIDE_SUBTREE, docs.UNKNOWN_PARAMETER),
    dependencies=[Depends(only_params("case", "actor", "org", "type", "from", "to", "limit", "cursor"))],
)
async def list_entries(
    principal: Reader,
    uow: UowDep,
    page: PageParamsDep,
    case: Annotated[StoredText | None, Query(max_length=64, description="Case number or item code")] = None,
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
        scope_org=principal.org, case=case, actor=actor, org=scope, type=type, since=start, until=stop
    )
    async with uow:
        rows, next_cursor = await queries.list_entries(uow, filters, page)
        # Inside the unit of work: leaving it rolls back, which expires the rows.
        items = [EntryOut.model_validate(row) for row in rows]
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
    runtime: RuntimeDep,
    uow: UowDep,
    from_seq: Annotated[PositiveSafeInt, Query()] = 1,
    to_seq: Annotated[PositiveSafeInt | None, Query()] = None,
) -> VerifyOut:
    ensure_within(principal, runtime.settings.org)
    _seq_range(from_seq, to_seq)
    async with uow:
        verdict, tail = await queries.verify_chain(uow, from_seq=from_seq, to_seq=to_seq)
    return VerifyOut.of(verdict, tail)


def _anchors(checkpoints: list[CheckpointIn], node_org: str, public_key: str) -> list[Anchor]:
    anchors = []
    for index, checkpoint in enumerate(checkpoints):
        signed = CheckpointSigned(**checkpoint.model_dump())
        reason = supplied_checkpoint_refusal(signed, node_org=node_org, public_key=public_key)
        if reason is not None:
            raise InvalidInput.field(f"checkpoints[{index}]", reason)
        anchors.append(
            Anchor(
                signed.size, signed.head_hash, f"{signed.signed_at:%Y-%m-%d %H:%M:%S}签署、由上级保管的检查点"
            )
        )
    return anchors


@router.post(
    "/audit/verify",
    summary="Verify the hash chain against checkpoints held elsewhere (e.g. by the parent node)",
    responses=problem_responses(docs.OUTSIDE_SUBTREE, docs.CHECKPOINT_REFUSED, docs.SEQUENCE_RANGE),
    dependencies=[Depends(only_params())],
)
async def verify_against(
    principal: Reader, runtime: RuntimeDep, uow: UowDep, body: VerifyAgainst
) -> VerifyOut:
    ensure_within(principal, runtime.settings.org)
    _seq_range(body.from_seq, body.to_seq)
    ctx = audit_context(runtime)
    anchors = _anchors(body.checkpoints, ctx.node_org.value, ctx.signer.public_key)
    async with uow:
        verdict, tail = await queries.verify_chain(
            uow, from_seq=body.from_seq, to_seq=body.to_seq, extra_anchors=anchors
        )
    return VerifyOut.of(verdict, tail)


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
    runtime: RuntimeDep,
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
    ctx = audit_context(runtime)
    child = org_param(node, "node")
    async with uow:
        if child is None:
            ensure_within(principal, ctx.node_org)
            own, next_cursor = await queries.list_own_checkpoints(uow, page)
            items = [
                CheckpointOut(node_org=ctx.node_org.value, node=ctx.node, **cp.model_dump(exclude={"id"}))
                for cp in own
            ]
        else:
            ensure_within(principal, child)
            held, next_cursor = await queries.list_held_checkpoints(uow, child, page)
            items = [CheckpointOut.model_validate(cp) for cp in held]
    return Page(items=items, next_cursor=next_cursor)


Sections = list[tuple[str, list[dict[str, Any]]]]


def _document(accept: str | None, title: str, subtitle: str, sections: Sections) -> Response | None:
    """The CSV or HTML form when the caller asked for one; None for JSON."""
    form = wants(accept)
    if form == "csv":
        return csv_response(sections, "report.csv")
    if form == "html":
        return html_response(title, subtitle, sections)
    return None


@router.get(
    "/stats",
    summary="Statistics of an org unit's subtree over days, optionally grouped",
    response_model=StatsOut,
    responses={
        200: {"content": {"text/csv": {}, "text/html": {}}},
        **problem_responses(docs.OUTSIDE_SUBTREE, docs.DAY_RANGE),
    },
    dependencies=[Depends(only_params("org", "from", "to", "group_by"))],
)
async def stats(
    principal: StatsReader,
    uow: UowDep,
    org: OrgQuery = None,
    since: Annotated[Day | None, Query(alias="from", description="First day, YYYY-MM-DD")] = None,
    until: Annotated[Day | None, Query(alias="to", description="Last day (inclusive)")] = None,
    group_by: GroupBy | None = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response | StatsOut:
    unit = org_param(org) or principal.org
    ensure_within(principal, unit)
    start, stop = day_range(since, until)
    by_day = group_by is GroupBy.day
    dimension = None if group_by is None or by_day else Dimension(group_by.value)
    async with uow:
        found = await queries.statistics(
            uow, org=unit, since=start, until=stop, group_by=dimension, by_day=by_day
        )
    result = StatsOut(org=unit, from_=start, to=stop, group_by=group_by, **found)
    sections: Sections = [("合计", [found["totals"]])]
    if group_by is not None:
        sections.append((_GROUP_LABELS[group_by.value], found["groups"]))
    return _document(accept, f"{unit} 办件统计", f"{start} 至 {stop}", sections) or result


@router.get(
    "/reports/{period}",
    summary="Daily, weekly or monthly report of an org unit",
    response_model=ReportOut,
    responses={
        200: {"content": {"text/csv": {}, "text/html": {}}},
        **problem_responses(docs.OUTSIDE_SUBTREE, 422),
    },
    dependencies=[Depends(only_params("org", "date"))],
)
async def report(
    period: ReportPeriod,
    principal: StatsReader,
    uow: UowDep,
    org: OrgQuery = None,
    day: Annotated[
        Day | None, Query(alias="date", description="Any day of the period; today by default")
    ] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response | ReportOut:
    unit = org_param(org) or principal.org
    ensure_within(principal, unit)
    start, stop = period_bounds(period, day or day_range(None, None)[0])
    async with uow:
        by_org = await queries.statistics(
            uow, org=unit, since=start, until=stop, group_by=Dimension.org, by_day=False
        )
        by_department = await queries.statistics(
            uow, org=unit, since=start, until=stop, group_by=Dimension.department, by_day=False
        )
    result = ReportOut(
        period=period,
        period_label=period.label,
        org=unit,
        from_=start,
        to=stop,
        totals=by_org["totals"],
        by_org=by_org["groups"],
        by_department=by_department["groups"],
    )
    sections: Sections = [
        ("合计", [by_org["totals"]]),
        ("按区划单位", by_org["groups"]),
        ("按部门", by_department["groups"]),
    ]
    title = f"{unit} 政务服务{period.label}"
    return _document(accept, title, f"{start} 至 {stop}", sections) or result
