"""Journey 6: supervision shows a case red as of the day after its deadline; a dissatisfied rating
after handover opens a rectification for the unit that decided it."""

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

ITEM = "JF-00403-001-370285000000-01"  # 临时救助: 5 working days, decided by the township
VILLAGE = "370285102255"  # 曲格庄村, under 夏格庄镇
TOWNSHIP = "370285102000"  # window 01, A post xgz-mz-a (秦月)
A_POST = "xgz-mz-a"


def flag_of(supervision: Any, number: str, as_of: datetime) -> dict[str, Any] | None:
    flags = all_pages(supervision, "/v1/supervision/flags", org=TOWNSHIP, as_of=as_of.isoformat())
    return next((f for f in flags if f["case_number"] == number), None)


def at_ten(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=SHANGHAI)


def test_red_as_of_the_day_after_the_deadline_and_a_rectification_after_a_bad_rating(
    county: Suite,
) -> None:
    agent_token = county.token("v102255-agent", "agent", VILLAGE, "曲格庄村代办员")
    wait_for_replica(county, agent_token, VILLAGE, [ITEM])
    applicant = person("孙丽", 606, phone="13953200606")
    with (
        county.client("intake", agent_token) as agent,
        county.client("intake") as public,
        county.client("routing", county.token(A_POST, "clerk", TOWNSHIP, "秦月")) as clerk,
        county.client("routing", county.token("county-supervisor", "supervisor", COUNTY)) as supervision,
        county.client("audit", county.token("county-auditor", "auditor", COUNTY)) as audit,
    ):
        before = ok(audit.get("/v1/stats", params={"org": TOWNSHIP}))["totals"]
        village_before = ok(audit.get("/v1/stats", params={"org": VILLAGE}))["totals"]
        body = application(ITEM, VILLAGE, applicant)
        accepted = created(agent.post("/v1/applications", json=body, headers=idempotent()))
        number, code = accepted["case_number"], accepted["query_code"]

        def task() -> dict[str, Any] | None:
            tasks = all_pages(clerk, "/v1/tasks", org=TOWNSHIP, staff_id=A_POST)
            return next((t for t in tasks if t["case_number"] == number), None)

        assigned = eventually(task)
        due = date.fromisoformat(ok(supervision.get(f"/v1/cases/{number}/route"))["due_date"])
        calendar = default_calendar()

        # Nothing to flag today; on the working day after the deadline, red for one day overdue.
        assert flag_of(supervision, number, datetime.now(SHANGHAI)) is None
        day_after = calendar.add_working_days(due, 1).date
        red = flag_of(supervision, number, at_ten(day_after))
        assert red is not None, "no flag the day after the deadline"
        assert (red["level"], red["due_date"], red["org"]) == ("red", due.isoformat(), TOWNSHIP)
        assert "超期1个工作日" in red["reason"]
        assert red["as_of"] == day_after.isoformat()
        # Red only once the deadline has passed: on the deadline itself it is not (yet) red.
        on_due = flag_of(supervision, number, at_ten(due))
        assert on_due is None or on_due["level"] == "yellow"

        # Decided, brought back, handed over; the citizen is not satisfied.
        ok(clerk.post(f"/v1/tasks/{assigned['id']}/claim"))
        ok(
            clerk.post(
                f"/v1/tasks/{assigned['id']}/decide",
                json={"decision": "approve", "result": "临时救助金 800 元"},
            )
        )
        eventually(
            lambda: (
                ok(public.get(f"/v1/public/progress/{number}", params={"query_code": code}))["status"]
                == "ready_for_handover"
            )
        )
        ok(
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
        rated = created(
            public.post(
                "/v1/public/evaluations",
                json={
                    "case_number": number,
                    "query_code": code,
                    "level": "dissatisfied",
                    "comment": "跑了两趟才拿到结果，窗口电话13953200606一直没人接",
                },
            )
        )
        assert rated["rectification_opened"] is True

        # The rectification is the deciding township's, due in 15 working days, and on the record.
        def opened() -> dict[str, Any]:
            kind = "daiban.rectification.opened.v1"
            entries = all_pages(audit, "/v1/audit/entries", subject=number, type=kind)
            assert len(entries) == 1, entries
            return entries[0]

        entry = eventually(opened)
        assert entry["org"] == TOWNSHIP
        rectification = entry["data"]
        assert rectification["org"] == TOWNSHIP
        assert "不满意" in rectification["reason"]
        assert "13953200606" not in rectification["reason"]  # masked in the record
        opened_on = datetime.fromisoformat(rectification["opened_at"]).astimezone(SHANGHAI).date()
        fifteen = calendar.add_working_days(opened_on, 15).date
        assert date.fromisoformat(rectification["due_date"]) == fifteen

        def counted() -> bool:
            after = ok(audit.get("/v1/stats", params={"org": TOWNSHIP}))["totals"]
            assert after["rectifications"] == before["rectifications"] + 1, after
            village = ok(audit.get("/v1/stats", params={"org": VILLAGE}))["totals"]
            dissatisfied = village_before["evaluations"]["dissatisfied"] + 1
            assert village["evaluations"]["dissatisfied"] == dissatisfied, village
            return True

        eventually(counted)
