"""An event's subject, type, org and source must agree before a consumer applies it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from daiban_common.provenance import inconsistency
from daiban_contracts.case import Outcome, StaffRef
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_contracts.routing import CaseDecided
from daiban_contracts.subjects import Subjects

VILLAGE, TOWNSHIP = "370285101294", "370285101000"
CASE = f"{VILLAGE}-20261206-0001"
SUBJECTS = Subjects()


def decided(source: str = "/daiban/n370285101000/routing", org: str = TOWNSHIP) -> Envelope:
    payload = CaseDecided(
        case_number=CASE,
        accepting_org=VILLAGE,
        org=org,
        outcome=Outcome.approved,
        decided_by=StaffRef(staff_id="js-mz-b", name="韩冬梅", org=TOWNSHIP),
        decided_at=datetime(2026, 12, 6, 9, tzinfo=UTC),
        due_date=date(2026, 12, 20),
        on_time=True,
    )
    return make_envelope(payload, source=source, subject=CASE, org=org, actor="js-mz-b")


def test_an_event_that_agrees_with_itself_passes() -> None:
    event = decided()
    assert inconsistency(SUBJECTS, "daiban.370285.101.000.case.decided", event) is None
    assert inconsistency(SUBJECTS, "daiban.370285.101.000.copy.progress.case.decided", event) is None


@pytest.mark.parametrize(
    ("subject", "source", "why"),
    [
        # Routing's credential may publish the subject; the envelope claims intake sent it.
        ("daiban.370285.101.000.case.decided", "/daiban/n370285101000/intake", "只能由routing服务发出"),
        ("daiban.370285.101.000.case.decided", "/systems/jiangshan-hall", "只能由routing服务发出"),
        # The subject of another org, or of another type, than the envelope's.
        ("daiban.370285.102.000.case.decided", "/daiban/n370285101000/routing", "与事件的类型和org不符"),
        ("daiban.370285.101.000.case.assigned", "/daiban/n370285101000/routing", "与事件的类型和org不符"),
        # A copy whose inner event is of another type, or a kind of copy the type never travels as.
        ("daiban.370285.101.000.copy.progress.case.assigned", "/daiban/n370285101000/routing", "副本主题"),
        ("daiban.370285.101.000.copy.published.case.decided", "/daiban/n370285101000/routing", "published"),
    ],
)
def test_an_event_that_disagrees_says_why(subject: str, source: str, why: str) -> None:
    reason = inconsistency(SUBJECTS, subject, decided(source))
    assert reason is not None and why in reason


def test_ingress_subjects_are_left_to_the_service_that_reads_them() -> None:
    subject = SUBJECTS.ingress(VILLAGE, "jiangshan-hall", CaseDecided)
    assert inconsistency(SUBJECTS, subject, decided("/systems/jiangshan-hall")) is None


def test_an_answer_once_given_is_not_given_to_another_source_or_org() -> None:
    # The checks are cached per subject, type, org and source: the same subject with another
    # claim must still be checked for what it claims.
    subject = "daiban.370285.101.000.case.decided"
    assert inconsistency(SUBJECTS, subject, decided()) is None
    assert inconsistency(SUBJECTS, subject, decided()) is None
    forged = inconsistency(SUBJECTS, subject, decided(source="/daiban/n370285101000/intake"))
    assert forged is not None and "只能由routing服务发出" in forged
    elsewhere = inconsistency(SUBJECTS, subject, decided(org="370285102000"))
    assert elsewhere is not None and "与事件的类型和org不符" in elsewhere
    assert inconsistency(Subjects("other"), subject, decided()) is not None
