"""Keeping each case current from routing's events (and supervision's flags)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import bindparam, insert, select, update

from daiban_common.consumer import Handler, PermanentFailure
from daiban_common.uow import Prepared, UnitOfWork
from daiban_contracts.envelope import Envelope, EventData
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_intake.domain.progress import CaseStatus, is_news, next_status
from daiban_intake.domain.routing_events import case_of, progress_of
from daiban_intake.models import Case, CaseStage

_CLEARED = "supervision_flag_cleared"
# Columns an event may set on the case; anything else in `updates` is a programming error.
_UPDATABLE = frozenset(
    {
        "outcome",
        "result",
        "reasons",
        "legal_basis",
        "deciding_org",
        "decided_at",
        "pending_supplement",
        "due_date_provisional",
        "supervision_flag",
    }
)


def progress_handler(hosts: Callable[[OrgCode], bool]) -> Handler[EventData]:
    """A consumer handler applying routing's events to the cases accepted at org units `hosts` admits
    (this node's subtree, less the org units that run a node of their own). The progress copies
    are addressed to the node hosting the accepting org, so another node's case here is a
    misrouted copy: parked with the reason, never silently dropped."""

    async def apply(envelope: Envelope, payload: EventData, uow: UnitOfWork) -> None:
        number, accepting_org = case_of(payload)
        try:
            accepted_here = hosts(OrgCode.parse(accepting_org))
        except InvalidOrgCode as exc:
            raise PermanentFailure(f"受理单位代码无效：{exc}") from None
        if not accepted_here:
            raise PermanentFailure(f"办件{number}由{accepting_org}所在的节点受理，不属于本节点")
        # Prepared statements on the driver (daiban_common.uow.Prepared): the two columns the
        # decision needs rather than the whole case as an ORM object, and the change in one
        # statement, compiled once per shape of change rather than built and compiled per event.
        row = await uow.fetchrow(_CURRENT, {"number": number})
        if row is None:
            raise PermanentFailure(f"本节点没有办件{number}")
        progress = progress_of(payload, event_time=envelope.time)
        current = CaseStatus(row["status"])
        if not is_news(current, progress):
            return
        values: dict[str, Any] = {"status": next_status(current, progress).value}
        if progress.holding_org is not None:
            values["holding_org"] = progress.holding_org
        if progress.due_date is not None:
            values["due_date"] = progress.due_date
        for column, value in progress.updates.items():
            if column == _CLEARED:
                if values.get("supervision_flag", row["supervision_flag"]) == value:
                    values["supervision_flag"] = None
            elif column in _UPDATABLE:
                values[column] = value
            else:
                raise AssertionError(f"unexpected update of {column}")
        params = {f"new_{column}": value for column, value in values.items()}
        params["of_case"] = number
        if progress.stage is not None:
            params.update(
                stage_case_number=number,
                stage_stage=progress.stage.value,
                stage_org=progress.org,
                stage_at=progress.at,
                stage_note=progress.note,
            )
        await uow.execute(change_of(tuple(sorted(values)), staged=progress.stage is not None), params)

    return apply


_CASES = Case.__table__  # type: ignore[attr-defined]
_STAGES = CaseStage.__table__  # type: ignore[attr-defined]
_CURRENT: Final = Prepared(
    select(_CASES.c.status, _CASES.c.supervision_flag)
    .where(_CASES.c.number == bindparam("number"))
    .with_for_update()
)

_STAGE_COLUMNS: Final = ("case_number", "stage", "org", "at", "note")


@functools.cache
def change_of(columns: tuple[str, ...], *, staged: bool) -> Prepared:
    """The update of `columns` of a case (parameters `new_<column>`, `of_case`), with its stage
    (`stage_<column>`) when `staged`. Events give a few dozen shapes at most: each compiled once.
    Parameters are not named after columns: an UPDATE would take such a parameter as a column to SET."""
    change = (
        update(_CASES)
        .where(_CASES.c.number == bindparam("of_case"))
        .values({column: bindparam(f"new_{column}", type_=_CASES.c[column].type) for column in columns})
    )
    if staged:
        stage = insert(_STAGES).values(
            {column: bindparam(f"stage_{column}", type_=_STAGES.c[column].type) for column in _STAGE_COLUMNS}
        )
        change = change.add_cte(stage.cte("stage"))
    return Prepared(change)

