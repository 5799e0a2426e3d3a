"""What each of routing's events means for the case record at the point where it was accepted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from daiban_contracts.case import Outcome
from daiban_contracts.envelope import EventData
from daiban_contracts.routing import (
    CaseAssigned,
    CaseDecided,
    CaseDueRecomputed,
    CaseEscalated,
    CaseExtended,
    CaseForwarded,
    CasePaused,
    CaseReadyForHandover,
    CaseReceived,
    CaseResumed,
    CaseReturnedDown,
    HopDirection,
    SupervisionFlagCleared,
    SupervisionFlagRaised,
    SupplementRequested,
    TaskClaimed,
)
from daiban_intake.domain.progress import CaseStatus, Progress, Stage


def _decision_stage(outcome: Outcome) -> Stage:
    return Stage.approved if outcome is Outcome.approved else Stage.refused


def _forwarded(e: CaseForwarded) -> Progress:
    return Progress(Stage.forwarded, e.forwarded_at, e.from_org, CaseStatus.forwarded, holding_org=e.to_org)


def _received(e: CaseReceived) -> Progress:
    # A hop received on the way down is part of returning the result.
    status = CaseStatus.received if e.direction is HopDirection.up else CaseStatus.returned_down
    return Progress(Stage.received, e.received_at, e.to_org, status, holding_org=e.to_org)


def _assigned(e: CaseAssigned) -> Progress:
    return Progress(
        Stage.assigned, e.assigned_at, e.org, CaseStatus.assigned, holding_org=e.org, due_date=e.due_date
    )


def _claimed(e: TaskClaimed) -> Progress:
    # Who claimed it is not for the public: the stage says only that the review has begun.
    return Progress(
        Stage.in_review, e.claimed_at, e.org, CaseStatus.in_review, holding_org=e.org, strictly_forward=True
    )


def _decided(e: CaseDecided) -> Progress:
    return Progress(
        _decision_stage(e.outcome),
        e.decided_at,
        e.org,
        CaseStatus.decided,
        holding_org=e.org,
        updates={
            "outcome": e.outcome.value,
            "result": e.result,
            "reasons": list(e.reasons),
            "legal_basis": list(e.legal_basis),
            "deciding_org": e.org,
            "decided_at": e.decided_at,
            "pending_supplement": [],
        },
    )


def _supplement_requested(e: SupplementRequested) -> Progress:
    names = "、".join(issue.material_name for issue in e.issues)
    return Progress(
        Stage.supplement_requested,
        e.requested_at,
        e.org,
        CaseStatus.supplement_requested,
        holding_org=e.org,
        note=f"需补正：{names}" if names else "",
        updates={"pending_supplement": [issue.model_dump(mode="json") for issue in e.issues]},
    )


def _paused(e: CasePaused) -> Progress:
    if e.procedure is None:
        # Routing stops the clock for a supplement in the same breath as it asks for one: the case
        # waits for the applicant (the status supplements are taken in), whichever event comes first.
        waiting = CaseStatus.supplement_requested
        return Progress(Stage.paused, e.paused_at, e.org, waiting, holding_org=e.org, note="补正材料")
    return Progress(
        Stage.paused, e.paused_at, e.org, CaseStatus.paused, holding_org=e.org, note=e.procedure.label
    )


def _resumed(e: CaseResumed) -> Progress:
    return Progress(
        Stage.resumed, e.resumed_at, e.org, CaseStatus.in_review, holding_org=e.org, due_date=e.due_date
    )


def _extended(e: CaseExtended, at: datetime) -> Progress:
    return Progress(
        Stage.extended, at, e.org, due_date=e.due_date, note=f"延长{e.extra_working_days}个工作日"
    )


def _due_recomputed(e: CaseDueRecomputed) -> Progress:
    return Progress(
        Stage.due_recomputed,
        e.recomputed_at,
        e.org,
        due_date=e.due_date,
        note=f"依{e.year}年节假日安排（{e.reference}）调整",
        updates={"due_date_provisional": e.provisional},
    )


def _escalated(e: CaseEscalated) -> Progress:
    return Progress(
        Stage.escalated, e.escalated_at, e.org, CaseStatus.in_review, holding_org=e.org, note=e.authority
    )


def _returned_down(e: CaseReturnedDown) -> Progress:
    updates: dict[str, Any] = {
        "outcome": e.outcome.value,
        "result": e.result,
        "reasons": list(e.reasons),
        "legal_basis": list(e.legal_basis),
    }
    if e.deciding_org is not None:
        updates["deciding_org"] = e.deciding_org
    return Progress(
        Stage.returned_down,
        e.returned_at,
        e.from_org,
        CaseStatus.returned_down,
        holding_org=e.to_org,
        updates=updates,
    )


def _ready(e: CaseReadyForHandover) -> Progress:
    return Progress(
        Stage.ready_for_handover,
        e.ready_at,
        e.accepting_org,
        CaseStatus.ready_for_handover,
        holding_org=e.accepting_org,
        updates={
            "outcome": e.outcome.value,
            "result": e.result,
            "reasons": list(e.reasons),
            "legal_basis": list(e.legal_basis),
            "deciding_org": e.deciding_org,
        },
    )


def _flag_raised(e: SupervisionFlagRaised) -> Progress:
    return Progress(None, e.raised_at, e.org, updates={"supervision_flag": e.level.value})


def _flag_cleared(e: SupervisionFlagCleared) -> Progress:
    # Cleared only if the flag still shown is the one cleared (a red may have replaced a yellow).
    return Progress(None, e.cleared_at, e.org, updates={"supervision_flag_cleared": e.level.value})


# Which of routing's events reach intake is the contract's: daiban_contracts.crossing.
# FOLLOWED_BY_ACCEPTING_NODE (tests/unit/intake/test_progress.py checks each has a meaning here).


def case_of(event: EventData) -> tuple[str, str]:
    """(case number, accepting org) of a routing event."""
    if isinstance(event, CaseForwarded):
        return event.case.case_number, event.case.accepting_org
    number, org = getattr(event, "case_number", None), getattr(event, "accepting_org", None)
    if not isinstance(number, str) or not isinstance(org, str):
        raise TypeError(f"{type(event).__name__} names no case")
    return number, org


# What each event the accepting node follows means for the case record there.
MEANINGS: dict[type[EventData], Callable[[Any, datetime], Progress]] = {
    CaseForwarded: lambda e, _: _forwarded(e),
    CaseReceived: lambda e, _: _received(e),
    CaseAssigned: lambda e, _: _assigned(e),
    TaskClaimed: lambda e, _: _claimed(e),
    CaseDecided: lambda e, _: _decided(e),
    SupplementRequested: lambda e, _: _supplement_requested(e),
    CasePaused: lambda e, _: _paused(e),
    CaseResumed: lambda e, _: _resumed(e),
    CaseExtended: _extended,
    CaseDueRecomputed: lambda e, _: _due_recomputed(e),
    CaseEscalated: lambda e, _: _escalated(e),
    CaseReturnedDown: lambda e, _: _returned_down(e),
    CaseReadyForHandover: lambda e, _: _ready(e),
    SupervisionFlagRaised: lambda e, _: _flag_raised(e),
    SupervisionFlagCleared: lambda e, _: _flag_cleared(e),
}


def progress_of(event: EventData, *, event_time: datetime) -> Progress:
    """`event_time` (the envelope's) dates events that carry no time of their own."""
    meaning = MEANINGS.get(type(event))
    if meaning is None:
        raise TypeError(f"{type(event).__name__} is not one of routing's case events")
    return meaning(event, event_time)
