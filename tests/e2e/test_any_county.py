"""A newcomer runs another county than Laixi with one variable: `DAIBAN_ORG=420684000000 make run`.

Yicheng (宜城市) comes from the national division data the repository ships, with generated demo
staffing and the demo catalogue moved to it; its townships are in routing's `/v1/orgs`, and a
village agent of the generated staffing accepts a case that goes up to its township's window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from daiban_common.divisions import county_name, divisions_dir, read_county
from daiban_contracts.orgcodes import Tier
from tests.e2e.harness import (
    Suite,
    all_pages,
    application,
    created,
    eventually,
    idempotent,
    ok,
    resident_id,
    wait_for_replica,
)

pytestmark = pytest.mark.e2e

YICHENG = "420684000000"
# 最低生活保障审核确认 (promised, decided by the township's civil affairs window), moved to Yicheng.
ITEM = "JF-00401-001-420684000000-01"


def test_yicheng_runs_with_its_townships_and_a_village_agent_accepts_a_case(tmp_path: Path) -> None:
    units = read_county(divisions_dir(None), YICHENG)
    townships = {u.code: u.name for u in units if u.tier is Tier.township}
    # The banner's tokens name the first township and its first village (daiban_devtools.cli).
    township = min(townships)
    village = min(u.code for u in units if u.parent_code == township)
    suite = Suite.start(tmp_path / "var", org=YICHENG)
    try:
        assert f"node {YICHENG}" in suite.banner and village in suite.banner
        admin = suite.token("county-admin", "admin", YICHENG)
        with suite.client("routing", admin) as routing:
            listed = all_pages(routing, "/v1/orgs", tier="township")
            assert {o["code"]: o["name"] for o in listed} == townships
            centre = ok(routing.get(f"/v1/orgs/{YICHENG}"))
            assert centre["name"] == county_name(divisions_dir(None), YICHENG) == "宜城市"
            staff = {s["staff_id"]: s for s in all_pages(routing, "/v1/staff", org=village)}
        agent_id = f"v{village[6:]}-agent"
        assert staff[agent_id]["name"].endswith("（演示）")

        agent_token = suite.token(agent_id, "agent", village, staff[agent_id]["name"])
        wait_for_replica(suite, agent_token, village, [ITEM])
        applicant = {
            "kind": "person",
            "name": "李秀兰",
            "id_number": resident_id(7, region="420684"),
            "phone": "13971000007",
            "address": f"宜城市{townships[township]}",
        }
        body = application(ITEM, village, applicant)
        with suite.client("intake", agent_token) as agent, suite.client("intake") as public:
            accepted = created(agent.post("/v1/applications", json=body, headers=idempotent()))
            assert accepted["status"] == "accepted"
            assert accepted["first_responder"]["staff_id"] == agent_id

            def progress() -> dict[str, Any]:
                params = {"query_code": accepted["query_code"]}
                answer: dict[str, Any] = ok(
                    public.get(f"/v1/public/progress/{accepted['case_number']}", params=params)
                )
                return answer

            # Up one hop to the township, where the generated civil affairs window takes it.
            assigned = eventually(lambda: progress()["status"] == "assigned" and progress())
            assert assigned["holding_org"] == township
    finally:
        suite.stop()
