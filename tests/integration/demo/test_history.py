"""The demo's history: cases of every state, the same in intake, routing and audit, written once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from daiban_common.calendar import to_shanghai_date
from daiban_common.db import asyncpg_dsn
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_devtools.demo.history import seed_node
from daiban_devtools.demo.inprocess import InProcessSuite
from daiban_devtools.demo.world import bearer
from tests.servers import Network

pytestmark = pytest.mark.integration
COUNTY = "370285000000"
# Small enough to be quick; the first cases of a plan walk through every state (plan.RECIPES).
CASES = 40
SCHEMAS = ("catalogue", "intake", "routing", "audit")


async def _rows(settings: Settings, sql: str) -> list[Any]:
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def _one(settings: Settings, sql: str) -> Any:
    return (await _rows(settings, sql))[0][0]


async def _counts(settings: Settings, sql: str) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in await _rows(settings, sql)}


async def _totals(settings: Settings) -> dict[str, int]:
    """Rows each service holds: nothing may change when the seed runs again."""
    tables = (
        "intake.cases",
        "intake.notices",
        "intake.case_stages",
        "routing.cases",
        "routing.hops",
        "routing.tasks",
        "audit.entries",
        "audit.stat_counters",
        *(f"{schema}.outbox" for schema in SCHEMAS),
    )
    return {table: int(await _one(settings, f"SELECT count(*) FROM {table}")) for table in tables}


async def test_history_is_coherent_across_services_and_seeded_once(network: Network) -> None:
    settings = await network.node(COUNTY)
    specs = list(discover_services().values())
    now = datetime.now(UTC)
    result = await seed_node(settings, specs, history_cases=CASES)
    assert result.failed == [] and result.dead_letters == 0, result.failed
    for schema in SCHEMAS:
        assert await _one(settings, f"SELECT count(*) FROM {schema}.dead_letters") == 0

    # Every state of a case is there, in intake (where the citizen applied) ...
    intake = await _counts(settings, "SELECT status, count(*) FROM intake.cases GROUP BY status")
    assert intake == result.statuses
    for status in (
        "assigned",
        "in_review",
        "paused",
        "supplement_requested",
        "ready_for_handover",
        "handed_over",
        "evaluated",
    ):
        assert intake.get(status, 0) >= 1, (status, intake)
    cases = sum(intake.values())
    assert cases >= CASES - 2
    assert await _one(settings, "SELECT count(*) FROM intake.notices") >= 1
    assert await _one(settings, "SELECT count(*) FROM intake.cases WHERE deficiencies <> '[]'::jsonb") >= 1
    levels = await _counts(settings, "SELECT level, count(*) FROM intake.evaluations GROUP BY level")
    assert levels.get("dissatisfied", 0) + levels.get("very_dissatisfied", 0) >= 1, levels
    assert levels.get("very_satisfied", 0) + levels.get("satisfied", 0) >= 1, levels
    assert await _one(settings, "SELECT count(*) FROM intake.rectifications") >= 1
    assert await _one(settings, "SELECT count(*) FROM intake.complaints") >= 1
    spread = await _rows(settings, "SELECT min(accepted_at), max(accepted_at) FROM intake.cases")
    assert spread[0][0] < now - timedelta(days=45) and spread[0][1] < now

    # ... and in routing, which moved them: the same cases, in the matching state.
    pairs = await _counts(
        settings,
        "SELECT r.status || '/' || i.status, count(*) FROM routing.cases r "
        "JOIN intake.cases i ON i.number = r.case_number GROUP BY 1",
    )
    assert sum(pairs.values()) == cases
    allowed = {
        "assigned": {"assigned"},
        "in_review": {"assigned", "in_review"},
        "escalated": {"assigned", "in_review"},
        "paused": {"paused", "supplement_requested"},
        "ready_for_handover": {"ready_for_handover", "handed_over", "evaluated"},
        # Concluded on the spot: routing records the decision, the citizen has the result at once.
        "decided": {"ready_for_handover", "handed_over", "evaluated"},
    }
    for pair in pairs:
        routed, shown = pair.split("/")
        assert shown in allowed[routed], pairs
    on_the_spot = await _one(
        settings, "SELECT count(*) FROM intake.case_stages WHERE stage = 'concluded_on_the_spot'"
    )
    assert on_the_spot >= 1
    assert await _one(settings, "SELECT count(*) FROM routing.cases WHERE extension_working_days > 0") >= 1
    assert await _one(settings, "SELECT count(*) FROM routing.cases WHERE outcome = 'refused'") >= 1
    assert (
        await _one(settings, "SELECT count(*) FROM routing.cases WHERE escalated_authority IS NOT NULL") >= 1
    )
    # The A post of the first routed case was on leave when it arrived: the B post took it (AB岗).
    posts = await _counts(settings, "SELECT post, count(*) FROM routing.tasks GROUP BY post")
    assert posts.get("b", 0) >= 1 and posts.get("a", 0) >= 1, posts
    hops = await _rows(settings, "SELECT count(*), count(received_at) FROM routing.hops")
    assert hops[0][0] >= 10 and hops[0][0] == hops[0][1]  # every hop sent was received

    # The audit log holds every event of the node once, and the chain verifies.
    logged = await _one(settings, "SELECT count(*) FROM audit.entries")
    node_subjects = f"'{settings.subject_root}.370285.%'"
    events = 0
    for schema in SCHEMAS:
        events += await _one(
            settings,
            # The events themselves: the copies for intakes (progress) share their envelopes.
            f"SELECT count(*) FROM {schema}.outbox WHERE subject LIKE {node_subjects}"
            " AND subject NOT LIKE '%.copy.%'",
        )
    assert logged == events
    async with InProcessSuite(settings, specs, delay=timedelta(seconds=2)) as suite:
        auditor = bearer(settings, sub="test-auditor", role="auditor", org=COUNTY)
        verdict = (await suite.client("audit").get("/v1/audit/verify", headers=auditor)).json()
        assert verdict["ok"] is True and verdict["checked"] == logged, verdict
        # The statistics count what the services did.
        since = to_shanghai_date(now - timedelta(days=200)).isoformat()
        stats = await suite.client("audit").get(
            "/v1/stats",
            params={"org": COUNTY, "from": since, "to": to_shanghai_date(now).isoformat()},
            headers=auditor,
        )
        totals = stats.json()["totals"]
        assert totals["received"] == cases
        assert totals["one_time_notices"] == await _one(settings, "SELECT count(*) FROM intake.notices")
        decided = await _one(settings, "SELECT count(*) FROM routing.cases WHERE decided_at IS NOT NULL")
        assert totals["concluded"] == decided and totals["concluded_overdue"] >= 1
        assert totals["concluded_on_the_spot"] == on_the_spot
        assert sum(totals["evaluations"].values()) == sum(levels.values())
        assert totals["rectifications"] >= 1 and totals["complaints"] >= 1
        # Supervision sees overdue cases as of now.
        supervisor = bearer(settings, sub="county-supervisor", role="supervisor", org=COUNTY)
        red = await suite.client("routing").get(
            "/v1/supervision/flags", params={"org": COUNTY, "level": "red"}, headers=supervisor
        )
        assert red.status_code == 200 and red.json()["items"], red.text

    # Seeding again adds nothing anywhere.
    before = await _totals(settings)
    again = await seed_node(settings, specs, history_cases=CASES)
    assert again.skipped == "the node already has cases" and again.cases == 0
    assert await _totals(settings) == before
