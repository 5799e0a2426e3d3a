"""The public directory of service points: read without a token, cacheable, no personal data."""

from __future__ import annotations

import pytest

from tests.integration.routing.helpers import COUNTY, JIANGSHAN, VILLAGE, bearer, is_problem, seeded_routing
from tests.servers import Network

pytestmark = pytest.mark.integration

FIELDS = {
    "code",
    "name",
    "org_name",
    "tier",
    "tier_label",
    "address",
    "opening_hours",
    "phone",
    "parent_code",
    "parent_name",
}


async def test_anyone_reads_a_service_point_with_its_parent_and_caches_it(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        answer = await client.get(f"/v1/public/service-points/{JIANGSHAN}")
        assert answer.status_code == 200, answer.text
        point = answer.json()
        assert set(point) == FIELDS
        assert point["name"] == "姜山镇便民服务中心" and point["tier"] == "township"
        assert point["address"] == "莱西市姜山镇驻地" and point["phone"] == "0532-83451000"
        assert point["opening_hours"] and point["tier_label"]
        assert point["parent_code"] == COUNTY and point["parent_name"]
        # The same answer as the token-holders' directory: names, not codes.
        admin = bearer(settings, "county-admin", "admin", COUNTY)
        county = (await client.get(f"/v1/orgs/{COUNTY}", headers=admin)).json()
        assert point["parent_name"] == county["name"]
        assert answer.headers["cache-control"] == "public, max-age=300"
        etag = answer.headers["etag"]
        again = await client.get(f"/v1/public/service-points/{JIANGSHAN}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=300"
        # A changed point is a new ETag: the stale copy is not confirmed.
        edited = {
            "name": "姜山镇便民服务中心",
            "address": "姜山镇新址",
            "phone": "0532-1",
            "opening_hours": "全天",
        }
        changed = await client.put(f"/v1/orgs/{JIANGSHAN}/service-point", json=edited, headers=admin)
        assert changed.status_code == 200, changed.text
        fresh = await client.get(f"/v1/public/service-points/{JIANGSHAN}", headers={"If-None-Match": etag})
        assert fresh.status_code == 200 and fresh.json()["address"] == "姜山镇新址"
        assert fresh.headers["etag"] != etag
        # A village point names its township.
        village = (await client.get(f"/v1/public/service-points/{VILLAGE}")).json()
        assert village["parent_code"] == JIANGSHAN and village["parent_name"] == point["org_name"]


async def test_the_list_filters_by_subtree_and_tier_and_pages(network: Network) -> None:
    async with seeded_routing(network) as (_, routing):
        client = routing.client
        townships = await client.get("/v1/public/service-points", params={"tier": "township", "limit": 5})
        assert townships.status_code == 200, townships.text
        first = townships.json()
        assert len(first["items"]) == 5 and first["next_cursor"]
        assert all(set(p) == FIELDS and p["tier"] == "township" for p in first["items"])
        assert townships.headers["cache-control"] == "public, max-age=300" and townships.headers["etag"]
        rest = await client.get(
            "/v1/public/service-points",
            params={"tier": "township", "limit": 100, "cursor": first["next_cursor"]},
        )
        codes = [p["code"] for p in first["items"] + rest.json()["items"]]
        assert len(codes) == 11 == len(set(codes)) and rest.json()["next_cursor"] is None
        villages = (
            await client.get("/v1/public/service-points", params={"org": JIANGSHAN, "limit": 100})
        ).json()["items"]
        assert {p["code"] for p in villages} >= {JIANGSHAN, VILLAGE}
        assert all(p["code"].startswith(JIANGSHAN[:9]) for p in villages)
        unchanged = await client.get(
            "/v1/public/service-points",
            params={"tier": "township", "limit": 5},
            headers={"If-None-Match": townships.headers["etag"]},
        )
        assert unchanged.status_code == 304


async def test_unknown_orgs_are_a_404_and_bad_codes_a_422(network: Network) -> None:
    async with seeded_routing(network) as (_, routing):
        client = routing.client
        missing = is_problem(await client.get("/v1/public/service-points/370285199000"), 404)
        assert "370285199000" in missing["detail"] and missing["errors"][0]["field"] == "org"
        filtered = is_problem(
            await client.get("/v1/public/service-points", params={"org": "370285199000"}), 404
        )
        assert filtered["errors"][0]["field"] == "org"
        bad = is_problem(await client.get("/v1/public/service-points/37028510"), 422)
        assert bad["errors"][0]["field"] == "org"
        tier = is_problem(await client.get("/v1/public/service-points", params={"tier": "city"}), 422)
        assert tier["errors"][0]["field"] == "tier"
