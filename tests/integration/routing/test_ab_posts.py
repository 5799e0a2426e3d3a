"""AB岗: only a task's holder acts on it; the B post takes over while the A post is away, and a
supervisor may reassign; each change of holder and each claim is an event. Only staff members of
the directory act at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from daiban_common.settings import Settings
from daiban_contracts.catalogue import Tier
from tests.integration.routing.helpers import (
    COUNTY,
    accept,
    accepted,
    bearer,
    events_of,
    is_problem,
    item,
    keyed,
    published,
    route_when,
    seeded_routing,
)
from tests.servers import Network

pytestmark = pytest.mark.integration

# Window 01 of the county centre (civil affairs): A post 赵敏, B post 钱立新.
A_POST, B_POST = "county-clerk", "county-approver"
APPROVE = {"decision": "approve", "result": "证书编号 LX2026-0101"}


async def _task(settings: Settings, client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    """A new case of the county's civil affairs, assigned to the A post of window 01."""
    number, payload = accepted(item(Tier.county, "county.civil_affairs"), at=COUNTY)
    await accept(settings, payload)
    supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
    route = await route_when(client, supervisor, number, lambda r: bool(r["tasks"]))
    task: dict[str, Any] = route["tasks"][0]
    assert (task["staff_id"], task["post"]) == (A_POST, "a")
    return number, task


async def test_the_b_post_may_not_act_on_a_task_the_a_post_holds_while_at_work(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        a_post = bearer(settings, A_POST, "clerk", COUNTY, "赵敏")
        b_post = bearer(settings, B_POST, "approver", COUNTY, "钱立新")
        number, task = await _task(settings, client)
        path = f"/v1/tasks/{task['id']}"

        # Assigned to the A post, not yet claimed: the B post can neither claim nor decide it.
        body = is_problem(await client.post(f"{path}/decide", json=APPROVE, headers=b_post), 409)
        assert "赵敏" in body["detail"] and "只有承办人" in body["detail"]
        is_problem(await client.post(f"{path}/claim", headers=b_post), 409)

        claimed = await client.post(f"{path}/claim", headers=a_post)
        assert claimed.status_code == 200, claimed.text
        assert (claimed.json()["status"], claimed.json()["staff_id"]) == ("in_review", A_POST)
        (event,) = await published(settings, number, "case.task_claimed")
        assert event.actor == A_POST and event.data["claimed_by"]["staff_id"] == A_POST
        assert event.data["task_id"] == task["id"] and event.data["window"] == "01"

        # Claimed by the A post, who is at work: still refused to the B post, and nothing changed.
        body = is_problem(await client.post(f"{path}/decide", json=APPROVE, headers=b_post), 409)
        assert "只有承办人" in body["detail"]
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        route = (await client.get(f"/v1/cases/{number}/route", headers=supervisor)).json()
        assert route["outcome"] is None and route["tasks"][0]["staff_id"] == A_POST
        assert await events_of(settings, number, "case.task_taken_over") == []

        decided = await client.post(f"{path}/decide", json=APPROVE, headers=a_post)
        assert decided.status_code == 200, decided.text
        assert decided.json()["decided_by"]["staff_id"] == A_POST


async def test_the_b_post_takes_over_a_claimed_task_while_the_a_post_is_on_leave(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        a_post = bearer(settings, A_POST, "clerk", COUNTY, "赵敏")
        b_post = bearer(settings, B_POST, "approver", COUNTY, "钱立新")
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        number, task = await _task(settings, client)
        path = f"/v1/tasks/{task['id']}"
        assert (await client.post(f"{path}/claim", headers=a_post)).status_code == 200

        now = datetime.now(UTC)
        leave = {
            "on_duty": True,
            "absent_from": (now - timedelta(minutes=5)).isoformat(),
            "absent_until": (now + timedelta(days=2)).isoformat(),
            "reason": "病假",
        }
        response = await client.put(f"/v1/staff/{A_POST}/duty", json=leave, headers=supervisor)
        assert response.status_code == 200, response.text

        decided = await client.post(f"{path}/decide", json=APPROVE, headers=b_post)
        assert decided.status_code == 200, decided.text
        assert (decided.json()["staff_id"], decided.json()["post"]) == (B_POST, "b")
        assert decided.json()["decided_by"]["staff_id"] == B_POST

        (event,) = await published(settings, number, "case.task_taken_over")
        assert event.actor == B_POST and event.org == COUNTY
        assert event.data["from_staff_id"] == A_POST
        assert event.data["to_staff"] == {"staff_id": B_POST, "name": "钱立新", "org": COUNTY}
        assert event.data["reason"] == "holder_absent"
        assert "病假" not in event.to_bytes().decode()  # the reason of an absence stays private
        # Taken over, not claimed again: the one claim is the A post's.
        (claim,) = await published(settings, number, "case.task_claimed")
        assert claim.data["claimed_by"]["staff_id"] == A_POST
        route = await route_when(client, supervisor, number, lambda r: r["outcome"] == "approved")
        assert any(line["kind"] == "taken_over" and "钱立新" in line["text"] for line in route["timeline"])


async def test_a_supervisor_reassigns_a_task_within_its_window(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        a_post = bearer(settings, A_POST, "clerk", COUNTY, "赵敏")
        number, task = await _task(settings, client)
        path = f"/v1/tasks/{task['id']}/reassign"

        # Only to someone of the task's window, and only by a supervisor.
        other = is_problem(await client.post(path, json={"staff_id": "lx-ga-a"}, headers=supervisor), 422)
        assert other["errors"][0]["field"] == "staff_id"
        is_problem(await client.post(path, json={"staff_id": B_POST}, headers=a_post), 403)
        is_problem(await client.post(path, json={"staff_id": A_POST}, headers=supervisor), 409)

        moved = await client.post(path, json={"staff_id": B_POST}, headers=supervisor)
        assert moved.status_code == 200, moved.text
        assert (moved.json()["staff_id"], moved.json()["post"]) == (B_POST, "b")
        (event,) = await published(settings, number, "case.task_taken_over")
        assert event.actor == "county-supervisor"
        assert (event.data["from_staff_id"], event.data["to_staff"]["staff_id"]) == (A_POST, B_POST)
        assert event.data["reason"] == "reassigned"

        # The A post no longer holds it; the B post now decides.
        is_problem(await client.post(f"/v1/tasks/{task['id']}/claim", headers=a_post), 409)
        b_post = bearer(settings, B_POST, "approver", COUNTY, "钱立新")
        decided = await client.post(f"/v1/tasks/{task['id']}/decide", json=APPROVE, headers=b_post)
        assert decided.status_code == 200, decided.text


async def test_only_staff_members_of_the_directory_act(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        number, task = await _task(settings, client)
        path = f"/v1/tasks/{task['id']}"
        stranger = bearer(settings, "not-in-directory", "clerk", COUNTY, "冒名者")
        # A staff member of the directory (at 姜山镇), with a token of an org unit they do not work at.
        elsewhere = bearer(settings, "township-clerk", "clerk", COUNTY, "沈玉兰")
        for headers in (stranger, elsewhere):
            for response in (
                await client.post(f"{path}/claim", headers=headers),
                await client.post(f"{path}/decide", json=APPROVE, headers=headers),
            ):
                body = is_problem(response, 403)
                assert body["type"] == "/problems/not-in-directory"
                assert "人员目录" in body["detail"]
        ghost = bearer(settings, "ghost-supervisor", "supervisor", COUNTY, "冒名者")
        extension = {"extra_working_days": 2, "reason": "需会商"}
        response = await client.post(f"/v1/cases/{number}/extension", json=extension, headers=keyed(ghost))
        assert is_problem(response, 403)["type"] == "/problems/not-in-directory"
        reassign = await client.post(f"{path}/reassign", json={"staff_id": "county-approver"}, headers=ghost)
        assert is_problem(reassign, 403)["type"] == "/problems/not-in-directory"
        assert await events_of(settings, number, "case.task_claimed") == []
