"""Journey 3: an immediate item (即办件) concluded on the spot at the county centre's window."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import (
    COUNTY,
    Suite,
    application,
    created,
    eventually,
    idempotent,
    ok,
    person,
    wait_for_replica,
)

pytestmark = pytest.mark.e2e

ITEM = "QR-00101-001-370285000000-01"  # 内地居民结婚登记: immediate, decided and accepted at the county
CLERK = "county-clerk"  # 赵敏, A post of the county's civil affairs window


def on_the_spot_figures(audit: Any) -> dict[str, Any]:
    body = ok(audit.get("/v1/stats", params={"org": COUNTY, "group_by": "staff"}))
    zero = {"received": 0, "concluded": 0, "concluded_on_the_spot": 0}
    found: dict[str, Any] = next((g for g in body["groups"] if g["key"] == CLERK), zero)
    return found


def test_immediate_item_concluded_on_the_spot_at_the_county_window(county: Suite) -> None:
    clerk_token = county.token(CLERK, "clerk", COUNTY, "赵敏")
    wait_for_replica(county, clerk_token, COUNTY, [ITEM])
    applicant = person("张伟", 303, phone="13953200303", address="莱西市水集街道")
    body = application(
        ITEM, COUNTY, applicant, channel="window", on_the_spot={"result": "结婚证 J370285-2026-000303"}
    )
    with (
        county.client("intake", clerk_token) as clerk,
        county.client("intake") as public,
        county.client("routing", clerk_token) as routing,
        county.client("audit", county.token("county-auditor", "auditor", COUNTY)) as audit,
    ):
        before = on_the_spot_figures(audit)
        accepted = created(clerk.post("/v1/applications", json=body, headers=idempotent()))
        number, code = accepted["case_number"], accepted["query_code"]
        # Decided in the same request: the certificate is the citizen's before they leave the window.
        assert accepted["status"] == "ready_for_handover"
        assert accepted["decision"]["outcome"] == "approved"
        assert accepted["decision"]["result"] == "结婚证 J370285-2026-000303"
        assert accepted["decision"]["deciding_org"] == COUNTY
        handed = ok(
            clerk.post(
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
        progress = ok(public.get(f"/v1/public/progress/{number}", params={"query_code": code}))
        stages = [(s["stage"], s["org"]) for s in progress["stages"]]
        assert stages == [
            ("accepted", COUNTY),
            ("concluded_on_the_spot", COUNTY),
            ("handed_over", COUNTY),
        ]

        # Routing learns of it as decided and never makes it a task or moves it anywhere.
        def routed() -> dict[str, Any]:
            response = routing.get(f"/v1/cases/{number}/route")
            assert response.status_code == 200, response.text
            found: dict[str, Any] = response.json()
            return found

        route = eventually(routed)
        assert route["status"] == "decided" and route["outcome"] == "approved"
        assert route["tasks"] == [] and route["hops"] == []

        # Counted as received and concluded on the spot (即办) for the clerk who did it.
        def counted() -> bool:
            after = on_the_spot_figures(audit)
            for figure in ("received", "concluded", "concluded_on_the_spot"):
                assert after[figure] == before[figure] + 1, (figure, after)
            return True

        eventually(counted)
