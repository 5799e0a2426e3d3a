"""Acceptance against the replica: one-time notices, deficiencies, on-the-spot conclusion, retries."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from daiban_common.auth import Role
from daiban_common.calendar import default_calendar, today_in_shanghai
from daiban_contracts.catalogue import ItemStatus
from daiban_intake.models import Case, OneTimeNotice
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import (
    APPLICANT_ID,
    APPLICANT_PHONE,
    IMMEDIATE_ITEM,
    PROMISED_ITEM,
    TOWNSHIP,
    application,
    bearer,
    emitted,
    item,
    keyed,
    publish_item,
)

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def _count(intake: Intake, table: type[Case] | type[OneTimeNotice]) -> int:
    async with intake.runtime.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_missing_and_wrong_materials_get_one_notice_listing_every_one(intake: Intake) -> None:
    agent = bearer(intake.settings)
    body = application(materials=[{"code": "M01", "form": "copy", "copies": 1}])  # M02, M03 missing
    key = keyed(agent)
    response = await intake.client.post("/v1/applications", json=body, headers=key)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["type"] == "/problems/one-time-notice", problem["errors"]
    issues = {i["material_code"]: i for i in problem["notice"]["issues"]}
    assert set(issues) == {"M01", "M02", "M03"}  # M04 is fetched by the window, M05 is conditional
    assert issues["M01"]["problem"] == "wrong_form"
    assert issues["M01"]["required_form_label"] == "原件"
    assert issues["M02"] == issues["M02"] | {
        "problem": "missing",
        "required_form": "copy",
        "required_copies": 2,
    }
    # Each error points into the request: the entry in the wrong form, the list the others lack.
    assert [e["field"] for e in problem["errors"]] == ["materials[0].form", "materials", "materials"]
    number = problem["notice_number"]
    assert number.startswith("370285101295-") and "-G" in number

    # The notice is kept, printable, and counted by its event, committed with it.
    kept = await intake.client.get(f"/v1/notices/{number}", headers=agent)
    assert kept.status_code == 200
    assert kept.json()["applicant_name"] == "王秀英"
    page = await intake.client.get(f"/v1/notices/{number}.html", headers=agent)
    assert page.headers["content-type"].startswith("text/html")
    assert "一次性告知书" in page.text and "居民身份证" in page.text
    events = await emitted(intake.runtime, "daiban.notice.issued.v1")
    assert [e.subject for e in events] == [number]
    assert events[0].org == "370285101295"
    assert {i["material_code"] for i in events[0].data["issues"]} == {"M01", "M02", "M03"}

    # A retry of the same request replays the notice; it is not a second one.
    again = await intake.client.post("/v1/applications", json=body, headers=key)
    assert again.status_code == 422
    assert again.json() == problem
    assert await _count(intake, OneTimeNotice) == 1
    assert await _count(intake, Case) == 0


async def test_missing_deficiency_allowed_material_is_accepted_with_its_due_date(intake: Intake) -> None:
    agent = bearer(intake.settings)
    due = today_in_shanghai() + timedelta(days=7)
    body = application(
        materials=[
            {"code": "M01", "form": "original", "copies": 1},
            {"code": "M02", "form": "original", "copies": 2},
        ],
        deficiencies=[{"code": "M03", "due_date": due.isoformat()}],
    )
    response = await intake.client.post("/v1/applications", json=body, headers=keyed(agent))

    assert response.status_code == 201, response.text
    accepted = response.json()
    number = accepted["case_number"]
    assert response.headers["location"] == f"/v1/cases/{number}"
    assert number.startswith(f"370285101295-{today_in_shanghai():%Y%m%d}-")
    expected = default_calendar().add_working_days(today_in_shanghai(), 5)
    assert accepted["promised_date"] == expected.date.isoformat()
    assert accepted["first_responder"]["name"] == "李代办"
    assert accepted["receipt"]["deficiencies"] == [
        {"code": "M03", "name": "户口簿", "due_date": due.isoformat(), "supplied_at": None}
    ]

    # The event leaves the node with the applicant masked and hashed, never in clear.
    [event] = await emitted(intake.runtime, "daiban.case.accepted.v1")
    raw = event.model_dump_json()
    assert APPLICANT_ID not in raw and APPLICANT_PHONE not in raw and "王秀英" not in raw
    assert event.data["case"]["applicant"]["id_masked"] == APPLICANT_ID[:6] + "********" + APPLICANT_ID[-4:]
    assert event.data["case"]["deficiencies"][0]["material_code"] == "M03"
    assert event.org == "370285101295" and event.actor == "agent-370285101295"

    # Promising a core material is not deficiency acceptance: it is on the notice.
    core = application(
        materials=[
            {"code": "M01", "form": "original", "copies": 1},
            {"code": "M03", "form": "copy", "copies": 1},
        ],
        deficiencies=[{"code": "M02", "due_date": due.isoformat()}],
    )
    refused = await intake.client.post("/v1/applications", json=core, headers=keyed(agent))
    assert refused.status_code == 422
    assert [i["material_code"] for i in refused.json()["notice"]["issues"]] == ["M02"]

    # The deficiency is brought in later.
    supplied = await intake.client.post(
        f"/v1/cases/{number}/supplements",
        json={"materials": [{"code": "M03", "form": "copy", "copies": 1}]},
        headers=keyed(agent),
    )
    assert supplied.status_code == 201, supplied.text
    assert supplied.json()["kind"] == "deficiency"
    assert supplied.headers["location"] == f"/v1/cases/{number}"
    detail = (await intake.client.get(f"/v1/cases/{number}", headers=agent)).json()
    assert detail["deficiencies"][0]["supplied_at"] is not None
    assert await emitted(intake.runtime, "daiban.case.deficiencies_supplied.v1")


async def test_immediate_item_is_concluded_on_the_spot_by_a_clerk_of_the_deciding_tier(
    intake: Intake,
) -> None:
    clerk = bearer(intake.settings, Role.clerk, TOWNSHIP, name="赵窗口")
    spot = {"outcome": "approved", "result": "优待证号 LX2026-0001"}
    body = application(item_code=IMMEDIATE_ITEM, org=TOWNSHIP, channel="window", on_the_spot=spot)
    response = await intake.client.post("/v1/applications", json=body, headers=keyed(clerk))

    assert response.status_code == 201, response.text
    accepted = response.json()
    assert accepted["status"] == "ready_for_handover"
    assert accepted["decision"]["result"] == "优待证号 LX2026-0001"
    assert accepted["promised_date"] == today_in_shanghai().isoformat()
    [event] = await emitted(intake.runtime, "daiban.case.accepted.v1")
    assert event.data["on_the_spot"]["result"] == "优待证号 LX2026-0001"
    assert event.data["on_the_spot"]["decided_by"]["name"] == "赵窗口"

    # The citizen collects it at once, identity checked.
    handed = await intake.client.post(
        f"/v1/cases/{accepted['case_number']}/handover",
        json={"method": "in_person", "recipient_name": "王秀英", "recipient_id_number": APPLICANT_ID},
        headers=keyed(clerk),
    )
    assert handed.status_code == 200, handed.text
    assert handed.json()["status"] == "handed_over"

    # Not at a village (the township decides), not by an agent, not for a promised item.
    for headers, org, code in (
        (bearer(intake.settings, Role.clerk, "370285101295"), "370285101295", IMMEDIATE_ITEM),
        (bearer(intake.settings, Role.agent, TOWNSHIP), TOWNSHIP, IMMEDIATE_ITEM),
        (clerk, TOWNSHIP, PROMISED_ITEM),
    ):
        refused = await intake.client.post(
            "/v1/applications",
            json=application(item_code=code, org=org, channel="window", on_the_spot=spot),
            headers=keyed(headers),
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "on_the_spot"


async def test_retries_with_the_same_key_replay_and_another_body_is_a_conflict(intake: Intake) -> None:
    agent = bearer(intake.settings)
    key = keyed(agent, "retry-0001")
    first = await intake.client.post("/v1/applications", json=application(), headers=key)
    second = await intake.client.post("/v1/applications", json=application(), headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await _count(intake, Case) == 1

    other = await intake.client.post("/v1/applications", json=application(channel="window"), headers=key)
    assert other.status_code == 409
    assert other.headers["content-type"].startswith(PROBLEM)
    assert other.json()["type"] == "/problems/idempotency-key-reused"

    missing = await intake.client.post("/v1/applications", json=application(), headers=agent)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "Idempotency-Key"
    malformed = await intake.client.post(
        "/v1/applications", json=application(), headers={**agent, "Idempotency-Key": "two words"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await _count(intake, Case) == 1


async def test_concurrent_retries_accept_once_and_answer_alike(intake: Intake) -> None:
    """Three sends of one application at once: one case, three identical answers (the advisory
    lock makes the later ones wait for the first and replay it), and one notice likewise."""
    agent = bearer(intake.settings)
    key = keyed(agent, "concurrent-0001")
    answers = await asyncio.gather(
        *(intake.client.post("/v1/applications", json=application(), headers=key) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert [a.headers.get("idempotent-replayed") for a in answers].count(None) == 1
    assert await _count(intake, Case) == 1

    incomplete = application(materials=[])
    notice_key = keyed(agent, "concurrent-0002")
    notices = await asyncio.gather(
        *(intake.client.post("/v1/applications", json=incomplete, headers=notice_key) for _ in range(2))
    )
    assert [n.status_code for n in notices] == [422, 422]
    assert notices[0].content == notices[1].content
    assert await _count(intake, OneTimeNotice) == 1


async def test_acceptance_uses_the_replica_and_cases_keep_their_version(intake: Intake) -> None:
    # No catalogue service runs in this test: the replica was fed by published events alone.
    agent = bearer(intake.settings)
    accepted = await intake.client.post("/v1/applications", json=application(), headers=keyed(agent))
    assert accepted.status_code == 201, accepted.text
    number = accepted.json()["case_number"]

    # By base code, unambiguous for the org.
    by_base = await intake.client.post(
        "/v1/applications", json=application(item_code="QR-00300-001"), headers=keyed(agent)
    )
    assert by_base.status_code == 201, by_base.text

    await publish_item(intake.settings, intake.runtime, item(version=2, status=ItemStatus.retired))
    retired = await intake.client.post("/v1/applications", json=application(), headers=keyed(agent))
    assert retired.status_code == 422
    assert retired.json()["errors"] == [
        {"field": "item_code", "message": retired.json()["errors"][0]["message"]}
    ]
    assert "废止" in retired.json()["errors"][0]["message"]

    detail = (await intake.client.get(f"/v1/cases/{number}", headers=agent)).json()
    assert detail["item"]["version"] == 1


async def test_a_new_version_is_in_force_for_the_next_acceptance(intake: Intake) -> None:
    # Acceptance keeps which versions a code names in memory; recording a version must make the
    # very next acceptance, by implementation and by base code, take the new one.
    agent = bearer(intake.settings)

    async def accepted_item(code: str) -> dict[str, object]:
        answer = await intake.client.post(
            "/v1/applications", json=application(item_code=code), headers=keyed(agent)
        )
        assert answer.status_code == 201, answer.text
        case = await intake.client.get(f"/v1/cases/{answer.json()['case_number']}", headers=agent)
        return dict(case.json()["item"])

    for code in (PROMISED_ITEM, "QR-00300-001", PROMISED_ITEM):
        assert (await accepted_item(code))["version"] == 1

    await publish_item(intake.settings, intake.runtime, item(version=2, name="困难群众临时救助申请（新版）"))
    for code in (PROMISED_ITEM, "QR-00300-001"):
        after = await accepted_item(code)
        assert (after["version"], after["name"]) == (2, "困难群众临时救助申请（新版）")


async def test_a_retry_replays_even_when_the_application_would_now_be_refused(intake: Intake) -> None:
    """The stored answer wins: a retry after the item was retired replays the receipt, not a 422
    (acceptance checks the application before it claims the key, then claims it to find out)."""
    agent = bearer(intake.settings)
    key = keyed(agent, "retry-after-retirement")
    first = await intake.client.post("/v1/applications", json=application(), headers=key)
    assert first.status_code == 201, first.text
    await publish_item(intake.settings, intake.runtime, item(version=2, status=ItemStatus.retired))
    again = await intake.client.post("/v1/applications", json=application(), headers=key)
    assert again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count(intake, Case) == 1
