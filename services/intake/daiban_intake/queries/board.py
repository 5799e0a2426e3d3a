"""The hall board's read: the open and recently concluded cases accepted at a service point and
the points below it, as anyone may see them (no token). Whose point it is comes from intake's
replica of the directory; a unit this node does not act for is unknown here, as is a code the
directory lacks, so a board cannot be used to probe other nodes.

A case's last move is its latest stage; it is concluded at its handover stage (`updated_at` also
moves on evaluation, so it only narrows the search).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import subtree_clause
from daiban_common.errors import NotFound
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_intake.domain.board import CONCLUDED, OPEN
from daiban_intake.domain.progress import CaseStatus, Stage
from daiban_intake.models import Case, CaseStage
from daiban_intake.queries.orgs import org_names

BOARD_NOT_FOUND = "未找到该服务场所，或其办件不在本节点办理"


@dataclass(frozen=True)
class BoardCase:
    case: Case
    moved_at: datetime


@dataclass(frozen=True)
class Board:
    org: OrgCode
    counts: dict[CaseStatus, int]
    open: list[BoardCase]
    concluded_total: int
    concluded: list[BoardCase]
    since: datetime
    names: dict[str, str]


def _last_move(stage: Stage | None = None) -> Any:
    moves = select(func.max(CaseStage.at)).where(CaseStage.case_number == Case.number)
    if stage is not None:
        moves = moves.where(CaseStage.stage == stage.value)
    return moves.correlate(Case).scalar_subquery()


async def _point(session: AsyncSession, org: str, hosts: Callable[[OrgCode], bool]) -> OrgCode:
    try:
        code = OrgCode.parse(org)
    except InvalidOrgCode:
        raise NotFound(BOARD_NOT_FOUND) from None
    if not hosts(code) or not await org_names(session, [org]):
        raise NotFound(BOARD_NOT_FOUND)
    return code


async def hall_board(
    session: AsyncSession,
    org: str,
    *,
    hosts: Callable[[OrgCode], bool],
    since: datetime,
    limit: int,
) -> Board:
    """Counts of the open cases by status, the `limit` most recently moved of them, and the cases
    handed over since `since` (their count and the `limit` latest)."""
    point = await _point(session, org, hosts)
    within = subtree_clause(col(Case.org), point)
    open_statuses = [s.value for s in OPEN]
    counted = await session.exec(
        select(Case.status, func.count())
        .where(within, col(Case.status).in_(open_statuses))
        .group_by(Case.status)
    )
    counts = {CaseStatus(status): int(n) for status, n in counted.all()}

    moved = _last_move()
    open_rows = await session.exec(
        select(Case, moved)
        .where(within, col(Case.status).in_(open_statuses))
        .order_by(moved.desc().nulls_last(), col(Case.number).desc())
        .limit(limit)
    )
    opened = [BoardCase(case, at or case.accepted_at) for case, at in open_rows.all()]

    handed = _last_move(Stage.handed_over)
    recent = (
        within,
        col(Case.status).in_([s.value for s in CONCLUDED]),
        col(Case.updated_at) >= since,
        handed >= since,
    )
    concluded_total = (await session.exec(select(func.count()).select_from(Case).where(*recent))).one()
    concluded_rows = await session.exec(
        select(Case, handed).where(*recent).order_by(handed.desc(), col(Case.number).desc()).limit(limit)
    )
    concluded = [BoardCase(case, at) for case, at in concluded_rows.all()]

    shown: Sequence[BoardCase] = [*opened, *concluded]
    codes = [org, *(code for c in shown for code in (c.case.org, c.case.holding_org))]
    names = await org_names(session, codes)
    return Board(
        org=point,
        counts=counts,
        open=opened,
        concluded_total=int(concluded_total),
        concluded=concluded,
        since=since,
        names=names,
    )
