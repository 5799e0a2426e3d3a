"""A claim at the deciding window reaches the citizen: intake's public progress shows 审查中.

Intake and routing of one node, on the real bus: routing announces the claim
(`daiban.case.task_claimed.v1`) and intake's progress consumer moves the case on.
"""

from __future__ import annotations

import pytest

from daiban_routing.service import SERVICE as ROUTING
from tests.integration.intake.helpers import accept_once_known, item, progress_when, publish_item
from tests.integration.routing.helpers import bearer
from tests.servers import Network, running

pytestmark = pytest.mark.integration

COUNTY = "370285000000"
TOWNSHIP = "370285101000"  # 姜山镇: the item's civil affairs are decided at its window 01
VILLAGE = "370285101294"  # 姜山社区, in routing's demo directory


async def test_a_claimed_task_shows_as_in_review_on_public_progress(network: Network) -> None:
    settings = await network.node(COUNTY)
    async with running("intake", settings) as intake, running("routing", settings) as routing:
        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)
        await publish_item(settings, intake.runtime, item())
        agent = bearer(settings, "js-294-agent", "agent", VILLAGE, "许春花")

        receipt = await accept_once_known(intake.client, agent, VILLAGE)
        number = receipt["case_number"]
        await progress_when(intake.client, receipt, lambda shown: bool(shown["status"] == "assigned"))
        clerk = bearer(settings, "township-clerk", "clerk", TOWNSHIP, "沈玉兰")
        tasks = (
            await routing.client.get("/v1/tasks", params={"staff_id": "township-clerk"}, headers=clerk)
        ).json()
        task = next(t for t in tasks["items"] if t["case_number"] == number)
        claimed = await routing.client.post(f"/v1/tasks/{task['id']}/claim", headers=clerk)
        assert claimed.status_code == 200, claimed.text

        shown = await progress_when(
            intake.client, receipt, lambda shown: bool(shown["status"] == "in_review")
        )
        assert shown["status_label"] == "审查中" and shown["holding_org"] == TOWNSHIP
        stage = shown["stages"][-1]
        assert (stage["stage"], stage["label"], stage["org"]) == ("in_review", "审查中", TOWNSHIP)
        assert "沈玉兰" not in str(shown)  # who reviews is not for the public
