"""A node serves the org units of its own county's directory, and no others (issue 12).

Tokens of a unit the directory does not have (370285199001), of another county (370283000000) or
of a unit above the county (370200000000) are refused by all four services alike, with 403
`/problems/org-not-served`; tokens of known units go on working. Intake, catalogue and audit
learn the units from routing's `daiban.directory.org_units_published.v1`.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from daiban_common.auth import Role, issue_token
from daiban_common.settings import Settings
from daiban_routing.service import SERVICE as ROUTING
from tests.integration.intake.helpers import PROMISED_ITEM, VILLAGE, application, item, keyed, publish_item
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

COUNTY = "370285000000"
KNOWN_VILLAGE = "370285101294"  # 姜山社区
NOT_SERVED = {
    "370285199001": "a village code the county's directory does not have",
    "370283000000": "another county",
    "370200000000": "the prefecture above the county",
}
FORBIDDEN_TYPE = "/problems/org-not-served"


def bearer(settings: Settings, role: Role, org: str) -> dict[str, str]:
    token = issue_token(settings, sub=f"{role}@{org}", role=role, org=org, name="测试")
    return {"Authorization": f"Bearer {token}"}


# One endpoint of each service, with the role it needs.
ENDPOINTS = {
    "intake": ("/v1/cases", Role.clerk),
    "catalogue": ("/v1/items/XK-00105-001-370285000000-01/draft", Role.admin),
    "routing": ("/v1/departments", Role.supervisor),
    "audit": ("/v1/audit/entries", Role.auditor),
}


async def test_tokens_of_units_the_node_does_not_serve_are_refused_by_every_service(network: Network) -> None:
    settings = await network.node(COUNTY)
    async with (
        running("intake", settings) as intake,
        running("catalogue", settings) as catalogue,
        running("routing", settings) as routing,
        running("audit", settings) as audit,
    ):
        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)
        clients: dict[str, httpx.AsyncClient] = {
            "intake": intake.client,
            "catalogue": catalogue.client,
            "routing": routing.client,
            "audit": audit.client,
        }
        for name, (path, role) in ENDPOINTS.items():
            for org, why in NOT_SERVED.items():
                response = await clients[name].get(path, headers=bearer(settings, role, org))
                assert response.status_code == 403, (name, why, response.text)
                body = response.json()
                assert body["type"] == FORBIDDEN_TYPE and org in body["detail"], (name, why, body)
                assert response.headers["content-type"].startswith("application/problem+json")
            # Known units are served: the county itself and a village of its directory.
            for org in (COUNTY, KNOWN_VILLAGE):
                response = await clients[name].get(path, headers=bearer(settings, role, org))
                assert response.status_code != 403 or response.json()["type"] != FORBIDDEN_TYPE, (
                    name,
                    org,
                    response.text,
                )
        # The 403 is documented on every route that reads a token.
        document = (await intake.client.get("/openapi.json")).json()
        refusal = document["paths"]["/v1/cases"]["get"]["responses"]["403"]
        examples = refusal["content"]["application/problem+json"]["examples"]
        assert any(e["value"]["type"] == FORBIDDEN_TYPE for e in examples.values())


async def test_a_case_is_never_accepted_at_a_unit_routing_does_not_have(network: Network) -> None:
    township = "370285101000"
    settings = await network.node(township)
    async with running("intake", settings) as intake:
        await publish_item(settings, intake.runtime, item())
        agent = bearer(settings, Role.agent, township)
        # A well-formed village code of 姜山镇 that the directory does not have.
        body = application(item_code=PROMISED_ITEM, org="370285101999")
        response = await intake.client.post("/v1/applications", json=body, headers=keyed(agent))
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["org"]
        assert "370285101999" in response.json()["errors"][0]["message"]
        # The same application at a unit the directory has is accepted.
        known = await intake.client.post(
            "/v1/applications", json={**body, "org": VILLAGE}, headers=keyed(agent)
        )
        assert known.status_code == 201, known.text


async def test_services_learn_the_org_units_from_routing(network: Network) -> None:
    settings = await network.node(COUNTY)
    async with running("intake", settings) as intake, running("routing", settings) as routing:
        # This node has not heard of any unit yet (the test template gives every node the demo
        # counties' units; here they are taken away again).
        async with intake.runtime.engine.begin() as conn:
            await conn.execute(text("DELETE FROM intake.org_units"))
        villager = bearer(settings, Role.clerk, KNOWN_VILLAGE)
        refused = await intake.client.get("/v1/cases", headers=villager)
        assert refused.status_code == 403 and refused.json()["type"] == FORBIDDEN_TYPE
        # Service tokens of the node's own org are served all the same.
        node = await intake.client.get("/v1/cases", headers=bearer(settings, Role.system, COUNTY))
        assert node.status_code == 200, node.text

        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)

        async def served() -> bool:
            return (await intake.client.get("/v1/cases", headers=villager)).status_code == 200

        await eventually(served)
        async with intake.runtime.engine.connect() as conn:
            count = await conn.scalar(text("SELECT count(*) FROM intake.org_units"))
        assert count == 1 + 11 + 182  # Laixi, its townships and villages
