"""The door for township systems: events pushed over HTTP and over NATS go through intake's commands.

A registered system pushes the events of daiban_contracts.ingress; valid ones change the case and
intake's own event records the system as its actor, the same event id applies once whichever way
it came, and invalid ones are refused (HTTP) or dead-lettered with the reason (NATS).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from sqlalchemy import func, select

from daiban_common.auth import Role
from daiban_contracts.case import (
    CaseEvaluated,
    CaseSupplemented,
    ComplaintFiled,
    EvaluationLevel,
    MaterialIssue,
    StaffRef,
)
from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.ingress import system_actor, system_source
from daiban_contracts.routing import SupplementRequested
from daiban_contracts.subjects import Subjects
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import (
    OTHER_TOWNSHIP,
    TOWNSHIP,
    VILLAGE,
    application,
    bearer,
    emitted,
    keyed,
    publish,
    status_becomes,
)
from tests.servers import eventually, running

pytestmark = pytest.mark.integration

SYSTEM = "jiangshan-hall"
BATCH = "application/cloudevents-batch+json"
HALL_CLERK = StaffRef(staff_id="hall-0031", name="许春花", org=VILLAGE)


async def _register(intake: Intake, system: str = SYSTEM, **extra: Any) -> str:
    admin = bearer(intake.settings, Role.admin, org=TOWNSHIP, name="王管理")
    body = {"system": system, "township": TOWNSHIP, "name": "姜山镇便民服务中心大厅系统", **extra}
    response = await intake.client.post("/v1/systems", json=body, headers=admin)
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


async def _waiting_for_supplement(intake: Intake) -> str:
    """A case accepted at the village whose approver asked for M02 again."""
    accepted = await intake.client.post(
        "/v1/applications", json=application(), headers=keyed(bearer(intake.settings))
    )
    assert accepted.status_code == 201, accepted.text
    number = str(accepted.json()["case_number"])
    issue = MaterialIssue(
        material_code="M02",
        material_name="居民身份证",
        problem="invalid",
        required_form="copy",
        required_copies=2,
    )
    request = SupplementRequested(
        case_number=number,
        accepting_org=VILLAGE,
        org=TOWNSHIP,
        issues=(issue,),
        requested_by=StaffRef(staff_id="approver-1", name="孙审批", org=TOWNSHIP),
        requested_at=datetime.now(UTC),
    )
    await publish(intake.settings, request, org=TOWNSHIP, subject=number)
    await _status_becomes(intake, number, "supplement_requested")
    return number


async def _status_becomes(intake: Intake, number: str, status: str) -> None:
    await status_becomes(intake.client, intake.settings, number, status)


def _supplemented(number: str, *, codes: tuple[str, ...] = ("M02",), **envelope: Any) -> Envelope:
    payload = CaseSupplemented(
        case_number=number,
        accepting_org=VILLAGE,
        material_codes=codes,
        supplemented_at=datetime.now(UTC),
        recorded_by=HALL_CLERK,
    )
    return _pushed(payload, subject=number, org=VILLAGE, **envelope)


def _pushed(payload: EventData, *, subject: str, org: str, source: str = system_source(SYSTEM)) -> Envelope:
    # What the system claims as actor is not what intake records.
    return make_envelope(payload, source=source, subject=subject, org=org, actor="hall-0031")


async def _push(intake: Intake, token: str, *events: Envelope | dict[str, Any]) -> list[dict[str, Any]]:
    body = [e.model_dump(mode="json") if isinstance(e, Envelope) else e for e in events]
    response = await intake.client.post(
        "/v1/ingress/events",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": BATCH},
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def _publish_ingress(
    intake: Intake, envelope: Envelope, system: str = SYSTEM, msg_id: str | None = None
) -> None:
    subject = Subjects(intake.settings.subject_root).ingress(envelope.org, system, envelope.type)
    nc = await nats.connect(intake.settings.nats_url)
    try:
        headers = {"Nats-Msg-Id": msg_id or envelope.id}
        await nc.jetstream().publish(subject, envelope.to_bytes(), headers=headers)
    finally:
        await nc.close()


async def _parked(intake: Intake, event_id: str) -> str:
    """The reason the event was dead-lettered with, once it is."""
    dead = intake.runtime.tables.dead_letters

    async def found() -> str | None:
        async with intake.runtime.engine.connect() as conn:
            error = await conn.scalar(select(dead.c.error).where(dead.c.event_id == event_id))
        return str(error) if error is not None else None

    reason = await eventually(found)
    assert isinstance(reason, str)
    return reason


async def _inbox_rows(intake: Intake, event_id: str) -> int:
    inbox = intake.runtime.tables.inbox
    async with intake.runtime.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(inbox).where(inbox.c.event_id == event_id))
    return int(count or 0)


async def test_http_valid_duplicate_and_refused_events(intake: Intake) -> None:
    token = await _register(intake)
    number = await _waiting_for_supplement(intake)
    valid = _supplemented(number)

    [first] = await _push(intake, token, valid)
    assert first == {"id": valid.id, "result": "accepted", "reason": None, "field": None, "errors": []}
    await _status_becomes(intake, number, "in_review")
    [event] = await emitted(intake.runtime, "daiban.case.supplemented.v1")
    # Intake's own event, through its own command: its source, the system as actor.
    assert event.actor == system_actor(SYSTEM) and event.id != valid.id
    assert event.source != valid.source and event.data["material_codes"] == ["M02"]
    assert event.data["recorded_by"]["staff_id"] == system_actor(SYSTEM)

    unknown_case = _supplemented("370285101295-20260101-9999")
    forged_source = _supplemented(number, source="/daiban/n370285101000/intake")
    outside = _pushed(
        ComplaintFiled(
            complaint_id="c-1",
            org="370285102001",
            target="window",
            target_ref="3",
            summary="窗口无人",
            filed_at=datetime.now(UTC),
        ),
        subject="c-1",
        org="370285102001",
    )
    not_an_event = {"id": "x-1", "type": "daiban.case.supplemented.v1"}
    results = await _push(intake, token, valid, unknown_case, forged_source, outside, not_an_event)
    assert [r["result"] for r in results] == ["duplicate", "refused", "refused", "refused", "refused"]
    assert [r["field"] for r in results[1:]] == ["data.case_number", "source", "org", "source"]
    assert results[1]["reason"] == "办件不存在"
    assert results[4]["id"] == "x-1" and {e["field"] for e in results[4]["errors"]} >= {"time", "org", "data"}
    # Nothing changed for the duplicate or the refused ones.
    assert len(await emitted(intake.runtime, "daiban.case.supplemented.v1")) == 1
    assert await emitted(intake.runtime, "daiban.complaint.filed.v1") == []

    # The audit log records intake's event once, with the system as actor.
    auditor = bearer(intake.settings, Role.auditor, org=TOWNSHIP)
    async with running("audit", intake.settings) as audit:

        async def logged() -> list[dict[str, Any]] | None:
            params: dict[str, str | int] = {"actor": system_actor(SYSTEM), "limit": 100}
            items = (await audit.client.get("/v1/audit/entries", params=params, headers=auditor)).json()[
                "items"
            ]
            return items or None

        entries = await eventually(logged)
    assert isinstance(entries, list)
    assert [(e["type"], e["subject"]) for e in entries] == [("daiban.case.supplemented.v1", number)]

    # A rating before handover: the evaluation command's own rule refuses it.
    rating = CaseEvaluated(
        case_number=number,
        accepting_org=VILLAGE,
        level=EvaluationLevel.satisfied,
        evaluated_at=datetime.now(UTC),
    )
    [early] = await _push(intake, token, _pushed(rating, subject=number, org=VILLAGE))
    assert (early["result"], early["field"], early["reason"]) == (
        "refused",
        "data.case_number",
        "办理结果送达后才能评价",
    )

    # Already supplemented: the command's own rule refuses a second supplement with a new id.
    [again] = await _push(intake, token, _supplemented(number))
    assert again["result"] == "refused" and again["field"] == "data.case_number"
    assert again["reason"] == "该办件当前没有待补正或待补交的材料"


async def test_http_batch_as_a_whole_and_tokens(intake: Intake) -> None:
    token = await _register(intake, types=["daiban.complaint.filed.v1"])
    auth = {"Authorization": f"Bearer {token}"}
    not_array = await intake.client.post("/v1/ingress/events", json={"id": "1"}, headers=auth)
    assert not_array.status_code == 422 and not_array.json()["errors"][0]["field"] == "body"
    too_many = await intake.client.post("/v1/ingress/events", json=[{}] * 101, headers=auth)
    assert too_many.status_code == 413
    text = await intake.client.post(
        "/v1/ingress/events", content=b"[]", headers={**auth, "Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    staff_jwt = await intake.client.post("/v1/ingress/events", json=[], headers=bearer(intake.settings))
    assert staff_jwt.status_code == 401

    number = await _waiting_for_supplement(intake)
    [not_allowed] = await _push(intake, token, _supplemented(number))
    assert not_allowed["field"] == "type"

    admin = bearer(intake.settings, Role.admin, org=TOWNSHIP)
    # Another township's systems are registered at the node that serves it.
    county_admin = bearer(intake.settings, Role.admin, org="370285000000")
    elsewhere = {"system": "liuhe-hall", "township": OTHER_TOWNSHIP, "name": "店埠镇大厅系统"}
    refused = await intake.client.post("/v1/systems", json=elsewhere, headers=county_admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "township"
    listed = (await intake.client.get("/v1/systems", headers=admin)).json()["items"]
    assert [s["system"] for s in listed] == [SYSTEM] and "token" not in listed[0]
    other_admin = bearer(intake.settings, Role.admin, org=OTHER_TOWNSHIP)
    assert (await intake.client.get("/v1/systems", headers=other_admin)).json()["items"] == []
    assert (await intake.client.delete(f"/v1/systems/{SYSTEM}", headers=other_admin)).status_code == 404
    revoked = await intake.client.delete(f"/v1/systems/{SYSTEM}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = await intake.client.post("/v1/ingress/events", json=[], headers=auth)
    assert after.status_code == 401


async def test_nats_valid_duplicate_and_dead_lettered_events(intake: Intake) -> None:
    token = await _register(intake)
    number = await _waiting_for_supplement(intake)

    valid = _supplemented(number)
    await _publish_ingress(intake, valid)
    await _status_becomes(intake, number, "in_review")
    [event] = await emitted(intake.runtime, "daiban.case.supplemented.v1")
    assert event.actor == system_actor(SYSTEM)

    # The same event again over NATS (past the broker's dedupe: another Nats-Msg-Id), and over
    # HTTP: applied once.
    await _publish_ingress(intake, valid, msg_id=f"{valid.id}-resent")
    [over_http] = await _push(intake, token, valid)
    assert over_http["result"] == "duplicate"

    # A complaint pushed over HTTP first, then the same over NATS: one complaint.
    complaint = _pushed(
        ComplaintFiled(
            complaint_id="hall-c-7",
            org=VILLAGE,
            target="case",
            case_number=number,
            summary="补正材料来回跑了两趟",
            filed_at=datetime.now(UTC),
        ),
        subject=number,
        org=VILLAGE,
    )
    [filed] = await _push(intake, token, complaint)
    assert filed["result"] == "accepted"
    await _publish_ingress(intake, complaint)

    # Invalid ones land in the dead letters with the reason; the consumer reads the stream in
    # order, so once the last is parked, the duplicates before it were handled too.
    unregistered = _supplemented(number, source=system_source("forged-hall"))
    await _publish_ingress(intake, unregistered, system="forged-hall")
    wrong_source = _supplemented(number, source="/daiban/n370285101000/intake")
    await _publish_ingress(intake, wrong_source)
    assert "forged-hall未登记或已停用" in await _parked(intake, unregistered.id)
    assert "事件来源应为/systems/jiangshan-hall" in await _parked(intake, wrong_source.id)

    # A resent supplement that got past the inbox would have been refused by the command (the
    # case no longer waits) and parked: only the two invalid ones are.
    dead = intake.runtime.tables.dead_letters
    async with intake.runtime.engine.connect() as conn:
        parked = set((await conn.execute(select(dead.c.event_id))).scalars())
    assert parked == {unregistered.id, wrong_source.id}
    assert len(await emitted(intake.runtime, "daiban.case.supplemented.v1")) == 1
    [complained] = await emitted(intake.runtime, "daiban.complaint.filed.v1")
    assert complained.actor == system_actor(SYSTEM) and complained.data["case_number"] == number
    assert await _inbox_rows(intake, valid.id) == 1
    assert await _inbox_rows(intake, complaint.id) == 1
    assert await _inbox_rows(intake, wrong_source.id) == 0

    # Revoked: what it still pushes over NATS is refused at once.
    admin = bearer(intake.settings, Role.admin, org=TOWNSHIP)
    assert (await intake.client.delete(f"/v1/systems/{SYSTEM}", headers=admin)).status_code == 200
    late = _pushed(
        ComplaintFiled(
            complaint_id="hall-c-8",
            org=VILLAGE,
            target="window",
            target_ref="2",
            summary="态度差",
            filed_at=datetime.now(UTC),
        ),
        subject="hall-c-8",
        org=VILLAGE,
    )
    await _publish_ingress(intake, late)
    assert "jiangshan-hall未登记或已停用" in await _parked(intake, late.id)
