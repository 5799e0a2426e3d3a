"""Directory changes leave a trace (issue 12): every edit and import emits its event, and audit logs it
with the editor as actor, the unit concerned as org, and what the entry was before and after."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.routing.helpers import COUNTY, JIANGSHAN, bearer, keyed, seeded_routing
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

CSV = {"content-type": "text/csv"}


async def test_directory_changes_are_logged_by_audit(network: Network) -> None:
    async with seeded_routing(network) as (settings, routing), running("audit", settings) as audit:
        client = routing.client
        supervisor = bearer(settings, "js-supervisor", "supervisor", JIANGSHAN)
        auditor = bearer(settings, "county-auditor", "auditor", COUNTY)

        async def logged(type_name: str, count: int = 1) -> list[dict[str, Any]]:
            async def entries() -> list[dict[str, Any]]:
                response = await audit.client.get(
                    "/v1/audit/entries", params={"type": type_name, "limit": 100}, headers=auditor
                )
                assert response.status_code == 200, response.text
                items: list[dict[str, Any]] = response.json()["items"]
                return items if len(items) >= count else []

            found = await eventually(entries)
            assert isinstance(found, list)
            return found

        # The AB posts of 姜山镇's window 01 are swapped: who was A and B post, who changed it, when.
        windows = await client.get("/v1/windows", params={"org": JIANGSHAN}, headers=supervisor)
        window = next(w for w in windows.json()["items"] if w["number"] == "01")
        swapped = {**window, "a_post": window["b_post"], "b_post": window["a_post"]}
        del swapped["id"]
        changed = await client.put(f"/v1/windows/{window['id']}", json=swapped, headers=supervisor)
        assert changed.status_code == 200, changed.text
        [entry] = await logged("daiban.directory.window_changed.v1")
        assert entry["actor"] == "js-supervisor" and entry["org"] == JIANGSHAN
        data = entry["data"]
        assert data["change"] == "updated" and data["source"] == "api"
        assert (data["before"]["a_post"], data["before"]["b_post"]) == (
            window["a_post"],
            window["b_post"],
        )
        assert (data["after"]["a_post"], data["after"]["b_post"]) == (window["b_post"], window["a_post"])
        assert data["changed_by"] == "js-supervisor" and data["changed_at"]

        # Leave: on duty, off duty; the reason itself stays in the directory.
        duty = {
            "on_duty": True,
            "absent_from": "2026-12-01T00:00:00+08:00",
            "absent_until": "2026-12-04T00:00:00+08:00",
            "reason": "病假，联系电话13812345678",
        }
        on_leave = await client.put(f"/v1/staff/{window['a_post']}/duty", json=duty, headers=supervisor)
        assert on_leave.status_code == 200, on_leave.text
        [leave] = await logged("daiban.directory.duty_changed.v1")
        assert leave["actor"] == "js-supervisor" and leave["subject"] == f"staff:{window['a_post']}"
        assert leave["data"]["before"]["absent_from"] is None
        assert leave["data"]["after"]["reason_given"] is True
        assert "13812345678" not in str(leave["data"]) and "病假" not in str(leave["data"])

        # An import: one event per row that changed anything, none for the unchanged row.
        person = await _staff(client, supervisor, window["a_post"])
        staff_csv = (
            "staff_id,name,role,org,windows\n"
            "js-new-a,林一,clerk,370285101000,\n"
            f"{person['staff_id']},{person['name']},{person['role']},{JIANGSHAN},{';'.join(person['windows'])}\n"
        )
        imported = await client.post(
            "/v1/staff/import", content=staff_csv.encode(), headers={**supervisor, **CSV}
        )
        assert imported.json() == {"created": 1, "updated": 0, "unchanged": 1}, imported.text
        [created] = await logged("daiban.directory.staff_changed.v1")
        assert created["actor"] == "js-supervisor" and created["data"]["source"] == "csv_import"
        assert created["data"]["before"] is None and created["data"]["after"]["staff_id"] == "js-new-a"

        # Departments and service points, and deleting.
        department = {"org": JIANGSHAN, "code": "township.forestry", "name": "姜山镇林业站"}
        made = await client.post("/v1/departments", json=department, headers=keyed(supervisor))
        assert made.status_code == 201, made.text
        gone = await client.delete(f"/v1/departments/{made.json()['id']}", headers=supervisor)
        assert gone.status_code == 204, gone.text
        changes = await logged("daiban.directory.department_changed.v1", 2)
        assert sorted(e["data"]["change"] for e in changes) == ["created", "deleted"]
        point = {
            "name": "姜山镇便民服务中心",
            "address": "姜山镇政府一楼",
            "phone": "0532-88888888",
            "opening_hours": "9:00—17:00",
        }
        moved = await client.put(f"/v1/orgs/{JIANGSHAN}/service-point", json=point, headers=supervisor)
        assert moved.status_code == 200, moved.text
        [point_entry] = await logged("daiban.directory.service_point_changed.v1")
        assert point_entry["data"]["after"]["address"] == "姜山镇政府一楼"
        assert point_entry["data"]["before"]["address"] != "姜山镇政府一楼"

        # The seed published the county's units; that is logged too, by routing itself.
        [units] = await logged("daiban.directory.org_units_published.v1")
        assert units["actor"] == "system:routing" and units["org"] == COUNTY
        assert len(units["data"]["units"]) == 1 + 11 + 182


async def _staff(client: Any, headers: dict[str, str], staff_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/staff/{staff_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
