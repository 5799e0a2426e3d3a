"""Journey 2: a joint county item accepted at a village goes up two hops and splits into parallel
tasks at the county's departments; one asks for a supplement (the clock stops and the deadline moves
while it waits), the applicant brings it to the village, every department approves, and the result
travels back down to the village."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from daiban_common.calendar import SHANGHAI, default_calendar
from tests.e2e.harness import (
    COUNTY,
    Suite,
    all_pages,
    application,
    created,
    eventually,
    idempotent,
    ok,
    person,
    wait_for_replica,
)

pytestmark = pytest.mark.e2e

# 新生儿出生“一件事”: joint, decided by the county, acceptable at a village; the health bureau leads,
# public security and healthcare security review in parallel (three windows of the county centre).
ITEM = "GG-00801-001-370285000000-01"
VILLAGE = "370285101295"  # 垛埠社区, under 姜山镇
TOWNSHIP = "370285101000"
A_POSTS = {
    "county.health": ("lx-wj-a", "07"),
    "county.public_security": ("lx-ga-a", "02"),
    "county.healthcare_security": ("lx-yb-a", "08"),
}
SUPPLEMENT = {
    "material_code": "M04",
    "material_name": "拟落户的居民户口簿",
    "problem": "invalid",
    "required_form": "original",
    "required_copies": 1,
    "note": "户口簿户主页缺少登记机关印章",
}


def flag_of(supervision: Any, number: str, as_of: datetime) -> dict[str, Any] | None:
    flags = all_pages(supervision, "/v1/supervision/flags", org=COUNTY, as_of=as_of.isoformat())
    return next((f for f in flags if f["case_number"] == number), None)


def test_joint_item_parallel_tasks_supplement_and_back_to_the_village(county: Suite) -> None:
    agent_token = county.token("v101295-agent", "agent", VILLAGE, "垛埠社区代办员")
    wait_for_replica(county, agent_token, VILLAGE, [ITEM])
    applicant = person("李娜", 202, phone="13953200202", address="莱西市姜山镇垛埠社区")
    staff = {
        department: county.client("routing", county.token(sub, "clerk", COUNTY))
        for department, (sub, _) in A_POSTS.items()
    }
    with (
        county.client("intake", agent_token) as agent,
        county.client("intake") as public,
        county.client("routing", county.token("county-supervisor", "supervisor", COUNTY)) as supervision,
    ):
        accepted = created(
            agent.post("/v1/applications", json=application(ITEM, VILLAGE, applicant), headers=idempotent())
        )
        number, code = accepted["case_number"], accepted["query_code"]

        def progress() -> dict[str, Any]:
            body: dict[str, Any] = ok(
                public.get(f"/v1/public/progress/{number}", params={"query_code": code})
            )
            return body

        def route() -> dict[str, Any]:
            body: dict[str, Any] = ok(supervision.get(f"/v1/cases/{number}/route"))
            return body

        # Forwarded twice (village -> township -> county), then one task per department, in parallel.
        def split() -> dict[str, Any] | None:
            found = route()
            return found if len(found["tasks"]) == len(A_POSTS) else None

        routed = eventually(split)
        assert [(h["direction"], h["from_org"], h["to_org"]) for h in routed["hops"]] == [
            ("up", VILLAGE, TOWNSHIP),
            ("up", TOWNSHIP, COUNTY),
        ]
        tasks = {t["department"]: t for t in routed["tasks"]}
        for department, (sub, window) in A_POSTS.items():
            assert (tasks[department]["window"], tasks[department]["staff_id"]) == (window, sub)
            assert tasks[department]["status"] == "assigned"
        assert tasks["county.health"]["lead"] is True
        original_due = date.fromisoformat(routed["due_date"])

        # Public security finds the household register wrong and asks for it once (一次性告知).
        police = staff["county.public_security"]
        asked = ok(
            police.post(
                f"/v1/tasks/{tasks['county.public_security']['id']}/decide",
                json={"decision": "supplement", "issues": [SUPPLEMENT]},
            )
        )
        assert asked["status"] == "paused"
        assert route()["status"] == "paused"
        waiting = eventually(
            lambda: (
                {"supplement_requested", "paused"} <= {s["stage"] for s in progress()["stages"]}
                and progress()
            )
        )
        assert (waiting["status"], waiting["holding_org"]) == ("supplement_requested", COUNTY)

        # While it waits the clock stands still: ten working days past the original deadline the
        # case is not overdue, and its deadline has moved past that day.
        calendar = default_calendar()
        later_day = calendar.add_working_days(original_due, 10).date
        later = datetime.combine(later_day, time(10), tzinfo=SHANGHAI)
        flag = flag_of(supervision, number, later)
        assert flag is not None and flag["level"] == "yellow", flag  # watched while waiting (退补件监控)
        assert "补正" in flag["reason"]
        assert date.fromisoformat(flag["due_date"]) > later_day > original_due

        # The applicant brings the register to the village point; the clock runs again.
        supplied = created(
            agent.post(
                f"/v1/cases/{number}/supplements",
                json={"materials": [{"code": "M04", "form": "original", "copies": 1}]},
                headers=idempotent(),
            )
        )
        assert supplied["kind"] == "supplement"
        resumed = eventually(lambda: route()["status"] == "in_review" and route())
        assert all(p["ended_at"] for p in resumed["pauses"])
        # Running again, the same future moment is past its deadline: the pause no longer holds it.
        red = flag_of(supervision, number, later)
        assert red is not None and red["level"] == "red", red

        # Every department approves; the case is decided when the last one does.
        for department, client in staff.items():
            ok(
                client.post(
                    f"/v1/tasks/{tasks[department]['id']}/decide",
                    json={"decision": "approve", "result": f"{department} 办结 LX-2026-0202"},
                )
            )

        # The result travels back down, hop by hop, to the village where the citizen applied.
        ready = eventually(lambda: progress()["status"] == "ready_for_handover" and progress())
        assert ready["holding_org"] == VILLAGE
        assert ready["outcome"] == "approved"
        final_route = route()
        assert [(h["direction"], h["from_org"], h["to_org"]) for h in final_route["hops"]] == [
            ("up", VILLAGE, TOWNSHIP),
            ("up", TOWNSHIP, COUNTY),
            ("down", COUNTY, TOWNSHIP),
            ("down", TOWNSHIP, VILLAGE),
        ]
        assert all(h["received_at"] for h in final_route["hops"])
        assert {d["department"] for d in final_route["decisions"]} == set(A_POSTS)
        stages = [s["stage"] for s in ready["stages"]]
        for stage in ("supplement_requested", "supplemented", "resumed", "approved", "ready_for_handover"):
            assert stage in stages, stages
        assert stages.index("supplement_requested") < stages.index("supplemented") < stages.index("approved")
    for client in staff.values():
        client.close()
