"""Cases moving between tiers: up hop by hop to the deciding tier, and the decision back down."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlmodel import select as select_rows

from daiban_common.db import asyncpg_dsn
from daiban_contracts.case import CaseSupplemented, OnTheSpotResult, StaffRef
from daiban_contracts.catalogue import ItemKind, Tier
from daiban_routing.models import Case
from tests.integration.routing.helpers import (
    AGENT,
    COUNTY,
    JIANGSHAN,
    VILLAGE,
    accept,
    accepted,
    bearer,
    events_of,
    item,
    publish,
    published,
    route_when,
    seeded_routing,
)
from tests.servers import Network, eventually

pytestmark = pytest.mark.integration


async def test_village_to_township_to_county_and_back_down(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        number, payload = accepted(item(Tier.county, "county.civil_affairs"))
        await accept(settings, payload)

        route = await route_when(client, supervisor, number, lambda r: bool(r["tasks"]))
        up = [(h["hop"], h["from_org"], h["to_org"]) for h in route["hops"] if h["direction"] == "up"]
        assert up == [(1, VILLAGE, JIANGSHAN), (2, JIANGSHAN, COUNTY)]
        assert all(h["received_at"] for h in route["hops"])
        (task,) = route["tasks"]
        assert (task["org"], task["window"], task["staff_id"], task["post"]) == (
            COUNTY,
            "01",
            "county-clerk",
            "a",
        )
        forwarded = await published(settings, number, "case.forwarded", 2)
        # Each hop is addressed to the receiving org, so it travels on the receiver's subject.
        assert [e.org for e in forwarded] == [JIANGSHAN, COUNTY]
        assert [e.org for e in await published(settings, number, "case.received", 2)] == [VILLAGE, JIANGSHAN]

        clerk = bearer(settings, "county-clerk", "clerk", COUNTY, "赵敏")
        decided = await client.post(
            f"/v1/tasks/{task['id']}/decide",
            json={"decision": "approve", "result": "证书LX-0001"},
            headers=clerk,
        )
        assert decided.status_code == 200, decided.text

        route = await route_when(client, supervisor, number, lambda r: r["status"] == "ready_for_handover")
        down = [(h["hop"], h["from_org"], h["to_org"]) for h in route["hops"] if h["direction"] == "down"]
        assert down == [(1, COUNTY, JIANGSHAN), (2, JIANGSHAN, VILLAGE)]
        assert route["outcome"] == "approved" and route["result"] == "证书LX-0001"
        assert route["deciding_org"] == COUNTY and route["holding_org"] == VILLAGE

        async def ready() -> list[Any]:
            return await events_of(settings, number, "case.ready_for_handover")

        found = await eventually(ready)
        assert isinstance(found, list)
        (handover,) = found
        assert handover.org == VILLAGE
        assert handover.data["deciding_org"] == COUNTY and handover.data["result"] == "证书LX-0001"
        assert [e.org for e in await published(settings, number, "case.returned_down", 2)] == [
            JIANGSHAN,
            VILLAGE,
        ]
        # Each acknowledgement (case.received, two up and two down) is applied by the consumer
        # of the node it is addressed to, here this one: applied, none of them parked.
        conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        try:

            async def acknowledged() -> bool:
                applied = await conn.fetchval(
                    "SELECT count(*) FROM routing.inbox WHERE type = 'daiban.case.received.v1'"
                )
                return int(applied) >= 4

            await eventually(acknowledged)
            assert await conn.fetchval("SELECT count(*) FROM routing.dead_letters") == 0
        finally:
            await conn.close()

        # The first responder is told of every change on the way.
        agent = bearer(settings, AGENT.staff_id, "agent", VILLAGE, AGENT.name)
        told = (await client.get("/v1/notifications?limit=100", headers=agent)).json()["items"]
        kinds = {n["kind"] for n in told if n["case_number"] == number}
        assert {"accepted", "forwarded", "assigned", "decided", "ready_for_handover"} <= kinds


async def test_a_township_item_is_decided_at_the_township_one_hop_up(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        clerk = bearer(settings, "township-clerk", "clerk", JIANGSHAN, "沈玉兰")
        number, payload = accepted(item(Tier.township, "township.civil_affairs"))
        await accept(settings, payload)
        route = await route_when(routing.client, clerk, number, lambda r: bool(r["tasks"]))
        assert [h["to_org"] for h in route["hops"]] == [JIANGSHAN]
        assert route["tasks"][0]["staff_id"] == "township-clerk"
        task_id = route["tasks"][0]["id"]
        response = await routing.client.post(
            f"/v1/tasks/{task_id}/decide", json={"decision": "approve", "result": "已登记"}, headers=clerk
        )
        assert response.status_code == 200, response.text
        route = await route_when(routing.client, clerk, number, lambda r: r["status"] == "ready_for_handover")
        assert [(h["direction"], h["to_org"]) for h in route["hops"]] == [
            ("up", JIANGSHAN),
            ("down", VILLAGE),
        ]


async def test_an_immediate_item_concluded_on_the_spot_moves_nothing(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        clerk = StaffRef(staff_id="county-clerk", name="赵敏", org=COUNTY)
        number, payload = accepted(
            item(Tier.county, "county.civil_affairs", kind=ItemKind.immediate, days=0),
            at=COUNTY,
            responder=clerk,
            on_the_spot=OnTheSpotResult(result="结婚证J370285-1", decided_by=clerk),
        )
        await accept(settings, payload)
        headers = bearer(settings, "county-clerk", "clerk", COUNTY)
        route = await route_when(routing.client, headers, number, lambda r: r["status"] == "decided")
        assert route["hops"] == [] and route["tasks"] == []
        assert route["result"] == "结婚证J370285-1"


async def test_an_escalated_item_becomes_an_external_procedure_at_the_county(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        number, payload = accepted(
            item(Tier.above_county, "county.natural_resources", kind=ItemKind.escalated)
        )
        await accept(settings, payload)
        headers = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        route = await route_when(routing.client, headers, number, lambda r: r["status"] == "escalated")
        assert route["follow_up_date"] and route["escalated_authority"]
        assert route["tasks"][0]["kind"] == "external" and route["tasks"][0]["window"] == "06"
        assert await published(settings, number, "case.escalated")


async def test_events_naming_an_unknown_case_or_org_are_dead_lettered(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        # 370285101201 is a well-formed code, but no such village exists in the 2023 division codes.
        _, unknown_org = accepted(item(Tier.township, "township.civil_affairs"), at="370285101201")
        bad_org = await accept(settings, unknown_org)
        supplement = CaseSupplemented(
            case_number="NO-SUCH-CASE",
            accepting_org=VILLAGE,
            material_codes=("M01",),
            supplemented_at=datetime.now(UTC),
            recorded_by=AGENT,
        )
        bad_case = await publish(settings, supplement, subject="NO-SUCH-CASE", org=VILLAGE)
        dead = routing.runtime.tables.dead_letters

        async def parked() -> dict[str, str]:
            async with routing.runtime.engine.connect() as conn:
                rows = (await conn.execute(select(dead.c.event_id, dead.c.error, dead.c.attempts))).all()
            found = {row.event_id: row.error for row in rows}
            return found if len(found) == 2 else {}

        errors = await eventually(parked)
        assert isinstance(errors, dict)
        assert "370285101201" in errors[bad_org.id] and "目录" in errors[bad_org.id]
        assert "NO-SUCH-CASE" in errors[bad_case.id] and "不存在" in errors[bad_case.id]
        async with routing.runtime.uow() as uow:
            assert (await uow.session.exec(select_rows(Case))).first() is None
