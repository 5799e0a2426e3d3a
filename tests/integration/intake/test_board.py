"""A hall's progress board, public and without a token: the cases of a service point and the points
below it, counted by status, with masked numbers and nothing personal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from daiban_common.auth import Role
from daiban_contracts.case import MaterialIssue, StaffRef
from daiban_contracts.routing import SupplementRequested
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import (
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    IMMEDIATE_ITEM,
    OTHER_TOWNSHIP,
    TOWNSHIP,
    VILLAGE,
    application,
    bearer,
    emitted,
    forwarded_and_assigned,
    keyed,
    publish,
)
from tests.servers import eventually

pytestmark = pytest.mark.integration

OTHER_VILLAGE = "370285101294"  # 姜山社区, beside VILLAGE under the same township
PROBLEM = "application/problem+json"


async def _accept(intake: Intake, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await intake.client.post("/v1/applications", json=application(**body), headers=keyed(headers))
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _counts(board: dict[str, Any]) -> dict[str, int]:
    return {s["status"]: s["count"] for s in board["stages"] if s["count"]}


async def _board_when(intake: Intake, org: str, counts: dict[str, int], **params: Any) -> dict[str, Any]:
    """The board of `org` once routing's events (which travel asynchronously) show `counts`."""

    async def shown() -> dict[str, Any] | None:
        response = await intake.client.get(f"/v1/public/boards/{org}", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if _counts(body) == counts else None

    found = await eventually(shown)
    assert isinstance(found, dict)
    return found


async def test_a_board_shows_its_points_cases_by_status_and_nothing_personal(intake: Intake) -> None:
    agent = bearer(intake.settings, name="李代办")
    clerk = bearer(intake.settings, Role.clerk, TOWNSHIP, name="赵窗口")
    waiting = await _accept(intake, agent)
    carried = await _accept(intake, agent)
    returned = await _accept(intake, agent)
    elsewhere = await _accept(intake, bearer(intake.settings, org=OTHER_VILLAGE), org=OTHER_VILLAGE)
    spot = {"outcome": "approved", "result": "优待证号 LX2026-0001"}
    on_the_spot = {"item_code": IMMEDIATE_ITEM, "org": TOWNSHIP, "channel": "window", "on_the_spot": spot}
    collected = await _accept(intake, clerk, **on_the_spot)
    uncollected = await _accept(intake, clerk, **on_the_spot)
    handover = {"method": "in_person", "recipient_name": APPLICANT_NAME, "recipient_id_number": APPLICANT_ID}
    handed = await intake.client.post(
        f"/v1/cases/{collected['case_number']}/handover", json=handover, headers=keyed(clerk)
    )
    assert handed.status_code == 200, handed.text

    [accepted] = [
        e
        for e in await emitted(intake.runtime, "daiban.case.accepted.v1")
        if e.subject == carried["case_number"]
    ]
    await forwarded_and_assigned(intake.settings, carried["case_number"], accepted.data["case"])
    await publish(
        intake.settings,
        SupplementRequested(
            case_number=returned["case_number"],
            accepting_org=VILLAGE,
            org=TOWNSHIP,
            issues=(
                MaterialIssue(
                    material_code="M02",
                    material_name="居民身份证",
                    problem="invalid",
                    required_form="copy",
                    required_copies=2,
                ),
            ),
            requested_by=StaffRef(staff_id="approver-1", name="孙审批", org=TOWNSHIP),
            requested_at=datetime.now(UTC),
        ),
        org=TOWNSHIP,
        subject=returned["case_number"],
    )

    village = await _board_when(intake, VILLAGE, {"accepted": 1, "assigned": 1, "supplement_requested": 1})
    assert (village["org_name"], village["org_tier_label"]) == ("垛埠社区村村民委员会", "村（社区）")
    assert village["open_total"] == 3 and village["concluded_total"] == 0 and village["concluded"] == []
    assert [s["status"] for s in village["stages"]][:3] == ["accepted", "forwarded", "received"]
    assert {c["status"] for c in village["open"]} == {"accepted", "assigned", "supplement_requested"}
    moved = [c["moved_at"] for c in village["open"]]
    assert moved == sorted(moved, reverse=True)
    sequence = waiting["case_number"].rsplit("-", 1)[1]
    assert f"{VILLAGE}-********-{sequence}" in {c["masked_case_number"] for c in village["open"]}
    assigned = next(c for c in village["open"] if c["status"] == "assigned")
    assert (assigned["holding_org"], assigned["holding_org_name"]) == (TOWNSHIP, "姜山镇")
    assert assigned["status_label"] == "已分派承办" and assigned["item_name"]

    other = (await intake.client.get(f"/v1/public/boards/{OTHER_VILLAGE}")).json()
    assert _counts(other) == {"accepted": 1} and other["open"][0]["accepting_org"] == OTHER_VILLAGE

    township = await _board_when(
        intake,
        TOWNSHIP,
        {"accepted": 2, "assigned": 1, "supplement_requested": 1, "ready_for_handover": 1},
        limit=2,
    )
    assert township["open_total"] == 5 and len(township["open"]) == 2
    assert township["concluded_total"] == 1
    [done] = township["concluded"]
    assert (done["status"], done["outcome_label"], done["accepting_org"]) == (
        "handed_over",
        "准予办理",
        TOWNSHIP,
    )

    response = await intake.client.get(f"/v1/public/boards/{TOWNSHIP}")
    assert response.headers["cache-control"] == "public, max-age=10"
    everything = [waiting, carried, returned, elsewhere, collected, uncollected]
    personal = [APPLICANT_NAME, APPLICANT_ID, APPLICANT_PHONE, "李代办", "赵窗口", "孙审批", "LX2026-0001"]
    for secret in personal + [c["query_code"] for c in everything] + [c["case_number"] for c in everything]:
        assert secret not in response.text, secret


@pytest.mark.parametrize(
    ("org", "params", "status", "field"),
    [
        (OTHER_TOWNSHIP, {}, 404, None),  # another node's township
        ("370285101999", {}, 404, None),  # a well-formed code the directory lacks
        ("12345", {}, 422, "org"),
        (TOWNSHIP, {"limit": 0}, 422, "limit"),
        (TOWNSHIP, {"limit": 101}, 422, "limit"),
        (TOWNSHIP, {"concluded_days": 31}, 422, "concluded_days"),
        (TOWNSHIP, {"status": "accepted"}, 422, "status"),
    ],
)
async def test_a_board_refuses_what_it_does_not_serve(
    intake: Intake, org: str, params: dict[str, Any], status: int, field: str | None
) -> None:
    response = await intake.client.get(f"/v1/public/boards/{org}", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
