"""The progress handler's one statement takes the domain's decisions on the stored row.

The decision whether an event is news and where it moves the case (domain.progress) is handed to
the statement as the statuses it holds for; the supervision flag is cleared only when the stored
flag is the one cleared. Each event is applied here through the handler itself, in a unit of work
of its own, and the row and its stages read back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from daiban_common.consumer import PermanentFailure
from daiban_contracts.case import FlagLevel, Outcome, StaffRef
from daiban_contracts.envelope import EventData, make_envelope
from daiban_contracts.routing import (
    CaseDecided,
    CaseReceived,
    HopDirection,
    SupervisionFlagCleared,
    SupervisionFlagRaised,
)
from daiban_intake.handlers.progress import progress_handler
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import TOWNSHIP, VILLAGE, application, bearer, keyed

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def _apply(intake: Intake, number: str, event: EventData) -> None:
    envelope = make_envelope(event, source="routing", subject=number, org=TOWNSHIP, actor="test", time=AT)
    async with intake.runtime.uow() as uow:
        await progress_handler(lambda org: True)(envelope, event, uow)
        await uow.commit()


async def _case(intake: Intake, number: str) -> tuple[str, str | None, str | None, list[str]]:
    async with intake.runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT status, supervision_flag, outcome FROM intake.cases WHERE number = :n"),
                {"n": number},
            )
        ).one()
        stages = (
            await conn.execute(
                text("SELECT stage FROM intake.case_stages WHERE case_number = :n ORDER BY id"), {"n": number}
            )
        ).scalars()
        return row.status, row.supervision_flag, row.outcome, list(stages)


def _flag(number: str, level: FlagLevel, *, cleared: bool) -> EventData:
    common = {"case_number": number, "accepting_org": VILLAGE, "org": TOWNSHIP, "level": level}
    if cleared:
        return SupervisionFlagCleared(**common, cleared_at=AT)
    return SupervisionFlagRaised(**common, reason="临近时限", due_date=date(2026, 3, 9), raised_at=AT)


async def test_stale_events_flags_and_unknown_cases(intake: Intake) -> None:
    response = await intake.client.post(
        "/v1/applications", json=application(), headers=keyed(bearer(intake.settings))
    )
    assert response.status_code == 201, response.text
    number = str(response.json()["case_number"])
    _, _, _, accepted_stages = await _case(intake, number)

    decided = CaseDecided(
        case_number=number,
        accepting_org=VILLAGE,
        org=TOWNSHIP,
        outcome=Outcome.approved,
        reasons=("材料齐全",),
        decided_by=StaffRef(staff_id="approver-1", name="孙审批", org=TOWNSHIP),
        decided_at=AT,
        due_date=date(2026, 3, 16),
        on_time=True,
    )
    await _apply(intake, number, decided)
    assert await _case(intake, number) == ("decided", None, "approved", [*accepted_stages, "approved"])

    # A hop received after the decision is no news: neither the status nor the stages move.
    late = CaseReceived(
        case_number=number,
        accepting_org=VILLAGE,
        from_org=VILLAGE,
        to_org=TOWNSHIP,
        hop=1,
        received_at=AT,
        direction=HopDirection.up,
    )
    await _apply(intake, number, late)
    assert await _case(intake, number) == ("decided", None, "approved", [*accepted_stages, "approved"])

    await _apply(intake, number, _flag(number, FlagLevel.yellow, cleared=False))
    assert (await _case(intake, number))[1] == "yellow"
    # A red cleared leaves the yellow shown; the yellow cleared takes it away.
    await _apply(intake, number, _flag(number, FlagLevel.red, cleared=True))
    assert (await _case(intake, number))[1] == "yellow"
    await _apply(intake, number, _flag(number, FlagLevel.yellow, cleared=True))
    assert await _case(intake, number) == ("decided", None, "approved", [*accepted_stages, "approved"])

    lost = "370285101295-20260101-9999"
    with pytest.raises(PermanentFailure, match=lost):
        await _apply(intake, lost, decided.model_copy(update={"case_number": lost}))
