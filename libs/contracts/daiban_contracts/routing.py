"""Events routing produces: moves between tiers, assignment, decisions, pauses, supervision."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from daiban_contracts.case import CaseSummary, FlagLevel, MaterialIssue, Outcome, StaffRef
from daiban_contracts.catalogue import SpecialProcedure
from daiban_contracts.envelope import EventData, event_type


class HopDirection(StrEnum):
    """Which way a hop moves a case: up towards the deciding tier, down back to the citizen."""

    up = "up"
    down = "down"


@event_type("daiban.case.forwarded.v1")
class CaseForwarded(EventData):
    """Addressed to the receiving org: the case moves one hop up towards the deciding tier."""

    case: CaseSummary
    from_org: str
    to_org: str
    hop: int = Field(ge=1)
    forwarded_at: datetime


@event_type("daiban.case.received.v1")
class CaseReceived(EventData):
    case_number: str
    accepting_org: str
    from_org: str
    to_org: str
    hop: int
    received_at: datetime
    received_by: str = "system"
    # Added after v1 shipped, with a default so that older producers stay valid.
    direction: HopDirection = HopDirection.up


@event_type("daiban.case.assigned.v1")
class CaseAssigned(EventData):
    case_number: str
    accepting_org: str
    org: str
    task_id: str
    department: str
    window: str | None
    staff_id: str | None = Field(description="None when the task waits in the window's queue")
    post: str = Field(description="a | b | queue")
    due_date: date
    assigned_at: datetime


class TakeoverReason(StrEnum):
    """Why another person holds a task from now on (AB岗)."""

    holder_absent = "holder_absent"
    reassigned = "reassigned"

    @property
    def label(self) -> str:
        return {
            TakeoverReason.holder_absent: "原承办人不在岗（请假或外出），B岗接办",
            TakeoverReason.reassigned: "监察人员改派",
        }[self]


@event_type("daiban.case.task_claimed.v1")
class TaskClaimed(EventData):
    """A person of the window starts on a task: from now on the case is in review (审查中)."""

    case_number: str
    accepting_org: str
    org: str = Field(description="The deciding org unit")
    task_id: str
    department: str
    window: str | None
    claimed_by: StaffRef
    claimed_at: datetime


@event_type("daiban.case.task_taken_over.v1")
class TaskTakenOver(EventData):
    """Another person holds a task from now on: its holder was away, or a supervisor reassigned it.

    The reason of an absence is not carried (it may be about health), only that the holder was away.
    The person who made the change is the envelope's actor (the new holder, or the supervisor).
    """

    case_number: str
    accepting_org: str
    org: str = Field(description="The deciding org unit")
    task_id: str
    department: str
    window: str | None
    from_staff_id: str | None = Field(description="None when the task waited in the window's queue")
    to_staff: StaffRef
    reason: TakeoverReason
    taken_over_at: datetime


@event_type("daiban.case.decided.v1")
class CaseDecided(EventData):
    case_number: str
    accepting_org: str
    org: str = Field(description="The deciding org unit")
    outcome: Outcome
    result: str | None = None
    reasons: tuple[str, ...] = ()
    legal_basis: tuple[str, ...] = ()
    decided_by: StaffRef
    decided_at: datetime
    due_date: date
    on_time: bool


@event_type("daiban.case.supplement_requested.v1")
class SupplementRequested(EventData):
    case_number: str
    accepting_org: str
    org: str
    issues: tuple[MaterialIssue, ...]
    requested_by: StaffRef
    requested_at: datetime


@event_type("daiban.case.paused.v1")
class CasePaused(EventData):
    case_number: str
    accepting_org: str
    org: str
    procedure: SpecialProcedure | None = Field(description="None for a supplement pause")
    reason: str
    expected_working_days: int
    paused_at: datetime


@event_type("daiban.case.resumed.v1")
class CaseResumed(EventData):
    case_number: str
    accepting_org: str
    org: str
    resumed_at: datetime
    due_date: date = Field(description="The deadline after the pause is taken out")


@event_type("daiban.case.extended.v1")
class CaseExtended(EventData):
    case_number: str
    accepting_org: str
    org: str
    extra_working_days: int
    reason: str
    approved_by: StaffRef
    due_date: date


@event_type("daiban.case.due_recomputed.v1")
class CaseDueRecomputed(EventData):
    """A provisional deadline counted again once its year's official schedule was loaded."""

    case_number: str
    accepting_org: str
    org: str
    previous_due_date: date
    due_date: date
    provisional: bool = Field(description="Still provisional: the count crosses another unpublished year")
    year: int = Field(description="The year whose schedule was loaded")
    reference: str = Field(description="The State Council notice loaded")
    recomputed_at: datetime


@event_type("daiban.case.escalated.v1")
class CaseEscalated(EventData):
    """An item decided above the county: the centre carries the procedure for the citizen."""

    case_number: str
    accepting_org: str
    org: str
    authority: str
    follow_up_date: date
    escalated_at: datetime


@event_type("daiban.case.returned_down.v1")
class CaseReturnedDown(EventData):
    """Addressed to the receiving org: the decision moves one hop down towards the citizen."""

    case_number: str
    accepting_org: str
    from_org: str
    to_org: str
    outcome: Outcome
    result: str | None = None
    reasons: tuple[str, ...] = ()
    returned_at: datetime
    # Added after v1 shipped, with defaults: the point where the citizen applied may sit on another
    # node that never saw the decision, and needs these to tell the citizen everything.
    hop: int = Field(default=1, ge=1)
    legal_basis: tuple[str, ...] = ()
    deciding_org: str | None = None


@event_type("daiban.case.ready_for_handover.v1")
class CaseReadyForHandover(EventData):
    case_number: str
    accepting_org: str
    outcome: Outcome
    result: str | None = None
    reasons: tuple[str, ...] = ()
    legal_basis: tuple[str, ...] = ()
    deciding_org: str
    ready_at: datetime


@event_type("daiban.supervision.flag_raised.v1")
class SupervisionFlagRaised(EventData):
    case_number: str
    accepting_org: str
    org: str
    level: FlagLevel
    reason: str
    due_date: date
    raised_at: datetime


@event_type("daiban.supervision.flag_cleared.v1")
class SupervisionFlagCleared(EventData):
    case_number: str
    accepting_org: str
    org: str
    level: FlagLevel
    cleared_at: datetime


@event_type("daiban.supervision.alert_raised.v1")
class SupervisorAlerted(EventData):
    """A task nobody can take (no window, or neither A nor B post on duty) waits in a queue."""

    case_number: str
    accepting_org: str
    org: str
    task_id: str
    department: str
    window: str | None
    reason: str
    raised_at: datetime


@event_type("daiban.case.home_visit_booked.v1")
class HomeVisitBooked(EventData):
    """An agent will visit the citizen at home (上门服务): the case is handled by home visit."""

    case_number: str
    accepting_org: str
    visit_date: date
    note: str = ""
    booked_by: StaffRef
    booked_at: datetime
