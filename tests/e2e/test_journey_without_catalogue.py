"""Journey 7: with the catalogue service down, a village still accepts a township-level item from
intake's replica of the catalogue, and the township decides it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.harness import (
    Suite,
    all_pages,
    application,
    created,
    eventually,
    idempotent,
    ok,
    person,
    wait_for_replica,
)

pytestmark = pytest.mark.e2e

# 乡村建设规划许可证核发: promised (10 working days), acceptable at a village, decided by the township's
# planning office
ITEM = "XK-00705-002-370285000000-01"
VILLAGE = "370285101299"  # 三都河社区, under 姜山镇
TOWNSHIP = "370285101000"  # window 03 (规划与自然资源窗口), A post js-gh-a
A_POST = "js-gh-a"


@pytest.fixture
def catalogue_down(county: Suite) -> Suite:
    """The county node restarted without its catalogue once intake's replica holds the item (the
    `county` fixture restarts it whole for any journey that runs after this one)."""
    agent = county.token("v101299-agent", "agent", VILLAGE)
    wait_for_replica(county, agent, VILLAGE, [ITEM])
    county.restart(services=("intake", "routing", "audit"))
    return county


def test_a_township_item_is_accepted_and_decided_while_the_catalogue_is_down(
    catalogue_down: Suite,
) -> None:
    county = catalogue_down
    with httpx.Client() as probe, pytest.raises(httpx.ConnectError):
        probe.get(f"{county.url('catalogue')}/readyz", timeout=5)
    applicant = person("刘洋", 707, phone="13953200707")
    with (
        county.client("intake", county.token("v101299-agent", "agent", VILLAGE, "三都河社区代办员")) as agent,
        county.client("intake") as public,
        county.client("routing", county.token(A_POST, "clerk", TOWNSHIP)) as clerk,
    ):
        accepted = created(
            agent.post("/v1/applications", json=application(ITEM, VILLAGE, applicant), headers=idempotent())
        )
        number, code = accepted["case_number"], accepted["query_code"]
        assert accepted["receipt"]["item"]["item_code"] == ITEM
        assert accepted["receipt"]["item"]["promised_working_days"] == 10

        def progress() -> dict[str, Any]:
            body: dict[str, Any] = ok(
                public.get(f"/v1/public/progress/{number}", params={"query_code": code})
            )
            return body

        def task() -> dict[str, Any] | None:
            tasks = all_pages(clerk, "/v1/tasks", org=TOWNSHIP, staff_id=A_POST)
            return next((t for t in tasks if t["case_number"] == number), None)

        given = eventually(task)
        where = (given["department"], given["window"], given["post"])
        assert where == ("township.planning_construction", "03", "a")
        assert progress()["holding_org"] == TOWNSHIP
        ok(
            clerk.post(
                f"/v1/tasks/{given['id']}/decide",
                json={"decision": "approve", "result": "乡字第370285202600099号"},
            )
        )
        ready = eventually(lambda: progress()["status"] == "ready_for_handover" and progress())
        assert ready["holding_org"] == VILLAGE and ready["outcome"] == "approved"
