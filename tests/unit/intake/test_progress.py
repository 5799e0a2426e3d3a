from __future__ import annotations

from datetime import UTC, date, datetime

from daiban_contracts.case import FlagLevel, MaterialIssue, Outcome, StaffRef
from daiban_contracts.catalogue import SpecialProcedure
from daiban_contracts.crossing import FOLLOWED_BY_ACCEPTING_NODE
from daiban_contracts.routing import (
    CaseDecided,
    CaseExtended,
    CasePaused,
    CaseReceived,
    HopDirection,
    SupervisionFlagRaised,
    SupplementRequested,
    TaskClaimed,
)
from daiban_intake.domain.board import CONCLUDED, OPEN
from daiban_intake.domain.progress import CaseStatus, Stage, is_news, next_status
from daiban_intake.domain.routing_events import MEANINGS, case_of, progress_of

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
STAFF = StaffRef(staff_id="s", name="孙", org="370285101000")


def _received(direction: HopDirection) -> CaseReceived:
    return CaseReceived(
        case_number="N",
        accepting_org="370285101201",
        from_org="370285101201",
        to_org="370285101000",
        hop=1,
        received_at=NOW,
        direction=direction,
    )


def test_status_only_moves_forward() -> None:
    late_hop = progress_of(_received(HopDirection.up), event_time=NOW)
    assert next_status(CaseStatus.decided, late_hop) is CaseStatus.decided
    assert not is_news(CaseStatus.decided, late_hop)
    assert next_status(CaseStatus.forwarded, late_hop) is CaseStatus.received


def test_a_hop_received_on_the_way_down_is_part_of_returning_the_result() -> None:
    progress = progress_of(_received(HopDirection.down), event_time=NOW)
    assert progress.status is CaseStatus.returned_down
    assert is_news(CaseStatus.returned_down, progress)


def test_a_decision_records_its_outcome_and_the_deciding_unit() -> None:
    event = CaseDecided(
        case_number="N",
        accepting_org="370285101201",
        org="370285101000",
        outcome=Outcome.refused,
        reasons=("不符合条件",),
        decided_by=STAFF,
        decided_at=NOW,
        due_date=date(2026, 3, 9),
        on_time=True,
    )
    progress = progress_of(event, event_time=NOW)
    assert progress.stage is Stage.refused and progress.status is CaseStatus.decided
    assert progress.updates["deciding_org"] == "370285101000"
    assert case_of(event) == ("N", "370285101201")


def test_extensions_and_flags_change_dates_and_flags_but_not_the_status() -> None:
    extended = CaseExtended(
        case_number="N",
        accepting_org="370285101201",
        org="370285101000",
        extra_working_days=5,
        reason="需现场核查",
        approved_by=STAFF,
        due_date=date(2026, 3, 20),
    )
    progress = progress_of(extended, event_time=NOW)
    assert progress.status is None and progress.due_date == date(2026, 3, 20) and progress.at == NOW
    flag = SupervisionFlagRaised(
        case_number="N",
        accepting_org="370285101201",
        org="370285101000",
        level=FlagLevel.red,
        reason="超期",
        due_date=date(2026, 3, 1),
        raised_at=NOW,
    )
    assert progress_of(flag, event_time=NOW).stage is None


def _paused(procedure: SpecialProcedure | None) -> CasePaused:
    return CasePaused(
        case_number="N",
        accepting_org="370285101201",
        org="370285000000",
        procedure=procedure,
        reason="等待申请人补正材料" if procedure is None else "现场核查",
        expected_working_days=0 if procedure is None else 3,
        paused_at=NOW,
    )


def test_the_pause_that_comes_with_a_supplement_request_leaves_the_case_waiting_for_the_applicant() -> None:
    asked = SupplementRequested(
        case_number="N",
        accepting_org="370285101201",
        org="370285000000",
        issues=(
            MaterialIssue(
                material_code="M04",
                material_name="户口簿",
                problem="invalid",
                required_form="original",
                required_copies=1,
            ),
        ),
        requested_by=STAFF,
        requested_at=NOW,
    )
    # Routing emits both in one unit of work; in either order the case waits for a supplement.
    for first, second in ((asked, _paused(None)), (_paused(None), asked)):
        status = next_status(CaseStatus.in_review, progress_of(first, event_time=NOW))
        status = next_status(status, progress_of(second, event_time=NOW))
        assert status is CaseStatus.supplement_requested
    survey = progress_of(_paused(SpecialProcedure.site_survey), event_time=NOW)
    assert survey.status is CaseStatus.paused and survey.note == SpecialProcedure.site_survey.label


def _claimed() -> TaskClaimed:
    return TaskClaimed(
        case_number="N",
        accepting_org="370285101201",
        org="370285101000",
        task_id="t",
        department="township.civil_affairs",
        window="01",
        claimed_by=STAFF,
        claimed_at=NOW,
    )


def test_a_claim_puts_the_case_in_review_without_naming_who() -> None:
    progress = progress_of(_claimed(), event_time=NOW)
    assert (progress.stage, progress.status) == (Stage.in_review, CaseStatus.in_review)
    assert Stage.in_review.label == CaseStatus.in_review.label == "审查中"
    assert STAFF.name not in progress.note
    assert is_news(CaseStatus.assigned, progress)
    assert next_status(CaseStatus.assigned, progress) is CaseStatus.in_review


def test_a_second_claim_or_one_during_a_pause_says_nothing_new() -> None:
    progress = progress_of(_claimed(), event_time=NOW)
    assert not is_news(CaseStatus.in_review, progress)
    assert not is_news(CaseStatus.paused, progress)
    assert not is_news(CaseStatus.supplement_requested, progress)


def test_every_event_the_accepting_node_follows_has_a_meaning_for_its_case() -> None:
    assert set(MEANINGS) == set(FOLLOWED_BY_ACCEPTING_NODE)


def test_a_board_counts_every_status_once_in_the_order_a_case_moves() -> None:
    assert set(OPEN) | set(CONCLUDED) == set(CaseStatus) and not set(OPEN) & set(CONCLUDED)
    assert [s.rank for s in OPEN] == sorted(s.rank for s in OPEN)
    assert OPEN[0] is CaseStatus.accepted and OPEN[-1] is CaseStatus.ready_for_handover
