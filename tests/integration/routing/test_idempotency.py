"""Idempotency-Key on routing's creating POSTs: a home visit, an extension, directory records.

Before the platform's idempotency, a retried home visit booked a second visit (two events, two
timeline entries), and a retried extension was a 409 ("only one extension") instead of its answer.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from daiban_common.calendar import today_in_shanghai
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

REUSED = [{"field": "Idempotency-Key", "message": "同一幂等键只能用于同一请求（相同的地址与内容）"}]


async def test_a_retried_home_visit_books_one_visit(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        clerk = bearer(settings, "county-clerk", "clerk", COUNTY)
        number, payload = accepted(item(Tier.county, "county.civil_affairs"), at=COUNTY)
        await accept(settings, payload)
        await route_when(client, clerk, number, lambda r: bool(r["tasks"]))
        path = f"/v1/cases/{number}/home-visit"
        visit = {"visit_date": (today_in_shanghai() + timedelta(days=2)).isoformat(), "note": "老人行动不便"}
        key = keyed(clerk)

        # Two sends at once (a phone retrying while the first is still in flight), then a late retry.
        first, second = await asyncio.gather(
            client.post(path, json=visit, headers=key), client.post(path, json=visit, headers=key)
        )
        late = await client.post(path, json=visit, headers=key)
        assert first.status_code == second.status_code == late.status_code == 200, (first.text, second.text)
        assert first.content == second.content == late.content
        assert sorted(r.headers.get("idempotent-replayed", "") for r in (first, second, late)) == [
            "",
            "true",
            "true",
        ]
        route = late.json()
        assert route["home_visit"] is True
        assert [e["kind"] for e in route["timeline"]].count("home_visit") == 1
        await published(settings, number, "home_visit_booked")
        assert len(await events_of(settings, number, "home_visit_booked")) == 1

        # The same key for another visit is refused, naming the header; no key at all is a 422.
        other = await client.post(path, json={**visit, "note": "改约"}, headers=key)
        assert is_problem(other, 409)["errors"] == REUSED
        missing = is_problem(await client.post(path, json=visit, headers=clerk), 422)
        assert [e["field"] for e in missing["errors"]] == ["Idempotency-Key"]
        after = await client.get(f"/v1/cases/{number}/route", headers=clerk)
        assert [e["kind"] for e in after.json()["timeline"]].count("home_visit") == 1


async def test_a_retried_extension_replays_instead_of_refusing(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        clerk = bearer(settings, "county-clerk", "clerk", COUNTY)
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        number, payload = accepted(item(Tier.county, "county.civil_affairs"), at=COUNTY)
        await accept(settings, payload)
        await route_when(client, clerk, number, lambda r: bool(r["tasks"]))
        path = f"/v1/cases/{number}/extension"
        body = {"extra_working_days": 3, "reason": "需会商"}
        key = keyed(supervisor)
        first = await client.post(path, json=body, headers=key)
        retried = await client.post(path, json=body, headers=key)
        assert first.status_code == retried.status_code == 200, retried.text
        assert retried.content == first.content
        assert retried.headers["idempotent-replayed"] == "true"
        # A second extension, under a new key, is still the rule's 409.
        is_problem(await client.post(path, json=body, headers=keyed(supervisor)), 409)


async def test_concurrent_retries_of_a_directory_post_make_one_record(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        staff = {"staff_id": "idem-new", "name": "王五", "role": "clerk", "org": COUNTY, "windows": []}
        key = keyed(supervisor)
        answers = await asyncio.gather(*(client.post("/v1/staff", json=staff, headers=key) for _ in range(3)))
        assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
        assert len({a.content for a in answers}) == 1
        assert [a.headers.get("idempotent-replayed") for a in answers].count(None) == 1
        listed = await client.get("/v1/staff", params={"org": COUNTY, "limit": 100}, headers=supervisor)
        assert [s["staff_id"] for s in listed.json()["items"]].count("idem-new") == 1
        reused = await client.post("/v1/staff", json={**staff, "name": "王六"}, headers=key)
        assert is_problem(reused, 409)["errors"] == REUSED
        missing = is_problem(await client.post("/v1/staff", json=staff, headers=supervisor), 422)
        assert [e["field"] for e in missing["errors"]] == ["Idempotency-Key"]
