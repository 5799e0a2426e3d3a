"""Statistics projections, moved by the events themselves (see domain/stats.py for the rules).

Each handler runs in the stats consumer's unit of work, so a counter moves exactly once per event.
A case's earlier facts (where it was accepted, its item kind, the department it went to) are kept
in `case_facts`, because later events name the case but not all of that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import text

from daiban_audit.context import AuditContext
from daiban_audit.domain.stats import (
    Attribution,
    CounterKey,
    Metric,
    acceptance_increments,
    conclusion_increments,
    counter_deltas,
    evaluation_metric,
)
from daiban_audit.models import SCHEMA, CaseFact, StatCounter
from daiban_common.calendar import to_shanghai_date
from daiban_common.uow import Prepared, UnitOfWork
from daiban_contracts.case import (
    CaseAccepted,
    CaseEvaluated,
    CaseSummary,
    ComplaintFiled,
    OneTimeNoticeIssued,
    RectificationOpened,
)
from daiban_contracts.envelope import Envelope
from daiban_contracts.routing import CaseAssigned, CaseDecided, CaseForwarded, SupplementRequested

# One statement text whatever the number of counters (the keys as arrays), prepared once per
# connection and run on the driver (daiban_common.uow.Prepared). Sorted rows: counters are locked
# in one order by every transaction.
_BUMP: Final = Prepared(
    text(
        f"INSERT INTO {SCHEMA}.{StatCounter.__tablename__} (org, dimension, day, key, metric, value) "
        "SELECT * FROM unnest(CAST(:orgs AS varchar[]), CAST(:dimensions AS varchar[]), "
        "CAST(:days AS date[]), CAST(:keys AS varchar[]), CAST(:metrics AS varchar[]), "
        "CAST(:deltas AS bigint[])) "
        "ON CONFLICT (org, dimension, day, key, metric) "
        f"DO UPDATE SET value = {StatCounter.__tablename__}.value + excluded.value"
    )
)


class _Counts:
    """What the events of a unit of work add to the counters, summed per counter and written in
    one statement at commit (UnitOfWork.at_commit): the consumer applies a fetch in one unit, and
    nothing in it reads a counter."""

    __slots__ = ("deltas",)

    def __init__(self) -> None:
        self.deltas: dict[CounterKey, int] = {}

    async def write(self, uow: UnitOfWork) -> None:
        rows = sorted(self.deltas.items())
        if rows:
            await uow.execute(_BUMP, bump_params(rows))


def bump_params(rows: Sequence[tuple[CounterKey, int]]) -> dict[str, list[Any]]:
    """`_BUMP`'s parameters for `rows`, one array per column."""
    return {
        "orgs": [key.org for key, _ in rows],
        "dimensions": [key.dimension.value for key, _ in rows],
        "days": [key.day for key, _ in rows],
        "keys": [key.key for key, _ in rows],
        "metrics": [key.metric.value for key, _ in rows],
        "deltas": [value for _, value in rows],
    }


def bump(uow: UnitOfWork, attribution: Attribution, increments: Mapping[Metric, int]) -> None:
    """Add to the counters `attribution` and `increments` move (written at commit)."""
    counter_deltas(attribution, increments, into=uow.at_commit(_Counts, _Counts).deltas)


async def remember_case(uow: UnitOfWork, case: CaseSummary) -> CaseFact:
    fact = await uow.session.get(CaseFact, case.case_number)
    if fact is None:
        fact = CaseFact(
            case_number=case.case_number,
            accepting_org=case.accepting_org,
            item_code=case.item.implementation_code,
            kind=case.item.kind.value,
            channel=case.channel.value,
            department=case.item.lead_department,
            first_responder=case.first_responder.staff_id,
            accepted_at=case.accepted_at,
            promised_date=case.promised_date,
        )
        uow.session.add(fact)
    return fact


def _day(ts: datetime) -> date:
    return to_shanghai_date(ts)


def _at_case(day: date, org: str, fact: CaseFact | None, staff: str | None) -> Attribution:
    """Counted at the case's department and window, where its earlier facts are known; they are
    the desk of the unit the case was assigned in (facts from before that was kept: the deciding
    unit's, else `org`'s)."""
    if fact is None:
        return Attribution(day, org, staff=staff)
    desk = fact.window_org or fact.deciding_org
    return Attribution(day, org, fact.department, fact.window, staff, desk_org=desk)


async def on_accepted(ctx: AuditContext, envelope: Envelope, payload: CaseAccepted, uow: UnitOfWork) -> None:
    case = payload.case
    fact = await remember_case(uow, case)
    bump(
        uow,
        Attribution(
            _day(case.accepted_at),
            case.accepting_org,
            case.item.lead_department,
            None,
            case.first_responder.staff_id,
        ),
        acceptance_increments(
            kind=case.item.kind, channel=case.channel, with_deficiencies=bool(case.deficiencies)
        ),
    )
    spot = payload.on_the_spot
    if spot is not None and fact.concluded_at is None:
        day = _day(case.accepted_at)
        bump(
            uow,
            Attribution(day, case.accepting_org, case.item.lead_department, None, spot.decided_by.staff_id),
            conclusion_increments(
                outcome=spot.outcome,
                on_time=True,
                decided_on=day,
                due_date=case.promised_date,
                accepted_on=day,
                on_the_spot=True,
                calendar=ctx.calendar,
            ),
        )
        fact.concluded_at, fact.deciding_org = case.accepted_at, case.accepting_org
        uow.session.add(fact)


async def on_forwarded(envelope: Envelope, payload: CaseForwarded, uow: UnitOfWork) -> None:
    # A case accepted at another node first reaches this one forwarded: learn its facts here.
    await remember_case(uow, payload.case)


async def on_assigned(envelope: Envelope, payload: CaseAssigned, uow: UnitOfWork) -> None:
    fact = await uow.session.get(CaseFact, payload.case_number)
    if fact is not None:
        fact.department, fact.window, fact.window_org = payload.department, payload.window, payload.org
        uow.session.add(fact)


async def on_notice(envelope: Envelope, payload: OneTimeNoticeIssued, uow: UnitOfWork) -> None:
    bump(
        uow,
        Attribution(_day(payload.issued_at), payload.org, staff=payload.issued_by.staff_id),
        {Metric.one_time_notices: 1},
    )


async def on_supplement_requested(envelope: Envelope, payload: SupplementRequested, uow: UnitOfWork) -> None:
    fact = await uow.session.get(CaseFact, payload.case_number)
    bump(
        uow,
        _at_case(_day(payload.requested_at), payload.org, fact, payload.requested_by.staff_id),
        {Metric.supplements_requested: 1},
    )


async def on_decided(ctx: AuditContext, envelope: Envelope, payload: CaseDecided, uow: UnitOfWork) -> None:
    fact = await uow.session.get(CaseFact, payload.case_number)
    if fact is not None and fact.concluded_at is not None:
        return  # concluded on the spot, or decided before: a case concludes once
    day = _day(payload.decided_at)
    bump(
        uow,
        _at_case(day, payload.org, fact, payload.decided_by.staff_id),
        conclusion_increments(
            outcome=payload.outcome,
            on_time=payload.on_time,
            decided_on=day,
            due_date=payload.due_date,
            accepted_on=_day(fact.accepted_at) if fact else None,
            on_the_spot=False,
            calendar=ctx.calendar,
        ),
    )
    if fact is not None:
        fact.concluded_at, fact.deciding_org = payload.decided_at, payload.org
        uow.session.add(fact)


async def on_evaluated(envelope: Envelope, payload: CaseEvaluated, uow: UnitOfWork) -> None:
    fact = await uow.session.get(CaseFact, payload.case_number)
    bump(
        uow,
        _at_case(
            _day(payload.evaluated_at), payload.accepting_org, fact, fact.first_responder if fact else None
        ),
        {evaluation_metric(payload.level): 1},
    )


async def on_complaint(envelope: Envelope, payload: ComplaintFiled, uow: UnitOfWork) -> None:
    bump(uow, Attribution(_day(payload.filed_at), payload.org), {Metric.complaints: 1})


async def on_rectification(envelope: Envelope, payload: RectificationOpened, uow: UnitOfWork) -> None:
    bump(uow, Attribution(_day(payload.opened_at), payload.org), {Metric.rectifications: 1})
