"""Work at the deciding org: AB posts, joint items, pauses, supplements and the moving deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from daiban_common.calendar import default_calendar, to_shanghai_date
from daiban_contracts.case import CaseSupplemented
from daiban_contracts.catalogue import ItemKind, SpecialProcedure, Tier
from daiban_routing.models import PauseRecord
from tests.integration.routing.helpers import (
    AGENT,
    COUNTY,
    VILLAGE,
    accept,
    accepted,
    bearer,
    events_of,
    is_problem,
    item,
    publish,
    published,
    route_when,
    seeded_routing,
)
from tests.servers import Network, eventually

pytestmark = pytest.mark.integration


async def test_the_b_post_takes_the_task_when_the_a_post_is_on_leave(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        now = datetime.now(UTC)
        leave = {
            "on_duty": True,
            "absent_from": (now - timedelta(hours=1)).isoformat(),
            "absent_until": (now + timedelta(days=3)).isoformat(),
            "reason": "年休假",
        }
        response = await client.put("/v1/staff/county-clerk/duty", json=leave, headers=supervisor)
        assert response.status_code == 200, response.text
        assert response.json()["on_duty_now"] is False

        number, payload = accepted(item(Tier.county, "county.civil_affairs"), at=COUNTY)
        await accept(settings, payload)
        route = await route_when(client, supervisor, number, lambda r: bool(r["tasks"]))
        task = route["tasks"][0]
        assert (task["window"], task["staff_id"], task["post"]) == ("01", "county-approver", "b")

        # The B post is off too: the next case waits in the window's queue and a supervisor is told.
        off = {"on_duty": False}
        assert (
            await client.put("/v1/staff/county-approver/duty", json=off, headers=supervisor)
        ).status_code == 200
        number, payload = accepted(item(Tier.county, "county.civil_affairs"), at=COUNTY, green=True)
        await accept(settings, payload)
        route = await route_when(client, supervisor, number, lambda r: bool(r["tasks"]))
        queued = route["tasks"][0]
        assert (queued["post"], queued["staff_id"], queued["status"]) == ("queue", None, "queued")
        (alert,) = await published(settings, number, "supervision.alert_raised")
        assert "A岗、B岗均不在岗" in alert.data["reason"]

        # Green channel cases are at the front of the window's queue; a clerk of the window claims it.
        clerk = bearer(settings, "county-clerk", "clerk", COUNTY)
        listed = (await client.get("/v1/tasks?window=01&org=370285000000", headers=clerk)).json()["items"]
        assert listed[0]["id"] == queued["id"] and listed[0]["green_channel"] is True
        claimed = await client.post(f"/v1/tasks/{queued['id']}/claim", headers=clerk)
        assert claimed.status_code == 200, claimed.text
        assert (claimed.json()["status"], claimed.json()["staff_id"]) == ("in_review", "county-clerk")


async def test_a_joint_item_runs_parallel_tasks_and_one_refusal_refuses_with_every_reason(
    network: Network,
) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        joint = item(
            Tier.county,
            "county.housing",
            kind=ItemKind.joint,
            days=10,
            others=("county.natural_resources", "county.market_regulation"),
        )
        number, payload = accepted(joint)
        await accept(settings, payload)
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        route = await route_when(client, supervisor, number, lambda r: len(r["tasks"]) == 3)
        tasks = {t["department"]: t for t in route["tasks"]}
        assert tasks["county.housing"]["lead"] and tasks["county.housing"]["limit_working_days"] == 10
        assert tasks["county.natural_resources"]["limit_working_days"] == 9
        assert tasks["county.market_regulation"]["window"] in ("04", "05")

        planning = bearer(settings, "lx-zj-a", "clerk", COUNTY)
        market_staff = "lx-sj-a" if tasks["county.market_regulation"]["window"] == "04" else "lx-sj2-a"
        market = bearer(settings, market_staff, "clerk", COUNTY)
        approve = {"decision": "approve", "result": "建设工程规划许可证2026-01"}
        refuse = {
            "decision": "refuse",
            "reasons": ["用地性质不符合规划"],
            "legal_basis": ["《城乡规划法》第四十条"],
        }
        refuse_too = {
            "decision": "refuse",
            "reasons": ["营业执照经营范围不含该项目", "法定代表人签字缺失"],
            "legal_basis": ["《市场主体登记管理条例》第十九条"],
        }
        r1 = await client.post(
            f"/v1/tasks/{tasks['county.housing']['id']}/decide", json=approve, headers=planning
        )
        r2 = await client.post(
            f"/v1/tasks/{tasks['county.natural_resources']['id']}/decide", json=refuse, headers=planning
        )
        assert (r1.status_code, r2.status_code) == (200, 200), (r1.text, r2.text)
        # Not decided until every department has decided.
        pending = (await client.get(f"/v1/cases/{number}/route", headers=supervisor)).json()
        assert pending["outcome"] is None and len(pending["decisions"]) == 2
        r3 = await client.post(
            f"/v1/tasks/{tasks['county.market_regulation']['id']}/decide", json=refuse_too, headers=market
        )
        assert r3.status_code == 200, r3.text
        # A decided task cannot be claimed; the detail names its state as a clerk knows it, not its code.
        again = await client.post(f"/v1/tasks/{tasks['county.housing']['id']}/claim", headers=planning)
        assert again.status_code == 409, again.text
        assert "“已决定”" in again.json()["detail"] and "decided" not in again.json()["detail"]

        route = await route_when(client, supervisor, number, lambda r: r["outcome"] is not None)
        assert route["outcome"] == "refused"
        assert route["reasons"] == [
            "青岛市自然资源和规划局莱西分局：用地性质不符合规划",
            "莱西市市场监督管理局：营业执照经营范围不含该项目",
            "莱西市市场监督管理局：法定代表人签字缺失",
        ]
        assert set(route["legal_basis"]) == {"《城乡规划法》第四十条", "《市场主体登记管理条例》第十九条"}
        (decided,) = await published(settings, number, "case.decided")
        assert decided.data["outcome"] == "refused" and len(decided.data["reasons"]) == 3
        await route_when(client, supervisor, number, lambda r: r["status"] == "ready_for_handover")


async def test_a_special_procedure_pauses_the_clock_and_resume_moves_the_deadline(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        ref = item(Tier.county, "county.civil_affairs", procedures=(SpecialProcedure.site_survey,))
        number, payload = accepted(ref, at=COUNTY)
        await accept(settings, payload)
        clerk = bearer(settings, "county-clerk", "clerk", COUNTY)
        route = await route_when(client, clerk, number, lambda r: bool(r["tasks"]))
        task_id, due_before = route["tasks"][0]["id"], route["due_date"]

        body = {"procedure": "site_survey", "reason": "需现场核实", "expected_working_days": 3}
        paused = await client.post(f"/v1/tasks/{task_id}/pause", json=body, headers=clerk)
        assert paused.status_code == 200, paused.text
        assert paused.json()["status"] == "paused"
        # The survey took ten calendar days: move its start back as if it had.
        started = datetime.now(UTC) - timedelta(days=10)
        async with routing.runtime.engine.begin() as conn:
            await conn.execute(
                update(PauseRecord).where(col(PauseRecord.case_number) == number).values(started_at=started)
            )
        resumed = await client.post(f"/v1/tasks/{task_id}/resume", headers=clerk)
        assert resumed.status_code == 200, resumed.text
        calendar = default_calendar()
        skipped = calendar.working_days_between(
            to_shanghai_date(started), to_shanghai_date(datetime.now(UTC))
        ).days
        after = resumed.json()
        assert skipped >= 6
        assert (
            after["due_date"]
            == calendar.add_working_days(
                to_shanghai_date(datetime.fromisoformat(after["accepted_at"])), 5 + skipped
            ).date.isoformat()
        )
        assert after["due_date"] > due_before and after["status"] == "in_review"
        (event,) = await published(settings, number, "case.resumed")
        assert event.data["due_date"] == after["due_date"]


async def test_a_supplement_pauses_until_intake_records_it(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        number, payload = accepted(item(Tier.county, "county.civil_affairs"))
        await accept(settings, payload)
        clerk = bearer(settings, "county-clerk", "clerk", COUNTY)
        route = await route_when(client, clerk, number, lambda r: bool(r["tasks"]))
        task_id, due_before = route["tasks"][0]["id"], route["due_date"]
        issue = {
            "material_code": "M02",
            "material_name": "户口簿",
            "problem": "missing",
            "required_form": "original",
            "required_copies": 1,
        }
        asked = await client.post(
            f"/v1/tasks/{task_id}/decide", json={"decision": "supplement", "issues": [issue]}, headers=clerk
        )
        assert asked.status_code == 200, asked.text
        (requested,) = await published(settings, number, "case.supplement_requested")
        assert requested.org == VILLAGE  # addressed to where the citizen applied
        # While waiting, the clock stands still and nothing can be decided or resumed by hand.
        is_problem(
            await client.post(
                f"/v1/tasks/{task_id}/decide", json={"decision": "approve", "result": "x"}, headers=clerk
            ),
            409,
        )
        is_problem(await client.post(f"/v1/tasks/{task_id}/resume", headers=clerk), 409)

        supplied_at = datetime.now(UTC) + timedelta(days=7)
        await publish(
            settings,
            CaseSupplemented(
                case_number=number,
                accepting_org=VILLAGE,
                material_codes=("M02",),
                supplemented_at=supplied_at,
                recorded_by=AGENT,
            ),
            subject=number,
            org=VILLAGE,
        )
        route = await route_when(client, clerk, number, lambda r: r["status"] == "in_review")
        assert route["due_date"] > due_before
        assert route["pauses"][0]["kind"] == "supplement" and route["pauses"][0]["ended_at"]

        # Only one supplement request per case (一次性告知).
        again = await client.post(
            f"/v1/tasks/{task_id}/decide", json={"decision": "supplement", "issues": [issue]}, headers=clerk
        )
        assert "一次性" in is_problem(again, 409)["detail"]
        ok = await client.post(
            f"/v1/tasks/{task_id}/decide", json={"decision": "approve", "result": "已办结"}, headers=clerk
        )
        assert ok.status_code == 200, ok.text

        async def resumed() -> object:
            return await events_of(settings, number, "case.resumed")

        await eventually(resumed)
