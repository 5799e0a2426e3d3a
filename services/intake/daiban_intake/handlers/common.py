"""Small pieces every handler uses: numbers, stages, staff records, replays."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Table, bindparam, exists, insert, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal
from daiban_common.idempotency import Answer, Once, claim, claiming, settling
from daiban_common.uow import OUTBOX_COLUMNS, Prepared, UnitOfWork, outbox_rows
from daiban_contracts.case import StaffRef
from daiban_intake.domain.progress import Stage
from daiban_intake.models import SCHEMA, Case, CaseStage, Counter, messaging

_COUNTERS: Final[Table] = Counter.__table__  # type: ignore[attr-defined]
_CASES: Final[Table] = Case.__table__  # type: ignore[attr-defined]
_STAGES: Final[Table] = CaseStage.__table__  # type: ignore[attr-defined]
_CLAIMED: Final = claiming(SCHEMA).cte("claimed")
# Fixed SQL run on the driver (daiban_common.uow.Prepared): SQLAlchemy's execution of it cost more
# than the statement. The Idempotency-Key claimed and, only if it was (a new request), the day's
# next number taken: one round trip for what were two.
_NUMBERING: Final = Prepared(
    pg_insert(_COUNTERS)
    .from_select(
        ["kind", "org", "day", "last"],
        select(
            bindparam("kind", type_=_COUNTERS.c.kind.type),
            bindparam("org", type_=_COUNTERS.c.org.type),
            bindparam("day", type_=_COUNTERS.c.day.type),
            bindparam("first", type_=_COUNTERS.c.last.type),
        ).where(exists(select(_CLAIMED.c.status_code))),
    )
    .on_conflict_do_update(
        index_elements=[_COUNTERS.c.kind, _COUNTERS.c.org, _COUNTERS.c.day],
        set_={"last": _COUNTERS.c.last + 1},
    )
    .returning(_COUNTERS.c.last)
    .add_cte(_CLAIMED)
)


async def claim_number(
    uow: UnitOfWork, once: Once, kind: str, org: str, day: date, *, first: int = 1
) -> Answer | int:
    """The stored answer if `once` was made before (idempotency.claim), else the next number of
    `kind` for `org` on `day`, from `first` on; the row lock serialises concurrent windows."""
    claimed = await claim(uow, once, _NUMBERING, {"kind": kind, "org": org, "day": day, "first": first})
    return claimed if isinstance(claimed, Answer) else int(claimed.row[0])


def stage_row(stage: Stage, org: str, at: datetime, note: str = "") -> dict[str, Any]:
    """A stage of a new case for `insert_case` (the columns `add_stage` fills, less the case)."""
    return {"stage": stage.value, "org": org, "at": at, "note": note}


_STAGE_COLUMNS: Final = ("stage", "org", "at", "note")
# Every column but the one the database fills (updated_at: each node writes its own clock). A
# column with a server default for older rows (conditions_met) is still given by acceptance.
_CASE_COLUMNS: Final = [c for c in _CASES.c if c.name != "updated_at"]


@functools.cache
def _opening(stages: int) -> Prepared:
    """Acceptance's last statement, built and compiled once with named parameters, run on the driver:
    the case, its `stages` stages, the answer in the idempotency record (claimed first) and the
    unit's outbox rows.

    `WITH opened AS (INSERT INTO cases ...), kept AS (UPDATE idempotency ...), queued AS
    (INSERT INTO outbox ... FROM unnest(...)) INSERT INTO case_stages ...`: one round trip for what
    were three (and the outbox's own at commit).
    """
    opened = insert(_CASES).values({c: bindparam(c.name, type_=c.type) for c in _CASE_COLUMNS}).cte("opened")
    kept = settling(SCHEMA).cte("kept")
    outbox = messaging.outbox
    queued = insert(outbox).from_select(OUTBOX_COLUMNS, outbox_rows(outbox)).cte("queued")
    # Rows as SELECTs of parameters: a multi-row VALUES is a statement SQLAlchemy does not cache.
    columns = ("case_number", *_STAGE_COLUMNS)
    rows = [
        select(
            bindparam("number", type_=_STAGES.c.case_number.type),
            *(bindparam(f"stage{i}_{name}", type_=_STAGES.c[name].type) for name in _STAGE_COLUMNS),
        )
        for i in range(stages)
    ]
    return Prepared(
        insert(_STAGES)
        .from_select(columns, union_all(*rows) if stages > 1 else rows[0])
        .add_cte(opened, kept, queued)
    )


async def insert_case(
    uow: UnitOfWork, case: dict[str, Any], stages: list[dict[str, Any]], *, answered: dict[str, Any]
) -> None:
    """Insert a new case (every column given, None for none), its first stages, the idempotency
    record's answer `answered` (idempotency.kept) and the events emitted so far, in one statement.

    The stages' foreign key is checked at the end of the statement, when the case row is there.
    """
    params = {c.name: case.get(c.name) for c in _CASE_COLUMNS} | answered | uow.take_outbox()
    for i, stage in enumerate(stages):
        params |= {f"stage{i}_{name}": stage[name] for name in _STAGE_COLUMNS}
    await uow.execute(_opening(len(stages)), params)


def add_stage(
    session: AsyncSession, case: Case, stage: Stage, org: str, at: datetime, note: str = ""
) -> None:
    session.add(CaseStage(case_number=case.number, stage=stage.value, org=org, at=at, note=note))


def staff_ref(principal: Principal) -> StaffRef:
    return StaffRef(staff_id=principal.sub, name=principal.name, org=principal.org)


def staff_record(principal: Principal) -> dict[str, Any]:
    return staff_ref(principal).model_dump(mode="json")
