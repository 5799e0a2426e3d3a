"""Where a case stands: its status, the stages the public sees, and how routing's events move it.

Statuses follow routing's state machine (ARCHITECTURE.md). Events can arrive late or twice over a
flaky link, so a status only moves forward: an event that would move a case back (a hop received
after the decision, say) still shows as a stage if it is news, but leaves the status alone. The
loops of the machine (paused/supplement back to in review) are forward moves at the same rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class CaseStatus(StrEnum):
    accepted = "accepted"
    forwarded = "forwarded"
    received = "received"
    assigned = "assigned"
    in_review = "in_review"
    paused = "paused"
    supplement_requested = "supplement_requested"
    decided = "decided"
    returned_down = "returned_down"
    ready_for_handover = "ready_for_handover"
    handed_over = "handed_over"
    evaluated = "evaluated"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def rank(self) -> int:
        return _RANKS[self]


_STATUS_LABELS = {
    CaseStatus.accepted: "已受理",
    CaseStatus.forwarded: "已转报上级",
    CaseStatus.received: "上级已接收",
    CaseStatus.assigned: "已分派承办",
    CaseStatus.in_review: "审查中",
    CaseStatus.paused: "特别程序（暂停计时）",
    CaseStatus.supplement_requested: "待补正材料",
    CaseStatus.decided: "已作出决定",
    CaseStatus.returned_down: "结果下送中",
    CaseStatus.ready_for_handover: "待领取",
    CaseStatus.handed_over: "已送达",
    CaseStatus.evaluated: "已评价",
}
_RANKS = {
    CaseStatus.accepted: 0,
    CaseStatus.forwarded: 1,
    CaseStatus.received: 1,
    CaseStatus.assigned: 2,
    CaseStatus.in_review: 3,
    CaseStatus.paused: 3,
    CaseStatus.supplement_requested: 3,
    CaseStatus.decided: 4,
    CaseStatus.returned_down: 5,
    CaseStatus.ready_for_handover: 6,
    CaseStatus.handed_over: 7,
    CaseStatus.evaluated: 8,
}


class Stage(StrEnum):
    """Steps shown on the public progress page (and LED boards)."""

    accepted = "accepted"
    concluded_on_the_spot = "concluded_on_the_spot"
    forwarded = "forwarded"
    received = "received"
    assigned = "assigned"
    in_review = "in_review"
    paused = "paused"
    resumed = "resumed"
    extended = "extended"
    due_recomputed = "due_recomputed"
    escalated = "escalated"
    supplement_requested = "supplement_requested"
    supplemented = "supplemented"
    deficiencies_supplied = "deficiencies_supplied"
    approved = "approved"
    refused = "refused"
    returned_down = "returned_down"
    ready_for_handover = "ready_for_handover"
    handed_over = "handed_over"
    evaluated = "evaluated"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    Stage.accepted: "受理",
    Stage.concluded_on_the_spot: "当场办结",
    Stage.forwarded: "转报上级",
    Stage.received: "接收",
    Stage.assigned: "分派承办",
    Stage.in_review: "审查中",
    Stage.paused: "特别程序，暂停计时",
    Stage.resumed: "恢复计时",
    Stage.extended: "延长办理时限",
    Stage.due_recomputed: "办结时限调整",
    Stage.escalated: "上报上级机关办理",
    Stage.supplement_requested: "要求补正材料",
    Stage.supplemented: "补正材料已提交",
    Stage.deficiencies_supplied: "容缺材料已补齐",
    Stage.approved: "准予办理",
    Stage.refused: "不予办理",
    Stage.returned_down: "办理结果下送",
    Stage.ready_for_handover: "待领取办理结果",
    Stage.handed_over: "办理结果已送达",
    Stage.evaluated: "已评价",
}


@dataclass(frozen=True)
class Progress:
    """What one event says about a case. `None` fields leave the case as it is."""

    stage: Stage | None
    at: datetime
    org: str
    status: CaseStatus | None = None
    holding_org: str | None = None
    due_date: date | None = None
    # Shown to the public with the stage: never a person's name or anything personal.
    note: str = ""
    # Other columns of the case the event sets (decision, pending supplement, supervision flag).
    updates: dict[str, object] = field(default_factory=dict)
    # News only while it moves the status up a rank: a second department starting on a joint case,
    # or a claim after a pause began, says nothing new and must not undo the pause.
    strictly_forward: bool = False


def moves_forward(current: CaseStatus, new: CaseStatus) -> bool:
    return new.rank >= current.rank


def next_status(current: CaseStatus, progress: Progress) -> CaseStatus:
    if progress.status is None or not moves_forward(current, progress.status):
        return current
    return progress.status


def is_news(current: CaseStatus, progress: Progress) -> bool:
    """A stale status event (behind where the case already is) is not shown again."""
    if progress.status is None:
        return True
    if progress.strictly_forward:
        return progress.status.rank > current.rank
    return moves_forward(current, progress.status)
