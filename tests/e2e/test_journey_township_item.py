"""Journey 1: a village agent accepts a promised item the township decides; it goes up, is decided
by the A post, comes back down, is handed over and rated; the public, the audit log and the
statistics each see it."""

from __future__ import annotations

import json
from datetime import datetime
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

ITEM = "JF-00401-001-370285000000-01"  # 最低生活保障审核确认: promised, decided by the township
VILLAGE = "370285101294"  # 姜山社区, whose service point the demo directory staffs
TOWNSHIP = "370285101000"  # 姜山镇: window 01 serves township.civil_affairs, A post township-clerk


def stats(audit: Any, org: str, group_by: str | None = None) -> dict[str, Any]:
    params = {"org": org} | ({"group_by": group_by} if group_by else {})
    body: dict[str, Any] = ok(audit.get("/v1/stats", params=params))
    return body


def staff_figures(body: dict[str, Any], staff: str) -> dict[str, Any]:
    return next((g for g in body["groups"] if g["key"] == staff), {"received": 0, "concluded": 0})


def test_village_to_township_and_back_with_progress_audit_and_statistics(county: Suite) -> None:
    agent_token = county.token("js-294-agent", "agent", VILLAGE, "许春花")
    clerk_token = county.token("township-clerk", "clerk", TOWNSHIP, "沈玉兰")
    auditor_token = county.token("county-auditor", "auditor", COUNTY, "县审计人员")
    wait_for_replica(county, agent_token, VILLAGE, [ITEM])
    applicant = person("王秀英", 101, phone="13953200101", address="莱西市姜山镇姜山社区")
    with (
        county.client("intake", agent_token) as agent,
        county.client("intake") as public,
        county.client("routing", clerk_token) as clerk,
        county.client("audit", auditor_token) as audit,
    ):
        village_before = stats(audit, VILLAGE)["totals"]
        decider_before = staff_figures(stats(audit, TOWNSHIP, "staff"), "township-clerk")

        accepted = created(
            agent.post("/v1/applications", json=application(ITEM, VILLAGE, applicant), headers=idempotent())
        )
        number, code = accepted["case_number"], accepted["query_code"]
        assert accepted["status"] == "accepted"
        assert accepted["first_responder"]["staff_id"] == "js-294-agent"
        # Promised in working days on the official calendar, counted from the day after acceptance.
        accepted_on = datetime.fromisoformat(accepted["receipt"]["accepted_at"]).astimezone(SHANGHAI).date()
        promised = default_calendar().add_working_days(accepted_on, 20)
        assert accepted["promised_date"] == promised.date.isoformat()
        assert accepted["promised_date_provisional"] is promised.provisional

        def progress() -> dict[str, Any]:
            body: dict[str, Any] = ok(
                public.get(f"/v1/public/progress/{number}", params={"query_code": code})
            )
            return body

        # Up one hop to the township, where the A post of the civil affairs window gets it.
        assigned = eventually(lambda: progress()["status"] == "assigned" and progress())
        assert assigned["holding_org"] == TOWNSHIP

        def task() -> dict[str, Any] | None:
            tasks = all_pages(clerk, "/v1/tasks", org=TOWNSHIP)
            return next((t for t in tasks if t["case_number"] == number), None)

        found = eventually(task)
        assert (found["window"], found["staff_id"], found["post"]) == ("01", "township-clerk", "a")
        assert found["department"] == "township.civil_affairs"

        ok(clerk.post(f"/v1/tasks/{found['id']}/claim"))
        decided = ok(
            clerk.post(
                f"/v1/tasks/{found['id']}/decide",
                json={"decision": "approve", "result": "低保证 JS-2026-0101，月保障金按标准发放"},
            )
        )
        assert decided["outcome"] == "approved"

        # Back down to the village, where the agent hands the result over.
        ready = eventually(lambda: progress()["status"] == "ready_for_handover" and progress())
        assert ready["holding_org"] == VILLAGE
        assert ready["outcome"] == "approved"
        handed = ok(
            agent.post(
                f"/v1/cases/{number}/handover",
                json={
                    "method": "in_person",
                    "recipient_name": applicant["name"],
                    "recipient_id_number": applicant["id_number"],
                },
                headers=idempotent(),
            )
        )
        assert handed["status"] == "handed_over"
        rated = created(
            public.post(
                "/v1/public/evaluations",
                json={"case_number": number, "query_code": code, "level": "very_satisfied"},
            )
        )
        assert rated["rectification_opened"] is False

        # The public page shows every stage, in order, at the unit where it happened.
        final = progress()
        assert final["status"] == "evaluated"
        stages = [(s["stage"], s["org"]) for s in final["stages"]]
        expected = [
            ("accepted", VILLAGE),
            ("forwarded", VILLAGE),
            ("received", TOWNSHIP),
            ("assigned", TOWNSHIP),
            ("in_review", TOWNSHIP),  # the clerk's decision claims the task first
            ("approved", TOWNSHIP),
            ("returned_down", TOWNSHIP),
            ("received", VILLAGE),
            ("ready_for_handover", VILLAGE),
            ("handed_over", VILLAGE),
            ("evaluated", VILLAGE),
        ]
        assert stages == expected, stages
        shown = json.dumps(final, ensure_ascii=False)
        for private in (applicant["name"], applicant["id_number"], applicant["phone"], "沈玉兰", "许春花"):
            assert private not in shown

        # The route keeps both hops, each acknowledged by its receiver.
        route = ok(clerk.get(f"/v1/cases/{number}/route"))
        hops = [(h["direction"], h["from_org"], h["to_org"]) for h in route["hops"]]
        assert hops == [("up", VILLAGE, TOWNSHIP), ("down", TOWNSHIP, VILLAGE)]
        assert all(h["received_at"] for h in route["hops"])

        # The audit log holds every step once, attributed; the chain verifies.
        journey = [
            "daiban.case.accepted.v1",
            "daiban.case.forwarded.v1",
            "daiban.case.assigned.v1",
            "daiban.case.task_claimed.v1",
            "daiban.case.decided.v1",
            "daiban.case.returned_down.v1",
            "daiban.case.ready_for_handover.v1",
            "daiban.case.handed_over.v1",
            "daiban.case.evaluated.v1",
        ]

        def logged() -> list[dict[str, Any]]:
            entries = all_pages(audit, "/v1/audit/entries", subject=number)
            types = [e["type"] for e in entries]
            assert all(t in types for t in journey), types
            return entries

        entries = eventually(logged)
        types = [e["type"] for e in entries]
        assert [t for t in types if t in journey] == journey
        assert types.count("daiban.case.received.v1") == 2
        assert len({e["event_id"] for e in entries}) == len(entries)
        actors = {e["type"]: e["actor"] for e in entries}
        assert actors["daiban.case.accepted.v1"] == "js-294-agent"
        assert actors["daiban.case.decided.v1"] == "township-clerk"
        assert actors["daiban.case.handed_over.v1"] == "js-294-agent"
        verdict = ok(audit.get("/v1/audit/verify"))
        assert verdict["ok"] is True, verdict
        assert verdict["checked"] >= len(entries)

        # Statistics count it where it happened: received and rated at the village, concluded by
        # the township's A post.
        def counted() -> bool:
            village = stats(audit, VILLAGE)["totals"]
            decider = staff_figures(stats(audit, TOWNSHIP, "staff"), "township-clerk")
            assert village["received"] == village_before["received"] + 1, village
            assert village["by_handling_mode"]["agency"] == village_before["by_handling_mode"]["agency"] + 1
            assert (
                village["evaluations"]["very_satisfied"]
                == village_before["evaluations"]["very_satisfied"] + 1
            ), village
            assert decider["concluded"] == decider_before["concluded"] + 1, decider
            return True

        eventually(counted)
