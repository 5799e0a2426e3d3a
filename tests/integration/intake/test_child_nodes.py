"""A county node's intake with a township that runs its own node (DAIBAN_CHILD_NODES): it accepts
nothing there and leaves the progress of that township's cases to the township's intake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from daiban_common.auth import Role
from daiban_contracts.routing import CaseReceived, HopDirection
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import (
    COUNTY,
    OTHER_TOWNSHIP,
    TOWNSHIP,
    VILLAGE,
    application,
    bearer,
    item,
    keyed,
    publish,
    publish_item,
)
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration


@pytest.fixture
async def county_intake(network: Network) -> AsyncIterator[Intake]:
    settings = await network.node(COUNTY, child_nodes=[TOWNSHIP])
    async with running("intake", settings) as service:
        await publish_item(settings, service.runtime, item())
        yield Intake(settings=settings, client=service.client, runtime=service.runtime)


async def test_no_acceptance_below_a_child_node_but_elsewhere_in_the_county(county_intake: Intake) -> None:
    clerk = bearer(county_intake.settings, Role.clerk, COUNTY, "县中心窗口人员")
    for org in (TOWNSHIP, VILLAGE):
        response = await county_intake.client.post(
            "/v1/applications", json=application(org=org, channel="window"), headers=keyed(clerk)
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["errors"][0]["field"] == "org"
        assert TOWNSHIP in problem["errors"][0]["message"]
    response = await county_intake.client.post(
        "/v1/applications", json=application(org=OTHER_TOWNSHIP, channel="window"), headers=keyed(clerk)
    )
    assert response.status_code == 201, response.text


def received_at_county(number: str, accepting_org: str) -> CaseReceived:
    return CaseReceived(
        case_number=number,
        accepting_org=accepting_org,
        from_org=accepting_org,
        to_org=COUNTY,
        hop=1,
        received_at=datetime.now(UTC),
        direction=HopDirection.up,
    )


async def test_progress_of_a_child_nodes_case_never_reaches_this_node(county_intake: Intake) -> None:
    """Moves of a case are copied to the node hosting its accepting point (daiban_contracts.crossing):
    the county's intake never sees one of a township node's cases, so it has nothing to skip."""
    settings, runtime = county_intake.settings, county_intake.runtime
    clerk = bearer(settings, Role.clerk, COUNTY, "县中心窗口人员")
    answer = await county_intake.client.post(
        "/v1/applications", json=application(org=OTHER_TOWNSHIP, channel="window"), headers=keyed(clerk)
    )
    own = answer.json()["case_number"]
    theirs = f"{VILLAGE}-20260105-0001"
    # As the county's routing emits them: each addressed to the county, with its progress copy.
    child = await publish(settings, received_at_county(theirs, VILLAGE), org=COUNTY, subject=theirs)
    mine = await publish(settings, received_at_county(own, OTHER_TOWNSHIP), org=COUNTY, subject=own)
    inbox, dead = runtime.tables.inbox, runtime.tables.dead_letters

    async def applied(event_id: str) -> bool:
        async with runtime.engine.connect() as conn:
            return (
                await conn.scalar(select(inbox.c.event_id).where(inbox.c.event_id == event_id))
            ) is not None

    await eventually(lambda: applied(mine.id))
    assert not await applied(child.id)
    async with runtime.engine.connect() as conn:
        assert (await conn.execute(select(dead.c.event_id))).all() == []
