"""Small pieces every handler uses: sequences, finding a case the caller may see, stages."""

from __future__ import annotations

import hmac
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, can_see
from daiban_common.errors import NotFound
from daiban_contracts.case import StaffRef
from daiban_intake.domain.numbers import is_case_number, normalise_query_code
from daiban_intake.domain.progress import Stage
from daiban_intake.models import Case, CaseStage, Counter

CASE_NOT_FOUND = "办件不存在"
# The same answer for an unknown number and a wrong code, so neither can be probed.
PUBLIC_NOT_FOUND = "未找到该办件，请核对办件编号和查询码"


async def next_sequence(session: AsyncSession, kind: str, org: str, day: date) -> int:
    """The next number of `kind` for `org` on `day`; the row lock serialises concurrent windows."""
    stmt = (
        pg_insert(Counter)
        .values(kind=kind, org=org, day=day, last=1)
        .on_conflict_do_update(
            index_elements=[col(Counter.kind), col(Counter.org), col(Counter.day)],
            set_={"last": col(Counter.last) + 1},
        )
        .returning(col(Counter.last))
    )
    result = await session.exec(stmt)
    return int(result.scalar_one())


async def _case(session: AsyncSession, number: str, *, lock: bool) -> Case | None:
    if not is_case_number(number):
        return None
    stmt = select(Case).where(Case.number == number)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def visible_case(
    session: AsyncSession, number: str, principal: Principal, *, lock: bool = False
) -> Case:
    """The case if it lies in the caller's org subtree; 404 otherwise, as if it did not exist."""
    case = await _case(session, number, lock=lock)
    if case is None or not can_see(principal, case.org):
        raise NotFound(CASE_NOT_FOUND)
    return case


async def public_case(session: AsyncSession, number: str, query_code: str, *, lock: bool = False) -> Case:
    case = await _case(session, number, lock=lock)
    if case is None or not hmac.compare_digest(
        case.query_code.encode(), normalise_query_code(query_code).encode()
    ):
        raise NotFound(PUBLIC_NOT_FOUND)
    return case


def add_stage(
    session: AsyncSession, case: Case, stage: Stage, org: str, at: datetime, note: str = ""
) -> None:
    session.add(CaseStage(case_number=case.number, stage=stage.value, org=org, at=at, note=note))


def staff_ref(principal: Principal) -> StaffRef:
    return StaffRef(staff_id=principal.sub, name=principal.name, org=principal.org)


def staff_record(principal: Principal) -> dict[str, Any]:
    return staff_ref(principal).model_dump(mode="json")


async def stages_of(session: AsyncSession, case: Case) -> list[CaseStage]:
    stmt = select(CaseStage).where(CaseStage.case_number == case.number).order_by(col(CaseStage.id))
    return list((await session.exec(stmt)).all())
