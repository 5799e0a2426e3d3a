"""Who acts for the administration at intake is someone of routing's directory (issue 18).

Intake learns the directory's staff from routing (`daiban.directory.staff_published.v1` after a
seed, `daiban.directory.staff_changed.v1` per edit) and refuses acceptance, supplements and
handover to a token whose subject is not a staff member at the token's org, with 403
`/problems/not-in-directory`, as routing does for its task actions; `system:*` identities aside.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from daiban_common.auth import Role, issue_token
from daiban_common.settings import Settings
from daiban_routing.service import SERVICE as ROUTING
from tests.integration.intake.helpers import application, item, keyed, publish_item
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

COUNTY = "370285000000"
VILLAGE = "370285101294"  # 姜山社区, whose agent js-294-agent the demo directory has
OTHER_VILLAGE = "370285101295"
NOT_IN_DIRECTORY = "/problems/not-in-directory"


def bearer(settings: Settings, sub: str, role: Role, org: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, sub=sub, role=role, org=org, name=sub)}"}


async def accept(client: httpx.AsyncClient, settings: Settings, sub: str, org: str) -> httpx.Response:
    """An agent `sub` of the token's `org` accepts a complete application at that org."""
    headers = keyed(bearer(settings, sub, Role.agent, org))
    return await client.post("/v1/applications", json=application(org=org), headers=headers)


def refused(response: httpx.Response, sub: str) -> bool:
    body: dict[str, Any] = response.json()
    return response.status_code == 403 and body["type"] == NOT_IN_DIRECTORY and sub in body["detail"]


async def test_only_staff_of_the_directory_at_the_tokens_org_accept(network: Network) -> None:
    settings = await network.node(COUNTY)
    async with running("intake", settings) as intake, running("routing", settings) as routing:
        await publish_item(settings, intake.runtime, item())
        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)

        async def accepted() -> bool:
            return (await accept(intake.client, settings, "js-294-agent", VILLAGE)).status_code == 201

        # A staff member of the directory at their own org accepts once the seed's staff arrive.
        await eventually(accepted)

        # Someone the directory does not know is refused, with the problem routing answers too.
        stranger = await accept(intake.client, settings, "nobody-294", VILLAGE)
        assert refused(stranger, "nobody-294"), stranger.text
        assert stranger.headers["content-type"].startswith("application/problem+json")
        # A staff member of the directory, but of another org than the token says, is refused.
        elsewhere = await accept(intake.client, settings, "js-294-agent", OTHER_VILLAGE)
        assert refused(elsewhere, "js-294-agent"), elsewhere.text
        # Supplements and handover refuse them alike, before looking at the case.
        for path in ("/v1/cases/X/supplements", "/v1/cases/X/handover"):
            response = await intake.client.post(
                path, json={}, headers=keyed(bearer(settings, "nobody-294", Role.agent, VILLAGE))
            )
            assert refused(response, "nobody-294"), (path, response.text)

        # A new staff member created in routing may accept once the event arrives.
        admin = bearer(settings, "county-admin", Role.admin, COUNTY)
        person = {
            "staff_id": "js-294-new",
            "name": "新代办员",
            "role": "agent",
            "org": VILLAGE,
            "windows": [],
        }
        created = await routing.client.post("/v1/staff", json=person, headers=keyed(admin))
        assert created.status_code == 201, created.text

        async def newcomer_accepts() -> bool:
            return (await accept(intake.client, settings, "js-294-new", VILLAGE)).status_code == 201

        await eventually(newcomer_accepts)

        # And is refused again once routing removes them.
        removed = await routing.client.delete("/v1/staff/js-294-new", headers=admin)
        assert removed.status_code == 204, removed.text

        async def newcomer_refused() -> bool:
            return refused(await accept(intake.client, settings, "js-294-new", VILLAGE), "js-294-new")

        await eventually(newcomer_refused)


async def test_the_seed_fills_the_replica_before_any_bus(network: Network) -> None:
    """`daiban seed` hands the staff to intake's replica at once (`deliver_seeded_staff`)."""
    from daiban_common import db
    from daiban_common.service import discover_services
    from daiban_common.staffdir import deliver_seeded_staff

    settings = await network.node(COUNTY)
    async with running("routing", settings, wait_for_bus=False) as routing:
        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)
    engine = db.create_engine(settings.database_url)
    try:
        assert await deliver_seeded_staff(engine, list(discover_services().values())) == 1
        async with engine.connect() as conn:
            org = await conn.scalar(
                text("SELECT org FROM intake.staff_directory WHERE staff_id = 'village-agent'")
            )
        assert org == VILLAGE
    finally:
        await engine.dispose()
