"""Journey 5: the A post of the deciding window is on leave, so the B post gets the task (AB岗)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.harness import (
    COUNTY,
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

ITEM = "JF-00403-001-370285000000-01"  # 临时救助: promised, decided by the township's civil affairs
VILLAGE = "370285102254"  # 刘家疃社区, under 夏格庄镇
TOWNSHIP = "370285102000"  # 夏格庄镇: window 01, A post xgz-mz-a (秦月), B post xgz-mz-b (尤志刚)
A_POST, B_POST = "xgz-mz-a", "xgz-mz-b"


@pytest.fixture
def a_post_on_leave(county: Suite) -> Iterator[httpx.Client]:
    """The A post on leave for the day, as the centre's administrator records it; back on duty after."""
    with county.client("routing", county.token("county-admin", "admin", COUNTY, "县中心管理员")) as admin:
        now = datetime.now(UTC)
        leave = {
            "on_duty": True,
            "absent_from": (now - timedelta(hours=1)).isoformat(),
            "absent_until": (now + timedelta(hours=8)).isoformat(),
            "reason": "年休假",
        }
        ok(admin.put(f"/v1/staff/{A_POST}/duty", json=leave))
        try:
            yield admin
        finally:
            ok(admin.put(f"/v1/staff/{A_POST}/duty", json={"on_duty": True}))


def test_the_b_post_gets_the_task_while_the_a_post_is_away(
    county: Suite, a_post_on_leave: httpx.Client
) -> None:
    agent_token = county.token("v102254-agent", "agent", VILLAGE, "刘家疃社区代办员")
    wait_for_replica(county, agent_token, VILLAGE, [ITEM])
    with (
        county.client("intake", agent_token) as agent,
        county.client("intake") as public,
        county.client("routing", county.token(B_POST, "approver", TOWNSHIP, "尤志刚")) as b_post,
        county.client("routing", county.token(A_POST, "clerk", TOWNSHIP, "秦月")) as a_post,
    ):
        body = application(ITEM, VILLAGE, person("周建华", 505, phone="13953200505"))
        accepted = created(agent.post("/v1/applications", json=body, headers=idempotent()))
        number, code = accepted["case_number"], accepted["query_code"]

        def task() -> dict[str, Any] | None:
            tasks = all_pages(b_post, "/v1/tasks", org=TOWNSHIP, staff_id=B_POST)
            return next((t for t in tasks if t["case_number"] == number), None)

        given = eventually(task)
        assert (given["window"], given["post"], given["status"]) == ("01", "b", "assigned")
        # The A post, away, has nothing of it; the B post decides it.
        a_tasks = all_pages(a_post, "/v1/tasks", org=TOWNSHIP, staff_id=A_POST)
        assert all(t["case_number"] != number for t in a_tasks)
        ok(b_post.post(f"/v1/tasks/{given['id']}/claim"))
        decided = ok(
            b_post.post(
                f"/v1/tasks/{given['id']}/decide",
                json={"decision": "approve", "result": "临时救助金 1500 元，已发放"},
            )
        )
        assert decided["decided_by"]["staff_id"] == B_POST

        def ready() -> dict[str, Any] | None:
            shown: dict[str, Any] = ok(
                public.get(f"/v1/public/progress/{number}", params={"query_code": code})
            )
            return shown if shown["status"] == "ready_for_handover" else None

        shown = eventually(ready)
        assert shown["holding_org"] == VILLAGE and shown["outcome"] == "approved"
        route = ok(b_post.get(f"/v1/cases/{number}/route"))
        assert any("B岗" in line["text"] for line in route["timeline"] if line["kind"] == "assigned")
