"""Keeping each case current from routing's events (and supervision's flags)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, NamedTuple

from sqlalchemy import ARRAY, String, any_, bindparam, case, exists, insert, null, select, update

from daiban_common.consumer import Handler, PermanentFailure
from daiban_common.uow import Prepared, UnitOfWork
from daiban_contracts.envelope import Envelope, EventData
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_intake.domain.progress import CaseStatus, Progress, is_news, next_status
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
        statement, params = _change(number, progress_of(payload, event_time=envelope.time))
        if not await uow.fetchval(statement, params):
            raise PermanentFailure(f"本节点没有办件{number}")

    return apply


def _change(number: str, progress: Progress) -> tuple[Prepared, dict[str, Any]]:
    """The statement applying `progress` to case `number` (change_of) and its parameters."""
    values: dict[str, Any] = {}
    if progress.holding_org is not None:
        values["holding_org"] = progress.holding_org
    if progress.due_date is not None:
        values["due_date"] = progress.due_date
    cleared = None
    for column, value in progress.updates.items():
        if column == _CLEARED:
            cleared = value
        elif column in _UPDATABLE:
            values[column] = value
        else:
            raise AssertionError(f"unexpected update of {column}")
    if cleared is not None and "supervision_flag" in values:
        # Cleared against the flag this event sets, not the stored one.
        if values["supervision_flag"] == cleared:
            values["supervision_flag"] = None
        cleared = None
    params: dict[str, Any] = {f"new_{column}": value for column, value in values.items()}
    params["of_case"] = number
    if progress.status is not None:
        params["news"], params["forward"] = _decision(progress)
        params["new_status"] = progress.status.value
    if cleared is not None:
        params["cleared"] = cleared
    if progress.stage is not None:
        params.update(
            stage_case_number=number,
            stage_stage=progress.stage.value,
            stage_org=progress.org,
            stage_at=progress.at,
            stage_note=progress.note,
        )
    shape = _Shape(
        tuple(sorted(values)), progress.status is not None, cleared is not None, progress.stage is not None
    )
    return change_of(shape), params


# The domain's decision (is_news, next_status) for every status a case may be in, so that the
# statement takes it on the row it locks and needs no read before. Both read only the progress's
# status and strictly_forward: one entry per pair.
_DECISIONS: dict[tuple[CaseStatus, bool], tuple[list[str], list[str]]] = {}


def _decision(progress: Progress) -> tuple[list[str], list[str]]:
    """The statuses `progress` is news for, and those it moves the case forward from."""
    assert progress.status is not None
    key = (progress.status, progress.strictly_forward)
    found = _DECISIONS.get(key)
    if found is None:
        found = _DECISIONS[key] = (
            [status.value for status in CaseStatus if is_news(status, progress)],
            [status.value for status in CaseStatus if next_status(status, progress) != status],
        )
    return found


_CASES = Case.__table__  # type: ignore[attr-defined]
_STAGES = CaseStage.__table__  # type: ignore[attr-defined]
_STAGE_COLUMNS: Final = ("case_number", "stage", "org", "at", "note")
_STATUSES: Final = ARRAY(_CASES.c.status.type)


class _Shape(NamedTuple):
    columns: tuple[str, ...]  # set as given (parameters `new_<column>`)
    status: bool  # moved to `new_status` from the statuses in `forward`, only from those in `news`
    cleared: bool  # the supervision flag cleared when it is `cleared`
    staged: bool  # a stage written (parameters `stage_<column>`) when the case changed


@functools.cache
def change_of(shape: _Shape) -> Prepared:
    """One statement for one event: the case changed when the event is news for its status, with
    its stage; it returns whether the case exists. The UPDATE locks the row and, under READ
    COMMITTED, checks `news` again on the latest version of a row changed concurrently, as the
    `SELECT ... FOR UPDATE` before did. Events give a few dozen shapes at most: each compiled once.
    Parameters are not named after columns: an UPDATE would take such a parameter as a column to SET."""
    cases = _CASES
    sets: dict[str, Any] = {
        column: bindparam(f"new_{column}", type_=cases.c[column].type) for column in shape.columns
    }
    change = update(cases).where(cases.c.number == bindparam("of_case"))
    if shape.status:
        sets["status"] = case(
            (
                cases.c.status == any_(bindparam("forward", type_=_STATUSES)),
                bindparam("new_status", type_=String),
            ),
            else_=cases.c.status,
        )
        change = change.where(cases.c.status == any_(bindparam("news", type_=_STATUSES)))
    if shape.cleared:
        flag = cases.c.supervision_flag
        sets["supervision_flag"] = case((flag == bindparam("cleared", type_=flag.type), null()), else_=flag)
    changed = change.values(sets).returning(cases.c.number).cte("changed")
    found = select(exists().where(cases.c.number == bindparam("of_case"))).add_cte(changed)
    if shape.staged:
        row = select(
            *(bindparam(f"stage_{column}", type_=_STAGES.c[column].type) for column in _STAGE_COLUMNS)
        ).select_from(changed)
        found = found.add_cte(insert(_STAGES).from_select(_STAGE_COLUMNS, row).cte("stage"))
    return Prepared(found)
