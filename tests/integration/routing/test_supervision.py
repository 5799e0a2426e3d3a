"""Supervision flags as of any moment, and the sweep that announces each change once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from daiban_common.calendar import default_calendar, to_shanghai_date
from daiban_contracts.catalogue import Tier
from daiban_routing.handlers.supervision import sweep
from daiban_routing.models import RaisedFlag
from daiban_routing.settings import RoutingSettings
from tests.integration.routing.helpers import (
    COUNTY,
    JIANGSHAN,
    XIAGEZHUANG,
    accept,
    accepted,
    bearer,
    events_of,
    is_problem,
    item,
    route_when,
    seeded_routing,
)
from tests.servers import Network, eventually

pytestmark = pytest.mark.integration


async def test_flags_as_of_a_future_moment_and_the_sweep(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        number, payload = accepted(item(Tier.township, "township.civil_affairs", days=10))
        await accept(settings, payload)
        route = await route_when(client, supervisor, number, lambda r: bool(r["tasks"]))
        due = datetime.fromisoformat(route["due_date"]).date()
        calendar = default_calendar()

        def at(day: object) -> str:
            return f"{day}T10:00:00+08:00"

        async def flags(**query: str) -> list[dict[str, Any]]:
            response = await client.get("/v1/supervision/flags", params=query, headers=supervisor)
            assert response.status_code == 200, response.text
            return [f for f in response.json()["items"] if f["case_number"] == number]

        assert await flags(as_of=at(to_shanghai_date(datetime.now(UTC)))) == []
        # Two working days before the deadline (20% of 10): yellow.
        two_left = due
        while calendar.working_days_between(two_left, due).days < 2:
            two_left -= timedelta(days=1)
        (yellow,) = await flags(as_of=at(two_left))
        assert yellow["level"] == "yellow" and yellow["level_label"] == "黄牌"
        # A week after the deadline: red, and the township's flag is also its county's.
        week_late = at(due + timedelta(days=7))
        (red,) = await flags(as_of=week_late, level="red")
        assert red["org"] == JIANGSHAN and red["due_date"] == route["due_date"] and "已超期" in red["reason"]
        assert await flags(as_of=week_late, level="yellow") == []
        # A day is that day in Asia/Shanghai; the answer echoes as_of in the form it was given.
        day_late = str(due + timedelta(days=7))
        by_day = await client.get("/v1/supervision/flags", params={"as_of": day_late}, headers=supervisor)
        assert by_day.json()["as_of"] == day_late, by_day.text
        assert [f for f in by_day.json()["items"] if f["case_number"] == number] == [red]
        assert red["as_of"] == day_late
        assert await flags(as_of=week_late, org=JIANGSHAN)
        assert await flags(as_of=week_late, org=XIAGEZHUANG) == []
        township = bearer(settings, "js-supervisor", "supervisor", JIANGSHAN)
        other = bearer(settings, "xgz-supervisor", "supervisor", XIAGEZHUANG)
        response = await client.get("/v1/supervision/flags", params={"as_of": week_late}, headers=township)
        assert [f["case_number"] for f in response.json()["items"]] == [number]
        assert response.json()["as_of"] == week_late
        response = await client.get("/v1/supervision/flags", params={"as_of": week_late}, headers=other)
        assert response.json()["items"] == []
        is_problem(
            await client.get("/v1/supervision/flags", params={"as_of": "next week"}, headers=supervisor), 422
        )
        clerk = bearer(settings, "county-clerk", "clerk", COUNTY)
        is_problem(await client.get("/v1/supervision/flags", headers=clerk), 403)

        # The sweep announces the red flag once, then stays quiet until something changes.
        policy = RoutingSettings().policy
        late = datetime.combine(due + timedelta(days=7), datetime.min.time(), tzinfo=UTC)
        first = await sweep(routing.runtime.uow(), policy, late)
        second = await sweep(routing.runtime.uow(), policy, late)
        assert (first.raised, second.raised, second.cleared) == (1, 0, 0)
        async with routing.runtime.uow() as uow:
            stored = (await uow.session.exec(select(RaisedFlag))).one()
            assert (stored.case_number, stored.level) == (number, "red")
        cleared = await sweep(routing.runtime.uow(), policy, datetime.now(UTC))
        assert cleared.cleared == 1

        async def announced() -> object:
            raised = await events_of(settings, number, "supervision.flag_raised")
            gone = await events_of(settings, number, "supervision.flag_cleared")
            return raised and gone and (raised, gone)

        found = await eventually(announced)
        assert isinstance(found, tuple)
        raised, gone = found
        assert raised[0].data["level"] == "red" and gone[0].data["level"] == "red"
