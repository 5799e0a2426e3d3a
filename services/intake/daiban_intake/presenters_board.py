"""A hall board's read -> its public answer, built field by field from what is public: no applicant,
no staff, no query code, no result text; case numbers masked."""

from __future__ import annotations

from daiban_intake.domain.board import OPEN
from daiban_intake.domain.numbers import masked_case_number
from daiban_intake.presenters import public_case_fields
from daiban_intake.queries.board import Board, BoardCase
from daiban_intake.schemas import BoardCaseOut, BoardOut, BoardStageOut


def _case_out(entry: BoardCase, names: dict[str, str]) -> BoardCaseOut:
    return BoardCaseOut(
        **public_case_fields(entry.case, names),
        masked_case_number=masked_case_number(entry.case.number),
        moved_at=entry.moved_at,
    )


def board_out(board: Board) -> BoardOut:
    return BoardOut(
        org=str(board.org),
        org_name=board.names.get(str(board.org)),
        org_tier_label=board.org.tier.label,
        stages=[
            BoardStageOut(status=s.value, status_label=s.label, count=board.counts.get(s, 0)) for s in OPEN
        ],
        open_total=sum(board.counts.values()),
        open=[_case_out(c, board.names) for c in board.open],
        concluded_since=board.since,
        concluded_total=board.concluded_total,
        concluded=[_case_out(c, board.names) for c in board.concluded],
    )
