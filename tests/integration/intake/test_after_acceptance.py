"""After acceptance: routing's events keep the case current; supplements, handover, evaluation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from daiban_common.calendar import default_calendar, today_in_shanghai
from daiban_contracts.case import MaterialIssue, Outcome, StaffRef
from daiban_contracts.routing import (
    CaseDecided,
    CaseReadyForHandover,
    CaseReturnedDown,
    SupplementRequested,
)
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import (
    APPLICANT_ID,
    TOWNSHIP,
    VILLAGE,
    application,
    bearer,
    emitted,
    forwarded_and_assigned,
    keyed,
    publish,
    resident_id,
    status_becomes,
)
from tests.servers import eventually

pytestmark = pytest.mark.integration

APPROVER = StaffRef(staff_id="approver-1", name="孙审批", org=TOWNSHIP)


async def _accept(intake: Intake) -> str:
    response = await intake.client.post(
        "/v1/applications", json=application(), headers=keyed(bearer(intake.settings))
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_number"])


async def _status_becomes(intake: Intake, number: str, status: str) -> None:
    await status_becomes(intake.client, intake.settings, number, status)


async def test_decision_handover_and_a_dissatisfied_rating_open_a_rectification(intake: Intake) -> None:
    agent = bearer(intake.settings)
    number = await _accept(intake)
    [accepted] = await emitted(intake.runtime, "daiban.case.accepted.v1")
    handover = {"method": "in_person", "recipient_name": "王秀英", "recipient_id_number": APPLICANT_ID}

    early = await intake.client.post(f"/v1/cases/{number}/handover", json=handover, headers=keyed(agent))
    assert early.status_code == 409
    assert early.json()["detail"] == "办件尚未作出决定，不能送达"

    await forwarded_and_assigned(intake.settings, number, accepted.data["case"])
    await _status_becomes(intake, number, "assigned")
    now = datetime.now(UTC)
    for event in (
        CaseDecided(
            case_number=number,
            accepting_org=VILLAGE,
            org=TOWNSHIP,
            outcome=Outcome.approved,
            result="救助金800元",
            decided_by=APPROVER,
            decided_at=now,
            due_date=date.today(),
            on_time=True,
        ),
        CaseReturnedDown(
            case_number=number,
            accepting_org=VILLAGE,
            from_org=TOWNSHIP,
            to_org=VILLAGE,
            outcome=Outcome.approved,
            result="救助金800元",
            returned_at=now,
        ),
        CaseReadyForHandover(
            case_number=number,
            accepting_org=VILLAGE,
            outcome=Outcome.approved,
            result="救助金800元",
            deciding_org=TOWNSHIP,
            ready_at=now,
        ),
    ):
        await publish(intake.settings, event, org=TOWNSHIP, subject=number)
    await _status_becomes(intake, number, "ready_for_handover")
    detail = (await intake.client.get(f"/v1/cases/{number}", headers=agent)).json()
    assert detail["decision"]["result"] == "救助金800元"
    assert detail["holding_org"] == VILLAGE

    stranger = {**handover, "recipient_id_number": resident_id("37028519851203456")}
    refused = await intake.client.post(f"/v1/cases/{number}/handover", json=stranger, headers=keyed(agent))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "recipient_id_number"
    handed = await intake.client.post(f"/v1/cases/{number}/handover", json=handover, headers=keyed(agent))
    assert handed.status_code == 200, handed.text
    [handed_event] = await emitted(intake.runtime, "daiban.case.handed_over.v1")
    assert handed_event.data["method"] == "in_person" and handed_event.org == VILLAGE
    # The case keeps the handover as its documented schema (HandoverRecordOut) says.
    kept = (await intake.client.get(f"/v1/cases/{number}", headers=agent)).json()["handover"]
    assert (kept["method"], kept["recipient_name"], kept["handed_over_by"]["org"]) == (
        "in_person",
        "王秀英",
        VILLAGE,
    )

    receipt = await intake.client.get(f"/v1/cases/{number}/receipt", headers=agent)
    query_code = receipt.json()["query_code"]
    rating = {
        "case_number": number,
        "query_code": query_code,
        "level": "dissatisfied",
        "scores": {"attitude": 2, "efficiency": 1},
        "comment": "等了很久，电话13812345678没人接",
    }
    rated = {"Idempotency-Key": "rating-0001"}
    evaluated = await intake.client.post("/v1/public/evaluations", json=rating, headers=rated)
    assert evaluated.status_code == 201, evaluated.text
    assert evaluated.json()["rectification_opened"] is True
    assert evaluated.headers["location"] == f"/v1/public/progress/{number}"
    # The citizen's page retried: its answer again, not "already evaluated" (the key is optional).
    retried = await intake.client.post("/v1/public/evaluations", json=rating, headers=rated)
    assert (retried.status_code, retried.content) == (201, evaluated.content)
    assert retried.headers["idempotent-replayed"] == "true"
    second = await intake.client.post("/v1/public/evaluations", json={**rating, "level": "satisfied"})
    assert second.status_code == 409
    assert second.json()["type"] == "/problems/already-evaluated"

    [rectification] = await emitted(intake.runtime, "daiban.rectification.opened.v1")
    due = default_calendar().add_working_days(today_in_shanghai(), 15).date
    assert rectification.data["due_date"] == due.isoformat()
    assert rectification.data["org"] == TOWNSHIP  # the deciding unit answers for it
    assert "13812345678" not in rectification.model_dump_json()
    [evaluation] = await emitted(intake.runtime, "daiban.case.evaluated.v1")
    assert evaluation.data["level"] == "dissatisfied" and evaluation.data["deciding_org"] == TOWNSHIP


async def test_a_supplement_request_makes_the_case_wait_for_the_supplement(intake: Intake) -> None:
    agent = bearer(intake.settings)
    number = await _accept(intake)
    supply = {"materials": [{"code": "M02", "form": "copy", "copies": 2}]}

    not_waiting = await intake.client.post(
        f"/v1/cases/{number}/supplements", json=supply, headers=keyed(agent)
    )
    assert not_waiting.status_code == 409
    assert not_waiting.json()["type"] == "/problems/not-waiting-for-supplement"

    issue = MaterialIssue(
        material_code="M02",
        material_name="居民身份证",
        problem="invalid",
        required_form="copy",
        required_copies=2,
    )
    await publish(
        intake.settings,
        SupplementRequested(
            case_number=number,
            accepting_org=VILLAGE,
            org=TOWNSHIP,
            issues=(issue,),
            requested_by=APPROVER,
            requested_at=datetime.now(UTC),
        ),
        org=TOWNSHIP,
        subject=number,
    )
    await _status_becomes(intake, number, "supplement_requested")

    wrong = {"materials": [{"code": "M01", "form": "original", "copies": 1}]}
    incomplete = await intake.client.post(f"/v1/cases/{number}/supplements", json=wrong, headers=keyed(agent))
    assert incomplete.status_code == 422
    assert "居民身份证" in incomplete.json()["errors"][0]["message"]

    supplied = await intake.client.post(f"/v1/cases/{number}/supplements", json=supply, headers=keyed(agent))
    assert supplied.status_code == 201, supplied.text
    assert supplied.json()["status"] == "in_review"
    [event] = await emitted(intake.runtime, "daiban.case.supplemented.v1")
    assert event.data["material_codes"] == ["M02"] and event.subject == number


async def test_events_for_unknown_cases_are_parked_and_other_townships_cases_never_arrive(
    intake: Intake,
) -> None:
    now = datetime.now(UTC)
    ready = {"outcome": Outcome.approved, "deciding_org": TOWNSHIP, "ready_at": now}
    lost = "370285101295-20260101-9999"
    unknown = await publish(
        intake.settings,
        CaseReadyForHandover(case_number=lost, accepting_org=VILLAGE, **ready),
        org=TOWNSHIP,
        subject=lost,
    )
    # Another township's case: its progress copy is addressed to that township's node, not here.
    theirs = "370285102001-20260101-0001"
    elsewhere = await publish(
        intake.settings,
        CaseReadyForHandover(case_number=theirs, accepting_org="370285102001", **ready),
        org="370285102000",
        subject=theirs,
    )
    dead = intake.runtime.tables.dead_letters
    inbox = intake.runtime.tables.inbox

    async def settled() -> bool:
        async with intake.runtime.engine.connect() as conn:
            parked = (await conn.execute(select(dead.c.event_id))).scalars().all()
            applied = (await conn.execute(select(inbox.c.event_id))).scalars().all()
        return unknown.id in parked and elsewhere.id not in applied

    await eventually(settled)
    async with intake.runtime.engine.connect() as conn:
        parked = (await conn.execute(select(dead.c.event_id))).scalars().all()
    assert list(parked) == [unknown.id]
