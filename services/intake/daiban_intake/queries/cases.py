"""Reads: each scoped to the caller's org subtree in SQL (staff), opened by a query code (public), or by
a signed link (printable pages; the route checks the signature). What people read comes with the
names of the org units it mentions (`OrgNames`)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, can_see, subtree_clause
from daiban_common.calendar import SHANGHAI
from daiban_common.errors import InvalidInput, NotFound
from daiban_common.pagination import PageParams, after_clause, paginate
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_intake.domain.numbers import is_case_number, is_notice_number, normalise_query_code
from daiban_intake.domain.progress import CaseStatus
from daiban_intake.models import Case, CaseStage, OneTimeNotice
from daiban_intake.queries.orgs import org_names

CASE_NOT_FOUND = "办件不存在"
# The same answer for an unknown number and a wrong code, so neither can be probed.
PUBLIC_NOT_FOUND = "未找到该办件，请核对办件编号和查询码"
NOTICE_NOT_FOUND = "一次性告知书不存在"

# Org code -> name, for the codes a read mentions.
OrgNames = dict[str, str]


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


async def stages_of(session: AsyncSession, case: Case) -> list[CaseStage]:
    stmt = select(CaseStage).where(CaseStage.case_number == case.number).order_by(col(CaseStage.id))
    return list((await session.exec(stmt)).all())


@dataclass(frozen=True)
class CaseFilter:
    org: str | None = None
    status: CaseStatus | None = None
    item_code: str | None = None
    accepted_from: date | None = None
    accepted_to: date | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


async def list_cases(
    session: AsyncSession, principal: Principal, filters: CaseFilter, page: PageParams
) -> tuple[list[Case], str | None]:
    """A page of cases and the cursor of the next; newest first; `from`/`to` are acceptance dates
    in Shanghai, both included."""
    stmt = select(Case).where(subtree_clause(col(Case.org), principal.org))
    if filters.org is not None:
        try:
            stmt = stmt.where(subtree_clause(col(Case.org), OrgCode.parse(filters.org)))
        except InvalidOrgCode as exc:
            raise InvalidInput.field("org", str(exc)) from None
    if filters.status is not None:
        stmt = stmt.where(Case.status == filters.status.value)
    if filters.item_code is not None:
        stmt = stmt.where(Case.item_code == filters.item_code)
    if filters.accepted_from is not None:
        stmt = stmt.where(col(Case.accepted_at) >= _start_of(filters.accepted_from))
    if filters.accepted_to is not None:
        stmt = stmt.where(col(Case.accepted_at) < _start_of(filters.accepted_to + timedelta(days=1)))
    after = page.key(datetime, str)
    if after is not None:
        stmt = stmt.where(after_clause([col(Case.accepted_at), col(Case.number)], after, descending=True))
    stmt = stmt.order_by(col(Case.accepted_at).desc(), col(Case.number).desc()).limit(page.limit + 1)
    return paginate(list((await session.exec(stmt)).all()), page, key=lambda c: (c.accepted_at, c.number))


def case_orgs(case: Case, stages: Sequence[CaseStage] = ()) -> Iterable[str | None]:
    """Every org code a case's answers show."""
    return [case.org, case.holding_org, case.deciding_org, case.first_responder.get("org")] + [
        s.org for s in stages
    ]


async def case_detail(
    session: AsyncSession, principal: Principal, number: str
) -> tuple[Case, list[CaseStage], OrgNames]:
    case = await visible_case(session, number, principal)
    stages = await stages_of(session, case)
    return case, stages, await org_names(session, case_orgs(case, stages))


async def public_progress(
    session: AsyncSession, number: str, query_code: str
) -> tuple[Case, list[CaseStage], OrgNames]:
    case = await public_case(session, number, query_code)
    stages = await stages_of(session, case)
    return case, stages, await org_names(session, case_orgs(case, stages))


async def receipt(session: AsyncSession, number: str, principal: Principal | None) -> tuple[Case, OrgNames]:
    """The case of a receipt: within the caller's subtree, or (`None`: a signed link) any case."""
    if principal is not None:
        case = await visible_case(session, number, principal)
    elif (found := await _case(session, number, lock=False)) is not None:
        case = found
    else:
        raise NotFound(CASE_NOT_FOUND)
    return case, await org_names(session, case_orgs(case))


async def notice(
    session: AsyncSession, principal: Principal | None, number: str
) -> tuple[OneTimeNotice, OrgNames]:
    """A notice within the caller's subtree, or (`None`: a signed link) any notice."""
    found = await session.get(OneTimeNotice, number) if is_notice_number(number) else None
    if found is None or (principal is not None and not can_see(principal, found.org)):
        raise NotFound(NOTICE_NOT_FOUND)
    return found, await org_names(session, [found.org, found.issued_by.get("org")])
