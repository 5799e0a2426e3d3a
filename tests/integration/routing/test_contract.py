"""What schemathesis (`make fuzz`) found in routing: the service does what its document says."""

from __future__ import annotations

import pytest

from tests.integration.routing.helpers import COUNTY, JIANGSHAN, bearer, is_problem, keyed, seeded_routing
from tests.servers import Network

pytestmark = pytest.mark.integration


async def test_a_405_names_every_method_of_the_path(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        # GET, PUT and DELETE are separate routes of one path: Starlette named only the first.
        response = await routing.client.request("OPTIONS", "/v1/departments/anything", headers=supervisor)
        is_problem(response, 405)
        assert response.headers["allow"] == "DELETE, GET, PUT"
        response = await routing.client.patch("/v1/windows", headers=supervisor)
        is_problem(response, 405)
        assert response.headers["allow"] == "GET, POST"
        # A literal path is not also the parameter path beside it.
        response = await routing.client.request("OPTIONS", "/v1/staff/import", headers=supervisor)
        is_problem(response, 405)
        assert response.headers["allow"] == "POST"


async def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        response = await routing.client.post(
            "/v1/departments",
            content=b"\xff\xfe{",
            headers={**keyed(supervisor), "content-type": "application/json"},
        )
        body = is_problem(response, 422)
        assert [e["field"] for e in body["errors"]] == ["body"]


async def test_instants_and_booleans_are_not_read_from_numbers(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        staff = (await client.get(f"/v1/staff?org={JIANGSHAN}&limit=1", headers=supervisor)).json()["items"]
        duty = f"/v1/staff/{staff[0]['staff_id']}/duty"
        # 0 was read as 1970-01-01T00:00:00Z, and 0/1 as false/true.
        body = is_problem(
            await client.put(duty, json={"on_duty": True, "absent_from": 0}, headers=supervisor), 422
        )
        assert [e["field"] for e in body["errors"]] == ["absent_from"]
        body = is_problem(await client.put(duty, json={"on_duty": 1}, headers=supervisor), 422)
        assert [e["field"] for e in body["errors"]] == ["on_duty"]
        # A moment needs a date, a time and an offset (or is a whole day); 0.5 was half a second after
        # the epoch.
        for as_of in ("0.5", "0", "2026-12-1", "2026-12-01T09:00:00"):
            body = is_problem(
                await client.get("/v1/supervision/flags", params={"as_of": as_of}, headers=supervisor), 422
            )
            assert [e["field"] for e in body["errors"]] == ["as_of"]
        ok = await client.get(
            "/v1/supervision/flags", params={"as_of": "2026-12-01T09:00:00+08:00"}, headers=supervisor
        )
        assert ok.status_code == 200, ok.text
