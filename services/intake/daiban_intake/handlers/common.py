"""Small pieces every handler uses: sequences, stages, staff records, replays."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal
from daiban_contracts.case import StaffRef
from daiban_intake.domain.progress import Stage
from daiban_intake.models import Case, CaseStage, Counter


async def next_sequence(session: AsyncSession, kind: str, org: str, day: date, *, first: int = 1) -> int:
    """The next number of `kind` for `org` on `day`, from `first` on; the row lock serialises
    concurrent windows."""
    stmt = (
        pg_insert(Counter)
        .values(kind=kind, org=org, day=day, last=first)
        .on_conflict_do_update(
            index_elements=[col(Counter.kind), col(Counter.org), col(Counter.day)],
            set_={"last": col(Counter.last) + 1},
        )
        .returning(col(Counter.last))
    )
    result = await session.exec(stmt)
    return int(result.scalar_one())


def add_stage(
    session: AsyncSession, case: Case, stage: Stage, org: str, at: datetime, note: str = ""
) -> None:
    session.add(CaseStage(case_number=case.number, stage=stage.value, org=org, at=at, note=note))


def staff_ref(principal: Principal) -> StaffRef:
    return StaffRef(staff_id=principal.sub, name=principal.name, org=principal.org)


def staff_record(principal: Principal) -> dict[str, Any]:
    return staff_ref(principal).model_dump(mode="json")
