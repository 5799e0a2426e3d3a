"""Journey 4: an application missing two materials gets one notice listing both; no case is opened."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import (
    COUNTY,
    Suite,
    all_pages,
    application,
    demo_materials,
    eventually,
    expect,
    idempotent,
    ok,
    person,
    presented,
    wait_for_replica,
)

pytestmark = pytest.mark.e2e

ITEM = "JF-00401-001-370285000000-01"  # 最低生活保障审核确认: four materials to bring
VILLAGE = "370285101298"  # 仰岭社区, under 姜山镇
MISSING = {"M02", "M03"}


def test_two_missing_materials_are_listed_in_one_notice_and_no_case_is_opened(county: Suite) -> None:
    agent_token = county.token("v101298-agent", "agent", VILLAGE, "仰岭社区代办员")
    wait_for_replica(county, agent_token, VILLAGE, [ITEM])
    materials = demo_materials(ITEM)
    body = application(
        ITEM, VILLAGE, person("赵桂兰", 404), materials=presented(materials, leave_out=MISSING)
    )
    with (
        county.client("intake", agent_token) as agent,
        county.client("audit", county.token("county-auditor", "auditor", COUNTY)) as audit,
    ):
        before = ok(audit.get("/v1/stats", params={"org": VILLAGE}))["totals"]
        cases_before = all_pages(agent, "/v1/cases", org=VILLAGE, item_code=ITEM)
        response = agent.post("/v1/applications", json=body, headers=idempotent())
        problem: dict[str, Any] = expect(response, 422)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["type"] == "/problems/one-time-notice"
        assert problem["status"] == 422 and problem["detail"]
        # Both at once, each with its name, required form and copies; nothing that was brought.
        issues = problem["notice"]["issues"]
        assert {i["material_code"] for i in issues} == MISSING
        names = {m.code: m for m in materials}
        for issue in issues:
            wanted = names[issue["material_code"]]
            assert issue["material_name"] == wanted.name
            assert (issue["required_form"], issue["required_copies"]) == (wanted.form.value, wanted.copies)
            assert issue["problem"] == "missing"
        # Each error points into the request: at the list that lacks the material (the notice says which).
        assert [e["field"] for e in problem["errors"]] == ["materials"] * len(MISSING)

        # The notice is kept, to print for the citizen; no case exists for it.
        number = problem["notice_number"]
        kept = ok(agent.get(f"/v1/notices/{number}"))
        assert {i["material_code"] for i in kept["issues"]} == MISSING
        assert kept["org"] == VILLAGE and kept["item_code"] == ITEM
        cases_after = all_pages(agent, "/v1/cases", org=VILLAGE, item_code=ITEM)
        assert cases_after == cases_before
        assert all(c["applicant_name"] != body["applicant"]["name"] for c in cases_after)

        # Counted as a notice, not as a case received.
        def counted() -> bool:
            after = ok(audit.get("/v1/stats", params={"org": VILLAGE}))["totals"]
            assert after["one_time_notices"] == before["one_time_notices"] + 1, after
            assert after["received"] == before["received"], after
            return True

        eventually(counted)
        logged = eventually(lambda: all_pages(audit, "/v1/audit/entries", subject=number))
        assert [e["type"] for e in logged] == ["daiban.notice.issued.v1"]
        assert logged[0]["actor"] == "v101298-agent" and logged[0]["org"] == VILLAGE
