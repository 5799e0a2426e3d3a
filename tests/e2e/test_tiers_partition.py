"""The tiers under load when lines and brokers fail: a township cut off from the county seat for more
than a minute, and each kind of nats-server restarted, while villages of both townships keep
bringing in cases. Nothing is lost, nothing is applied twice, and every node's audit chain verifies.

Each case's rows are counted in every table that holds cases, hops, tasks and audit entries, at
every node; each stream is checked for an event stored twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import count
from typing import Any

import httpx
import pytest

from tests.e2e.harness import (
    COUNTY,
    all_pages,
    application,
    created,
    eventually,
    idempotent,
    ok,
    person,
    wait_for_replica,
)
from tests.e2e.tiers import OTHER_TOWNSHIP, TOWNSHIP, TOWNSHIPS, TierNodes

pytestmark = pytest.mark.e2e

TOWNSHIP_ITEM = "JF-00403-001-370285000000-01"  # 临时救助: decided by the township
COUNTY_ITEM = "JF-00402-001-370285000000-01"  # 特困人员救助供养审核确认: decided by the county
# A village point of each township, its agent, and the A post of the township's window 01.
POINTS = {
    TOWNSHIP: ("370285101294", ("js-294-agent", "许春花"), ("township-clerk", "沈玉兰")),
    OTHER_TOWNSHIP: ("370285102210", ("v102210-agent", "官庄村委会代办员"), ("xgz-mz-a", "秦月")),
}
CUT_SECONDS = 65.0
_serials = count(501)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TierNodes]:
    started = TierNodes.start(tmp_path_factory.mktemp("tiers-partition"))
    try:
        for township, (village, (agent, name), _) in POINTS.items():
            token = started.suites[township].token(agent, "agent", village, name)
            wait_for_replica(started.suites[township], token, village, [TOWNSHIP_ITEM, COUNTY_ITEM])
        yield started
    finally:
        started.stop()


@dataclass
class Township:
    """A township's village agent bringing in cases and its window clerk deciding its own."""

    org: str
    village: str
    agent: httpx.Client
    clerk: httpx.Client
    cases: dict[str, list[str]] = field(default_factory=lambda: {"township": [], "county": []})

    def accept(self, kind: str) -> None:
        item = TOWNSHIP_ITEM if kind == "township" else COUNTY_ITEM
        body = application(item, self.village, person("王秀英", next(_serials), address="莱西市"))
        accepted = created(self.agent.post("/v1/applications", json=body, headers=idempotent()))
        self.cases[kind].append(accepted["case_number"])

    def decide_waiting(self) -> int:
        """Decide every task of the township's own items waiting at its window; how many."""
        decided = 0
        for task in all_pages(self.clerk, "/v1/tasks", org=self.org, status="assigned"):
            answer = self.clerk.post(
                f"/v1/tasks/{task['id']}/decide", json={"decision": "approve", "result": "准予临时救助"}
            )
            decided += ok(answer)["status"] == "decided"
        return decided

    def all_ready(self, kind: str) -> bool:
        return all(self.status(n) == "ready_for_handover" for n in self.cases[kind])

    def status(self, number: str) -> str:
        found: str = ok(self.agent.get(f"/v1/cases/{number}"))["status"]
        return found


@dataclass
class Load:
    nodes: TierNodes
    townships: dict[str, Township]
    county_clerk: httpx.Client

    @classmethod
    def open(cls, nodes: TierNodes) -> Load:
        townships = {}
        for org, (village, (agent, agent_name), (clerk, clerk_name)) in POINTS.items():
            suite = nodes.suites[org]
            townships[org] = Township(
                org,
                village,
                suite.client("intake", suite.token(agent, "agent", village, agent_name)),
                suite.client("routing", suite.token(clerk, "clerk", org, clerk_name)),
            )
        county = nodes.county.client("routing", nodes.county.token("county-clerk", "clerk", COUNTY, "赵敏"))
        return cls(nodes, townships, county)

    def close(self) -> None:
        for township in self.townships.values():
            township.agent.close()
            township.clerk.close()
        self.county_clerk.close()

    def run(self, seconds: float, during: Callable[[float], None] = lambda elapsed: None) -> None:
        """Both townships bring in a township item and a county item every ~2 s and decide their
        own items as they come; `during(elapsed)` is called on each round."""
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            for township in self.townships.values():
                township.accept("township")
                township.accept("county")
                township.decide_waiting()
            during(elapsed)
            time.sleep(1.0)

    def at_county(self, number: str) -> dict[str, Any] | None:
        tasks = all_pages(self.county_clerk, "/v1/tasks", org=COUNTY, status="assigned")
        return next((t for t in tasks if t["case_number"] == number), None)

    def finish(self) -> None:
        """Decide everything still open, at the townships and at the county, and wait until every
        case is back at its village point, ready to hand over."""
        for township in self.townships.values():
            for number in township.cases["county"]:
                task = eventually(partial(self.at_county, number))
                answer = self.county_clerk.post(
                    f"/v1/tasks/{task['id']}/decide", json={"decision": "approve", "result": "特困供养证"}
                )
                ok(answer)

        def all_ready() -> bool:
            for township in self.townships.values():
                township.decide_waiting()
            return all(t.all_ready(kind) for t in self.townships.values() for kind in t.cases)

        eventually(all_ready)


@pytest.fixture
def load(nodes: TierNodes) -> Iterator[Load]:
    opened = Load.open(nodes)
    try:
        yield opened
    finally:
        opened.close()


def count_rows(nodes: TierNodes, node: str, table: str, number: str) -> int:
    column = "number" if table == "intake.cases" else "case_number"
    [(found,)] = nodes.query(node, f"SELECT count(*) FROM {table} WHERE {column} = $1", number)
    return int(found)


def assert_each_case_once(nodes: TierNodes, load: Load) -> None:
    """Every case exactly once wherever it is held, every event stored once by each stream, and one
    audit entry per event a node's stream holds."""
    streams = nodes.events_by_case()
    for org, township in load.townships.items():
        for kind, numbers in township.cases.items():
            for number in numbers:
                assert count_rows(nodes, org, "intake.cases", number) == 1, number
                assert count_rows(nodes, org, "routing.cases", number) == 1, number
                expected_hops = 2 if kind == "township" else 4  # up and down; or up, up, down, down
                assert count_rows(nodes, org, "routing.hops", number) == expected_hops, number
                assert count_rows(nodes, org, "routing.tasks", number) == (kind == "township"), number
                at_county = 0 if kind == "township" else 1
                assert count_rows(nodes, COUNTY, "routing.cases", number) == at_county, number
                assert count_rows(nodes, COUNTY, "routing.tasks", number) == at_county, number
                assert count_rows(nodes, COUNTY, "routing.hops", number) == 2 * at_county, number
                stored = streams.get(number, [])
                twice = [
                    k for k, n in Counter((e.node, e.subject, e.envelope.id) for e in stored).items() if n > 1
                ]
                assert twice == [], (number, twice)
                for node in {e.node for e in stored}:
                    entries = nodes.query(
                        node, "SELECT event_id FROM audit.entries WHERE subject = $1", number
                    )
                    assert len(entries) == len({e for (e,) in entries}), (node, number, entries)


def assert_chains_verify(nodes: TierNodes) -> None:
    county = nodes.county
    for org in (COUNTY, *TOWNSHIPS):
        suite = nodes.suites[org]
        token = suite.token("auditor", "auditor", org, "审计人员")
        command = [sys.executable, "-m", "daiban_common.cli", "audit", "verify", "--token", token]
        command += ["--url", suite.url("audit")]
        if org != COUNTY:
            command += ["--parent-url", county.url("audit")]
        verified = subprocess.run(
            command, env=suite.process_env(), capture_output=True, text=True, timeout=120
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert json.loads(verified.stdout)["ok"] is True


def assert_nothing_skipped_or_parked(nodes: TierNodes) -> None:
    for node in nodes.suites:
        assert nodes.dead_letters(node) == [], node
    # The county node receives no event it has to skip: each stream holds only what is its own.
    assert nodes.consumed(COUNTY, "skipped") == {}
    assert nodes.consumed(COUNTY, "dead_lettered") == {}


@pytest.mark.timeout(1200)
def test_a_township_cut_off_for_a_minute_works_on_and_catches_up_exactly_once(
    nodes: TierNodes, load: Load
) -> None:
    cut, other = load.townships[TOWNSHIP], load.townships[OTHER_TOWNSHIP]
    with nodes.cut_off(TOWNSHIP):
        load.run(CUT_SECONDS)
        # The cut-off township decided its own items without the county.
        eventually(lambda: cut.decide_waiting() >= 0 and cut.all_ready("township"))
        # Its county items went no further than its own node; the other township's reached the county.
        assert all(load.at_county(n) is None for n in cut.cases["county"])
        eventually(lambda: all(load.at_county(n) for n in other.cases["county"]))
    # The line is back: every queued case arrives at the county, once.
    for number in cut.cases["county"]:
        eventually(partial(load.at_county, number))
    load.finish()
    assert_each_case_once(nodes, load)
    assert_chains_verify(nodes)
    assert_nothing_skipped_or_parked(nodes)


@pytest.mark.timeout(1200)
def test_restarting_a_leaf_and_the_hub_under_load_loses_and_doubles_nothing(
    nodes: TierNodes, load: Load
) -> None:
    leaf, hub = nodes.network.servers[TOWNSHIP], nodes.network.servers[COUNTY]

    def restart(elapsed: float) -> None:
        if elapsed >= 8 and leaf.running and not restarted:
            leaf.stop()
            leaf.start()
            restarted.append("leaf")
        if elapsed >= 18 and len(restarted) == 1:
            hub.stop()
            hub.start()
            restarted.append("hub")

    restarted: list[str] = []
    load.run(30.0, during=restart)
    assert restarted == ["leaf", "hub"]
    load.finish()
    assert_each_case_once(nodes, load)
    assert_chains_verify(nodes)
    assert_nothing_skipped_or_parked(nodes)
