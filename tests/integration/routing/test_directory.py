"""The directory: the demo seed, CRUD with safe retries, and CSV import (all rows or none)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from daiban_routing.models import OrgUnit, Staff, Window
from daiban_routing.service import SERVICE
from tests.integration.routing.helpers import COUNTY, XIAGEZHUANG, bearer, is_problem, keyed, seeded_routing
from tests.servers import Network

pytestmark = pytest.mark.integration


async def _count(routing: object, model: type) -> int:
    async with routing.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_seed_loads_laixi_and_is_idempotent(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        counts = [await _count(routing, m) for m in (OrgUnit, Window, Staff)]
        assert counts[0] == 1 + 11 + 182
        assert SERVICE.seed is not None
        await SERVICE.seed(routing.runtime)
        assert [await _count(routing, m) for m in (OrgUnit, Window, Staff)] == counts
        headers = bearer(settings, "county-admin", "admin", COUNTY)
        county = (await routing.client.get(f"/v1/orgs/{COUNTY}", headers=headers)).json()
        assert county["service_point"]["name"] == "莱西市政务服务中心" and len(county["children"]) == 11
        townships = await routing.client.get(
            "/v1/orgs", params={"parent": COUNTY, "limit": 5}, headers=headers
        )
        page = townships.json()
        assert len(page["items"]) == 5 and page["next_cursor"]
        more = await routing.client.get(
            "/v1/orgs",
            params={"parent": COUNTY, "limit": 100, "cursor": page["next_cursor"]},
            headers=headers,
        )
        assert len(more.json()["items"]) == 6


async def test_crud_and_csv_import(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        admin = bearer(settings, "county-admin", "admin", COUNTY)
        body = {"org": XIAGEZHUANG, "code": "township.agriculture", "name": "夏格庄镇农业农村办公室"}
        key = keyed(admin)
        created = await client.post("/v1/departments", json=body, headers=key)
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        assert location == f"/v1/departments/{created.json()['id']}"
        assert (await client.get(location, headers=admin)).json() == created.json()
        # A retry (same key) replays the answer; the same record under another key is found, 200.
        retried = await client.post("/v1/departments", json=body, headers=key)
        assert retried.status_code == 201 and retried.json() == created.json()
        assert retried.headers["idempotent-replayed"] == "true"
        assert retried.headers["location"] == location
        again = await client.post("/v1/departments", json=body, headers=keyed(admin))
        assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
        reused = await client.post("/v1/departments", json={**body, "name": "别的名字"}, headers=key)
        assert is_problem(reused, 409)["errors"] == [
            {"field": "Idempotency-Key", "message": "同一幂等键只能用于同一请求（相同的地址与内容）"}
        ]
        is_problem(
            await client.post("/v1/departments", json={**body, "name": "别的名字"}, headers=keyed(admin)), 409
        )
        renamed = await client.put(
            f"/v1/departments/{created.json()['id']}", json={"name": "农业办"}, headers=admin
        )
        assert renamed.json()["name"] == "农业办"

        staff_csv = (
            "staff_id,name,role,org,windows\n"
            "xgz-ny-a,林一,clerk,370285102000,\n"
            "xgz-ny-b,林二,approver,370285102000,\n"
        )
        result = await client.post(
            "/v1/staff/import", content=staff_csv.encode(), headers={**admin, "content-type": "text/csv"}
        )
        assert result.json() == {"created": 2, "updated": 0, "unchanged": 0}, result.text
        windows_csv = (
            "org,number,name,departments,a_post,b_post\n"
            "370285102000,02,农业窗口,township.agriculture,xgz-ny-a,xgz-ny-b\n"
        )
        result = await client.post(
            "/v1/windows/import", content=windows_csv.encode(), headers={**admin, "content-type": "text/csv"}
        )
        assert result.json()["created"] == 1, result.text
        again = await client.post(
            "/v1/windows/import", content=windows_csv.encode(), headers={**admin, "content-type": "text/csv"}
        )
        assert again.json() == {"created": 0, "updated": 0, "unchanged": 1}

        # One bad row: nothing is imported, and every error names its line.
        bad = (
            "staff_id,name,role,org,windows\n"
            "xgz-ok,好人,clerk,370285102000,02\n"
            "xgz-bad,坏人,king,370285102000,\n"
            "xgz-far,远人,clerk,370285101000,99\n"
        )
        errors = is_problem(
            await client.post(
                "/v1/staff/import", content=bad.encode(), headers={**admin, "content-type": "text/csv"}
            ),
            422,
        )["errors"]
        assert [e["field"] for e in errors] == ["rows[3].role"]
        bad = bad.replace("king", "clerk")
        errors = is_problem(
            await client.post(
                "/v1/staff/import", content=bad.encode(), headers={**admin, "content-type": "text/csv"}
            ),
            422,
        )["errors"]
        assert [e["field"] for e in errors] == ["rows[4].windows[0]"]
        assert (await client.get("/v1/staff/xgz-ok", headers=admin)).status_code == 404
        is_problem(
            await client.post(
                "/v1/staff/import", content=b"name\nx\n", headers={**admin, "content-type": "text/csv"}
            ),
            422,
        )

        window = (
            await client.get(f"/v1/windows?org={XIAGEZHUANG}&department=township.agriculture", headers=admin)
        ).json()["items"][0]
        assert (window["a_post"], window["b_post"]) == ("xgz-ny-a", "xgz-ny-b")
        is_problem(await client.delete(f"/v1/departments/{created.json()['id']}", headers=admin), 409)
        is_problem(await client.delete("/v1/staff/xgz-ny-a", headers=admin), 409)
        assert (await client.delete(f"/v1/windows/{window['id']}", headers=admin)).status_code == 204
        assert (await client.delete("/v1/staff/xgz-ny-a", headers=admin)).status_code == 204
        point = {
            "name": "夏格庄镇便民服务中心",
            "address": "夏格庄镇政府一楼",
            "phone": "0532-83460000",
            "opening_hours": "工作日 8:30—17:30",
        }
        updated = await client.put(f"/v1/orgs/{XIAGEZHUANG}/service-point", json=point, headers=admin)
        assert updated.json()["service_point"] == point


async def test_an_import_does_not_say_which_unit_another_townships_staff_id_belongs_to(
    network: Network,
) -> None:
    async with seeded_routing(network) as (settings, routing):
        supervisor = {
            **bearer(settings, "js-supervisor", "supervisor", "370285101000"),
            "content-type": "text/csv",
        }
        # xgz-mz-a works at 夏格庄镇 (370285102000), which 姜山镇's supervisor cannot see.
        taken = "staff_id,name,role,org,windows\nxgz-mz-a,林一,clerk,370285101000,\n"
        body = is_problem(
            await routing.client.post("/v1/staff/import", content=taken.encode(), headers=supervisor), 422
        )
        assert XIAGEZHUANG not in str(body)
        assert body["errors"] == [{"field": "rows[2].staff_id", "message": "工作人员编号xgz-mz-a已被使用"}]
        # The same answer as creating that staff id one by one; nothing was imported.
        single = await routing.client.post(
            "/v1/staff",
            json={"staff_id": "xgz-mz-a", "name": "林一", "role": "clerk", "org": "370285101000"},
            headers=keyed({"Authorization": supervisor["Authorization"]}),
        )
        assert single.status_code == 409 and "工作人员编号xgz-mz-a已被使用" in single.json()["detail"]
        assert XIAGEZHUANG not in single.text
        # The county, which sees both townships, is told where the id belongs (no disclosure there).
        county = {**bearer(settings, "county-admin", "admin", COUNTY), "content-type": "text/csv"}
        body = is_problem(
            await routing.client.post("/v1/staff/import", content=taken.encode(), headers=county), 422
        )
        assert XIAGEZHUANG in body["errors"][0]["message"]
