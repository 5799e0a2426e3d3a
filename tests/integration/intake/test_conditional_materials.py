"""Conditional materials of JF-00401 (最低生活保障审核确认) as the demo catalogue has them: M05 残疾人证
"家庭成员中有残疾人的" (fetched by the window) and M06 医院诊断证明或病历 "因病致困申请的"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from daiban_catalogue.seed.catalogue import load_demo_catalogue
from daiban_contracts.catalogue import ItemStatus, ItemVersionData
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import application, bearer, emitted, keyed, publish_item

pytestmark = pytest.mark.integration

ITEM = "JF-00401-001-370285000000-01"
# Everything JF-00401 asks of every applicant: M01-M04 (none fetched by the window).
ALWAYS = [
    {"code": "M01", "form": "original", "copies": 1},
    {"code": "M02", "form": "copy", "copies": 1},
    {"code": "M03", "form": "original", "copies": 1},
    {"code": "M04", "form": "original", "copies": 1},
]


def _demo_version() -> ItemVersionData:
    [draft] = [d for d in load_demo_catalogue().drafts if d.implementation_code == ITEM]
    return ItemVersionData(
        **draft.model_dump(),
        name_pinyin="zuidishenghuobaozhangshenhequeren",
        name_initials="zdshbzshqr",
        version=1,
        status=ItemStatus.published,
        effective_date=date.today() - timedelta(days=1),
        published_at=datetime.now(UTC),
    )


async def _apply(intake: Intake, **fields: Any) -> dict[str, Any]:
    """Apply for JF-00401: a notice, which a retry with the same key replays byte for byte."""
    await publish_item(intake.settings, intake.runtime, _demo_version())
    body = application(item_code=ITEM, **fields)
    key = keyed(bearer(intake.settings))
    response = await intake.client.post("/v1/applications", json=body, headers=key)
    assert response.status_code == 422, response.text
    again = await intake.client.post("/v1/applications", json=body, headers=key)
    assert (again.status_code, again.content) == (422, response.content)
    return dict(response.json())


async def test_a_claimed_condition_whose_material_is_missing_is_on_the_notice(intake: Intake) -> None:
    problem = await _apply(intake, materials=ALWAYS, conditions_met=["M05", "M06"])

    assert problem["type"] == "/problems/one-time-notice"
    assert [e["field"] for e in problem["errors"]] == ["materials"]
    [issue] = problem["notice"]["issues"]
    assert (issue["material_code"], issue["problem"]) == ("M06", "missing")
    # M05 is claimed too, but 残疾人证 is fetched by the window; both claimed: nothing to remind of.
    assert problem["notice"]["conditional"] == []
    # The event says what the applicant claimed, for whoever counts notices upstream.
    [event] = await emitted(intake.runtime, "daiban.notice.issued.v1")
    assert (event.data["conditions_met"], event.data["reminders"]) == (["M05", "M06"], [])


async def test_unclaimed_conditional_materials_are_on_the_notice_with_their_conditions(
    intake: Intake,
) -> None:
    agent = bearer(intake.settings)
    problem = await _apply(intake, materials=ALWAYS[:3])  # M04 missing, nothing claimed

    assert [e["field"] for e in problem["errors"]] == ["materials"]
    assert "另有2项材料视情形提交" in problem["detail"]
    conditional = {c["material_code"]: c for c in problem["notice"]["conditional"]}
    assert set(conditional) == {"M05", "M06"}
    assert conditional["M05"]["condition"] == "家庭成员中有残疾人的"
    assert conditional["M05"]["fetched_by_window"] is True
    assert conditional["M06"] == conditional["M06"] | {
        "condition": "因病致困申请的",
        "required_form": "copy",
        "required_form_label": "复印件",
        "required_copies": 1,
        "note": "如：因病致困申请的，还需提交医院诊断证明或病历（复印件1份）",
    }

    # The event carries the reminders as the notice prints them; nothing was claimed.
    [event] = await emitted(intake.runtime, "daiban.notice.issued.v1")
    assert event.data["conditions_met"] == []
    reminded = {r["material_code"]: r for r in event.data["reminders"]}
    assert reminded["M06"]["note"] == conditional["M06"]["note"]
    assert reminded["M05"]["fetched_by_window"] is True

    # The kept notice and its printable page say the same.
    number = problem["notice_number"]
    kept = (await intake.client.get(f"/v1/notices/{number}", headers=agent)).json()
    assert kept["conditional"] == problem["notice"]["conditional"]
    page = (await intake.client.get(f"/v1/notices/{number}.html", headers=agent)).text
    assert "按情形提交的材料" in page
    assert "如：家庭成员中有残疾人的，请告知窗口，残疾人证由窗口调取，无需自备" in page
    assert "如：因病致困申请的，还需提交医院诊断证明或病历（复印件1份）" in page


async def test_a_claim_must_name_a_conditional_material_of_the_item(intake: Intake) -> None:
    await publish_item(intake.settings, intake.runtime, _demo_version())
    response = await intake.client.post(
        "/v1/applications",
        json=application(item_code=ITEM, materials=ALWAYS, conditions_met=["M06", "M02", "M09"]),
        headers=keyed(bearer(intake.settings)),
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["conditions_met[1]", "conditions_met[2]"]


async def test_with_a_claimed_condition_met_the_case_is_accepted_and_retries_replay(intake: Intake) -> None:
    await publish_item(intake.settings, intake.runtime, _demo_version())
    body = application(
        item_code=ITEM,
        materials=[*ALWAYS, {"code": "M06", "form": "copy", "copies": 1}],
        conditions_met=["M06"],
    )
    key = keyed(bearer(intake.settings))
    first = await intake.client.post("/v1/applications", json=body, headers=key)
    assert first.status_code == 201, first.text
    again = await intake.client.post("/v1/applications", json=body, headers=key)
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    other = await intake.client.post("/v1/applications", json={**body, "conditions_met": []}, headers=key)
    assert other.status_code == 409
    # The case keeps what was claimed, and routing learns it with the case.
    number = first.json()["case_number"]
    case = (await intake.client.get(f"/v1/cases/{number}", headers=bearer(intake.settings))).json()
    assert case["conditions_met"] == ["M06"]
    [event] = await emitted(intake.runtime, "daiban.case.accepted.v1")
    assert event.data["case"]["conditions_met"] == ["M06"]
