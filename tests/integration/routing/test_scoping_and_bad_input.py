"""Scoping by org subtree, and every bad input answered with a clear 4xx problem (never a 500)."""

from __future__ import annotations

import pytest

from daiban_contracts.catalogue import SpecialProcedure, Tier
from tests.integration.routing.helpers import (
    COUNTY,
    JIANGSHAN,
    XIAGEZHUANG,
    accept,
    accepted,
    bearer,
    is_problem,
    item,
    keyed,
    route_when,
    seeded_routing,
)
from tests.servers import Network

pytestmark = pytest.mark.integration


async def test_a_township_clerk_sees_nothing_of_another_township(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        jiangshan = bearer(settings, "township-clerk", "clerk", JIANGSHAN)
        xgz = bearer(settings, "xgz-mz-a", "clerk", XIAGEZHUANG)
        number, payload = accepted(item(Tier.township, "township.civil_affairs"))
        await accept(settings, payload)
        route = await route_when(client, jiangshan, number, lambda r: bool(r["tasks"]))
        task_id = route["tasks"][0]["id"]

        assert [
            t["case_number"] for t in (await client.get("/v1/tasks", headers=jiangshan)).json()["items"]
        ] == [number]
        assert (await client.get("/v1/tasks", headers=xgz)).json()["items"] == []
        is_problem(await client.get(f"/v1/tasks?org={JIANGSHAN}", headers=xgz), 404)
        is_problem(await client.get(f"/v1/cases/{number}/route", headers=xgz), 404)
        is_problem(await client.post(f"/v1/tasks/{task_id}/claim", headers=xgz), 404)
        is_problem(await client.get(f"/v1/orgs/{JIANGSHAN}", headers=xgz), 404)
        # Its own people and windows, and its villages' (the demo seed staffs every village point).
        staff = (await client.get("/v1/staff?limit=100", headers=xgz)).json()["items"]
        assert XIAGEZHUANG in {s["org"] for s in staff}
        assert all(s["org"].startswith("370285102") for s in staff)
        windows = (await client.get("/v1/windows?limit=100", headers=xgz)).json()["items"]
        assert XIAGEZHUANG in {w["org"] for w in windows}
        assert all(w["org"].startswith("370285102") for w in windows)
        orgs = (await client.get("/v1/orgs?limit=100", headers=xgz)).json()["items"]
        assert orgs and all(o["code"].startswith("370285102") for o in orgs)
        own = (await client.get(f"/v1/orgs/{XIAGEZHUANG}", headers=xgz)).json()
        assert own["service_point"]["phone"] and own["children"]
        # The county sees both.
        county = bearer(settings, "county-supervisor", "supervisor", COUNTY)
        assert (await client.get(f"/v1/tasks?org={JIANGSHAN}", headers=county)).json()["items"]


async def test_bad_input_is_a_clear_4xx(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing):
        client = routing.client
        clerk = bearer(settings, "county-clerk", "clerk", COUNTY)
        other_window = bearer(settings, "lx-ga-a", "clerk", COUNTY)
        supervisor = bearer(settings, "county-supervisor", "supervisor", COUNTY)

        def sk() -> dict[str, str]:
            # The supervisor's token with a fresh Idempotency-Key, for a creating POST.
            return keyed(supervisor)

        def ck() -> dict[str, str]:
            return keyed(clerk)

        ref = item(Tier.county, "county.civil_affairs", procedures=(SpecialProcedure.public_notice,))
        number, payload = accepted(ref, at=COUNTY)
        await accept(settings, payload)
        route = await route_when(client, clerk, number, lambda r: bool(r["tasks"]))
        task = f"/v1/tasks/{route['tasks'][0]['id']}"

        # Acting on a task of another window.
        body = is_problem(
            await client.post(
                f"{task}/decide", json={"decision": "approve", "result": "x"}, headers=other_window
            ),
            403,
        )
        assert "01号窗口" in body["detail"]
        is_problem(await client.post(f"{task}/claim", headers=other_window), 403)
        # A role that may not decide at all.
        is_problem(
            await client.post(
                f"{task}/decide", json={"decision": "approve", "result": "x"}, headers=supervisor
            ),
            403,
        )
        # Incomplete decisions and special procedures the item does not have.
        assert (
            is_problem(
                await client.post(
                    f"{task}/decide", json={"decision": "refuse", "reasons": ["不符合"]}, headers=clerk
                ),
                422,
            )["errors"][0]["field"]
            == "legal_basis"
        )
        is_problem(await client.post(f"{task}/decide", json={"decision": "approve"}, headers=clerk), 422)
        is_problem(await client.post(f"{task}/decide", json={"decision": "maybe"}, headers=clerk), 422)
        survey = {"procedure": "site_survey", "reason": "勘察", "expected_working_days": 2}
        assert (
            is_problem(await client.post(f"{task}/pause", json=survey, headers=clerk), 422)["errors"][0][
                "field"
            ]
            == "procedure"
        )
        # Resuming a case that is not paused.
        is_problem(await client.post(f"{task}/resume", headers=clerk), 409)
        # One extension, by a supervisor only.
        extension = {"extra_working_days": 3, "reason": "需会商"}
        is_problem(await client.post(f"/v1/cases/{number}/extension", json=extension, headers=ck()), 403)
        first = await client.post(f"/v1/cases/{number}/extension", json=extension, headers=sk())
        assert first.status_code == 200, first.text
        assert first.json()["extension_working_days"] == 3
        is_problem(await client.post(f"/v1/cases/{number}/extension", json=extension, headers=sk()), 409)
        is_problem(await client.post("/v1/cases/NOPE/extension", json=extension, headers=sk()), 404)
        # Deciding twice.
        ok = await client.post(
            f"{task}/decide", json={"decision": "approve", "result": "证书1"}, headers=clerk
        )
        assert ok.status_code == 200, ok.text
        is_problem(
            await client.post(
                f"{task}/decide", json={"decision": "approve", "result": "证书2"}, headers=clerk
            ),
            409,
        )
        is_problem(
            await client.post(
                f"{task}/pause",
                json={"procedure": "public_notice", "reason": "公示", "expected_working_days": 5},
                headers=clerk,
            ),
            409,
        )
        is_problem(
            await client.post(
                "/v1/tasks/no-such-task/decide", json={"decision": "approve", "result": "x"}, headers=clerk
            ),
            404,
        )

        # Directory: an unknown org, an unknown staff member, a staff member as their own B post.
        unknown_org = {"org": "370285101201", "code": "village.committee", "name": "不存在的村"}
        assert (
            is_problem(await client.post("/v1/departments", json=unknown_org, headers=sk()), 422)["errors"][
                0
            ]["field"]
            == "org"
        )
        is_problem(await client.get("/v1/orgs/370285101201", headers=supervisor), 404)
        is_problem(await client.get("/v1/orgs/350521000000", headers=supervisor), 404)  # another county
        window = {
            "org": COUNTY,
            "number": "09",
            "name": "测试窗口",
            "departments": ["county.civil_affairs"],
            "a_post": "nobody",
            "b_post": "county-clerk",
        }
        errors = is_problem(await client.post("/v1/windows", json=window, headers=sk()), 422)["errors"]
        assert [e["field"] for e in errors] == ["a_post"]
        own_b = {**window, "a_post": "county-clerk"}
        errors = is_problem(await client.post("/v1/windows", json=own_b, headers=sk()), 422)["errors"]
        assert [e["field"] for e in errors] == ["b_post"] and "本人" in errors[0]["message"]
        unknown_dept = {**window, "a_post": None, "b_post": None, "departments": ["county.no_such"]}
        is_problem(await client.post("/v1/windows", json=unknown_dept, headers=sk()), 422)
        is_problem(
            await client.put("/v1/staff/nobody/duty", json={"on_duty": False}, headers=supervisor), 404
        )
        backwards = {
            "on_duty": True,
            "absent_from": "2026-12-02T00:00:00+08:00",
            "absent_until": "2026-12-01T00:00:00+08:00",
        }
        is_problem(await client.put("/v1/staff/county-clerk/duty", json=backwards, headers=supervisor), 422)
        wrong_tier = {"org": COUNTY, "code": "township.civil_affairs", "name": "错层级"}
        is_problem(await client.post("/v1/departments", json=wrong_tier, headers=sk()), 422)
        is_problem(
            await client.post("/v1/departments", json={**wrong_tier, "code": "county.x"}, headers=ck()),
            403,
        )
        # Lists: a malformed org filter, a limit over 100, a garbled cursor.
        is_problem(await client.get("/v1/tasks?org=12345", headers=clerk), 422)
        is_problem(await client.get("/v1/tasks?limit=101", headers=clerk), 422)
        is_problem(await client.get("/v1/staff?cursor=garbage!", headers=clerk), 422)
        is_problem(await client.get("/v1/tasks"), 401)
