"""Tiers that run separately: the county node (Laixi) and the township nodes of 姜山镇 and 夏格庄镇,
each its own `daiban run` with its own database and its own nats-server (tests/e2e/tiers.py).

A township item never leaves the township node; a county item goes up to the county node and its
result comes back; with the county node's services stopped the township works on and what goes up
waits in the county's stream, to be applied exactly once when they are back; the township's audit
log verifies against the signed checkpoints the county holds for it. The partition tests are in
test_tiers_partition.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from itertools import count
from typing import Any

import httpx
import pytest

from daiban_contracts.orgcodes import OrgCode
from tests.e2e.harness import (
    COUNTY,
    all_pages,
    application,
    created,
    eventually,
    expect,
    idempotent,
    ok,
    person,
    wait_for_replica,
)
from tests.e2e.tiers import OTHER_TOWNSHIP, TOWNSHIP, Stored, TierNodes

pytestmark = pytest.mark.e2e

TOWNSHIP_ITEM = "JF-00403-001-370285000000-01"  # 临时救助: promised, decided by the township
COUNTY_ITEM = "JF-00402-001-370285000000-01"  # 特困人员救助供养审核确认: promised, decided by the county
VILLAGE = "370285101294"  # 姜山社区, a village point of 姜山镇
COUNTY_ROUTING = "n370285000000-routing-cases"  # the county node's durable consumer of case events
FORWARDED, RECEIVED = "daiban.case.forwarded.v1", "daiban.case.received.v1"
SUPPLEMENT = {
    "material_code": "M03",
    "material_name": "家庭经济状况核对授权书",
    "problem": "invalid",
    "required_form": "original",
    "required_copies": 1,
    "note": "授权书缺少共同生活家庭成员签字",
}
# Applicants told apart by their resident ID numbers, across the tests of the module.
_serials = count(301)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TierNodes]:
    started = TierNodes.start(tmp_path_factory.mktemp("tiers"))
    try:
        # The township's intake accepts from its replica of the county's catalogue.
        agent = started.township.token("js-294-agent", "agent", VILLAGE, "许春花")
        wait_for_replica(started.township, agent, VILLAGE, [TOWNSHIP_ITEM, COUNTY_ITEM])
        yield started
    finally:
        started.stop()


class People:
    """The clients the journeys use: the village agent and the township's A post of window 01 at the
    township node, the county's A post of window 01 (civil affairs) at the county node: the tasks
    are assigned to them, and only a task's holder decides it (AB岗)."""

    def __init__(self, nodes: TierNodes) -> None:
        town, county = nodes.township, nodes.county
        self.agent = town.client("intake", town.token("js-294-agent", "agent", VILLAGE, "许春花"))
        self.town_routing = town.client("routing", town.token("township-clerk", "clerk", TOWNSHIP, "沈玉兰"))
        a_post = county.token("county-clerk", "clerk", COUNTY, "赵敏")
        self.county_routing = county.client("routing", a_post)
        self.county_intake = county.client("intake", county.token("county-clerk", "clerk", COUNTY, "赵敏"))
        supervisor = county.token("county-supervisor", "supervisor", COUNTY, "县电子监察")
        self.county_stats = county.client("audit", supervisor)

    def close(self) -> None:
        for client in (
            self.agent,
            self.town_routing,
            self.county_routing,
            self.county_intake,
            self.county_stats,
        ):
            client.close()

    def accept(self, item: str) -> str:
        body = application(item, VILLAGE, person("刘桂兰", next(_serials), address="莱西市姜山镇姜山社区"))
        accepted = created(self.agent.post("/v1/applications", json=body, headers=idempotent()))
        number: str = accepted["case_number"]
        return number

    def case(self, number: str) -> dict[str, Any]:
        """The case as the accepting point's intake (at the township node) shows it."""
        body: dict[str, Any] = ok(self.agent.get(f"/v1/cases/{number}"))
        return body


@pytest.fixture
def people(nodes: TierNodes) -> Iterator[People]:
    found = People(nodes)
    try:
        yield found
    finally:
        found.close()


def task_of(routing: httpx.Client, org: str, number: str) -> dict[str, Any] | None:
    tasks = all_pages(routing, "/v1/tasks", org=org, status="assigned")
    return next((t for t in tasks if t["case_number"] == number), None)


def route(routing: httpx.Client, number: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(routing.get(f"/v1/cases/{number}/route"))
    return body


def hops(found: dict[str, Any]) -> list[tuple[str, int, str, str, bool]]:
    return [
        (h["direction"], h["hop"], h["from_org"], h["to_org"], h["received_at"] is not None)
        for h in found["hops"]
    ]


def decide(routing: httpx.Client, task: dict[str, Any], **decision: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(routing.post(f"/v1/tasks/{task['id']}/decide", json=decision))
    return body


def ready(people: People, number: str) -> dict[str, Any] | None:
    found = people.case(number)
    return found if found["status"] == "ready_for_handover" else None


def acknowledged(routing: httpx.Client, number: str) -> bool:
    """The last hop the node sent has been acknowledged by its receiver."""
    return hops(route(routing, number))[-1][-1]


def within_township(org: str) -> bool:
    return OrgCode.parse(org).is_within(OrgCode.parse(TOWNSHIP))


def no_dead_letters(nodes: TierNodes) -> bool:
    parked = {node: nodes.dead_letters(node) for node in nodes.suites}
    assert all(rows == [] for rows in parked.values()), parked
    return True


def events_only(stored: list[Stored]) -> list[Stored]:
    """The events themselves, without the copies sent to other nodes."""
    return [e for e in stored if not e.is_copy]


def test_a_township_item_is_decided_entirely_within_the_township_node(
    nodes: TierNodes, people: People
) -> None:
    number = people.accept(TOWNSHIP_ITEM)
    task = eventually(lambda: task_of(people.town_routing, TOWNSHIP, number))
    assert (task["org"], task["department"], task["window"]) == (TOWNSHIP, "township.civil_affairs", "01")
    decide(people.town_routing, task, decision="approve", result="准予临时救助 JS-LS-2026-0301")

    done = eventually(lambda: ready(people, number))
    assert done["decision"]["deciding_org"] == TOWNSHIP and done["decision"]["outcome"] == "approved"
    assert hops(route(people.town_routing, number)) == [
        ("up", 1, VILLAGE, TOWNSHIP, True),
        ("down", 1, TOWNSHIP, VILLAGE, True),
    ]
    # The county node took no part: no record of the case at its routing or intake, every event of
    # the case addressed inside the township and stored by its node; the county's stream holds only
    # the countywide copies its statistics count, the other township's nothing.
    expect(people.county_routing.get(f"/v1/cases/{number}/route"), 404)
    expect(people.county_intake.get(f"/v1/cases/{number}"), 404)
    stored = nodes.events_of(number)
    events = events_only(stored)
    assert {e.envelope.type for e in events} >= {
        "daiban.case.accepted.v1",
        "daiban.case.decided.v1",
        "daiban.case.ready_for_handover.v1",
    }
    assert all(within_township(e.envelope.org) and e.node == TOWNSHIP for e in events), [
        (e.envelope.type, e.envelope.org, e.node) for e in events
    ]
    at_county = [e for e in stored if e.node == COUNTY]
    assert at_county and all(".copy.countywide." in e.subject for e in at_county), at_county
    assert {e.envelope.type for e in at_county} == {
        "daiban.case.accepted.v1",
        "daiban.case.forwarded.v1",
        "daiban.case.assigned.v1",
        "daiban.case.decided.v1",
    }
    assert not [e for e in stored if e.node == OTHER_TOWNSHIP]

    # The county's statistics count the township's case all the same.
    def counted() -> dict[str, Any] | None:
        found = ok(people.county_stats.get("/v1/stats", params={"org": TOWNSHIP}))
        return found if found["totals"]["received"] >= 1 and found["totals"]["concluded"] >= 1 else None

    eventually(counted)
    assert no_dead_letters(nodes)


def test_a_county_item_goes_up_to_the_county_node_and_its_result_comes_back(
    nodes: TierNodes, people: People
) -> None:
    number = people.accept(COUNTY_ITEM)
    task = eventually(lambda: task_of(people.county_routing, COUNTY, number))
    assert (task["department"], task["window"]) == ("county.civil_affairs", "01")
    assert hops(route(people.county_routing, number)) == [("up", 2, TOWNSHIP, COUNTY, True)]
    eventually(partial(acknowledged, people.town_routing, number))  # the county's receipt came back
    assert hops(route(people.town_routing, number)) == [
        ("up", 1, VILLAGE, TOWNSHIP, True),
        ("up", 2, TOWNSHIP, COUNTY, True),
    ]

    # A supplement crosses the nodes too: asked at the county, brought to the village point.
    asked = decide(people.county_routing, task, decision="supplement", issues=[SUPPLEMENT])
    assert asked["status"] == "paused"

    def asked_for_supplement() -> dict[str, Any] | None:
        found = people.case(number)
        return found if found["status"] == "supplement_requested" else None

    waiting = eventually(asked_for_supplement)
    assert waiting["holding_org"] == COUNTY
    created(
        people.agent.post(
            f"/v1/cases/{number}/supplements",
            json={"materials": [{"code": "M03", "form": "original", "copies": 1}]},
            headers=idempotent(),
        )
    )

    def running_again() -> dict[str, Any] | None:
        found = route(people.county_routing, number)
        return found if found["status"] == "in_review" else None

    resumed = eventually(running_again)
    assert resumed["pauses"] and all(p["ended_at"] for p in resumed["pauses"])
    decide(people.county_routing, task, decision="approve", result="特困供养证 LX-TK-2026-0302")

    done = eventually(lambda: ready(people, number))
    assert done["decision"]["deciding_org"] == COUNTY
    assert done["decision"]["result"] == "特困供养证 LX-TK-2026-0302"
    assert hops(route(people.town_routing, number)) == [
        ("up", 1, VILLAGE, TOWNSHIP, True),
        ("up", 2, TOWNSHIP, COUNTY, True),
        ("down", 1, COUNTY, TOWNSHIP, True),
        ("down", 2, TOWNSHIP, VILLAGE, True),
    ]
    eventually(partial(acknowledged, people.county_routing, number))  # the township's receipt
    at_county = route(people.county_routing, number)
    assert at_county["status"] == "returned_down"
    assert hops(at_county) == [("up", 2, TOWNSHIP, COUNTY, True), ("down", 1, COUNTY, TOWNSHIP, True)]
    assert no_dead_letters(nodes)


def test_with_the_county_node_down_the_township_works_on_and_queued_cases_arrive_once(
    nodes: TierNodes, people: People
) -> None:
    nodes.county.stop()
    try:
        # The township's own item: accepted, decided and back at the village without the county.
        own = people.accept(TOWNSHIP_ITEM)
        task = eventually(lambda: task_of(people.town_routing, TOWNSHIP, own))
        decide(people.town_routing, task, decision="approve", result="准予临时救助 JS-LS-2026-0303")
        assert eventually(lambda: ready(people, own))["decision"]["deciding_org"] == TOWNSHIP

        # County items go up as far as the broker, where they wait for the county's consumer.
        queued = [people.accept(COUNTY_ITEM), people.accept(COUNTY_ITEM)]

        def sent_up(number: str) -> bool:
            return hops(route(people.town_routing, number)) == [
                ("up", 1, VILLAGE, TOWNSHIP, True),
                ("up", 2, TOWNSHIP, COUNTY, False),  # sent, not yet acknowledged
            ]

        def held_by_the_county(number: str) -> bool:
            return bool(people.case(number)["holding_org"] == COUNTY)

        for number in queued:
            eventually(partial(sent_up, number))
            eventually(partial(held_by_the_county, number))  # as the accepting point's intake shows it

        def waiting_on_the_broker(number: str) -> int:
            [up] = [
                e
                for e in events_only(nodes.events_of(number))
                if e.envelope.type == FORWARDED and e.envelope.org == COUNTY
            ]
            assert up.node == COUNTY
            return up.seq

        for number in queued:
            assert nodes.delivered_up_to(COUNTY, COUNTY_ROUTING) < waiting_on_the_broker(number)
    finally:
        nodes.county.launch()

    # Back: each queued case arrives at the county once, and its arrival is acknowledged once.
    for number in queued:
        arrived = eventually(partial(task_of, people.county_routing, COUNTY, number))
        assert arrived["department"] == "county.civil_affairs"
        assert hops(route(people.county_routing, number)) == [("up", 2, TOWNSHIP, COUNTY, True)]
        eventually(partial(acknowledged, people.town_routing, number))
        events = events_only(nodes.events_of(number))
        up = [e for e in events if e.envelope.type == FORWARDED and e.envelope.org == COUNTY]
        acks = [
            e
            for e in events
            if e.envelope.type == RECEIVED
            and e.envelope.data["hop"] == 2
            and e.envelope.data["direction"] == "up"
        ]
        assert len(up) == 1 and len(acks) == 1, [(e.envelope.type, e.envelope.org) for e in events]
        for table in ("cases", "hops", "tasks"):
            rows = nodes.query(COUNTY, f"SELECT count(*) FROM routing.{table} WHERE case_number = $1", number)
            assert rows == [(1,)], (table, rows)
        inbox = nodes.query(
            COUNTY, "SELECT consumer FROM routing.inbox WHERE event_id = $1", up[0].envelope.id
        )
        assert inbox == [(COUNTY_ROUTING,)]

    # The county's audit log (which follows the whole county) caught up with one entry per event.
    def logged(number: str) -> bool:
        rows = nodes.query(COUNTY, "SELECT event_id FROM audit.entries WHERE subject = $1", number)
        assert len(rows) == len({r[0] for r in rows}), rows
        # The county logs what its own stream holds: the case's events addressed to the county.
        published = {e.envelope.id for e in events_only(nodes.events_of(number)) if e.node == COUNTY}
        assert {r[0] for r in rows} == published
        return True

    for number in queued:
        eventually(partial(logged, number))

    # And the loop closes after the outage: the county decides one, the result reaches the village.
    first = queued[0]
    task = eventually(lambda: task_of(people.county_routing, COUNTY, first))
    decide(people.county_routing, task, decision="approve", result="特困供养证 LX-TK-2026-0304")
    assert eventually(lambda: ready(people, first))["decision"]["deciding_org"] == COUNTY
    assert no_dead_letters(nodes)


def test_the_township_audit_log_verifies_against_the_checkpoints_the_county_holds(nodes: TierNodes) -> None:
    town, county = nodes.township, nodes.county
    token = town.token("township-auditor", "auditor", TOWNSHIP, "镇审计人员")
    with county.client("audit", token) as parent:
        held = eventually(lambda: all_pages(parent, "/v1/audit/checkpoints", node=TOWNSHIP))
    assert all(c["node_org"] == TOWNSHIP for c in held)
    command = [sys.executable, "-m", "daiban_common.cli", "audit", "verify", "--token", token]
    command += ["--url", town.url("audit"), "--parent-url", county.url("audit")]
    verified = subprocess.run(command, env=town.process_env(), capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    verdict = json.loads(verified.stdout)
    assert verdict["ok"] is True and verdict["checkpoints_checked"] >= len(held), verdict


# -- a township leaves the county node's care and joins again (last: it changes the topology) -----

OTHER_VILLAGE = "370285102210"  # 官庄村委会 of 夏格庄镇


def stream_subjects(nodes: TierNodes, node: str) -> list[str]:
    async def ask() -> list[str]:
        nc = await nodes.network.connect(node)
        try:
            return list((await nc.jetstream().stream_info("DAIBAN")).config.subjects or [])
        finally:
            await nc.close()

    return asyncio.run(ask())


def villager_application() -> dict[str, Any]:
    return application(TOWNSHIP_ITEM, OTHER_VILLAGE, person("孙丽", next(_serials), address="莱西市夏格庄镇"))


def test_a_township_leaves_and_joins_again_and_the_county_finishes_what_it_accepted(nodes: TierNodes) -> None:
    """The rule (deploy/README.md): cases are finished by the node that accepted them. A township
    leaves when its node holds no open case; the county hosts it from then on. It joins again
    once the county has decided what it accepted there; the county's intake keeps those cases and
    hands them over, and new cases are the township node's."""
    county, other = nodes.county, nodes.other_township
    agent = ("v102210-agent", "agent", OTHER_VILLAGE, "官庄村委会代办员")
    # Leaving: the township node stops (services, then its server); the county takes it back.
    other.stop()
    nodes.network.servers[OTHER_TOWNSHIP].stop()
    county.env["DAIBAN_CHILD_NODES"] = TOWNSHIP
    county.restart()
    assert "daiban.370285.102.>" in stream_subjects(nodes, COUNTY)
    with county.client("intake", county.token(*agent)) as intake:
        wait_for_replica(county, county.token(*agent), OTHER_VILLAGE, [TOWNSHIP_ITEM])
        body = application(
            TOWNSHIP_ITEM, OTHER_VILLAGE, person("孙丽", next(_serials), address="莱西市夏格庄镇")
        )
        number = created(intake.post("/v1/applications", json=body, headers=idempotent()))["case_number"]
        with county.client("routing", county.token("xgz-mz-a", "clerk", OTHER_TOWNSHIP, "秦月")) as window:
            task = eventually(lambda: task_of(window, OTHER_TOWNSHIP, number))
            decide(window, task, decision="approve", result="准予临时救助 XGZ-LS-2026-0001")

        def ready_at_county() -> bool:
            return bool(ok(intake.get(f"/v1/cases/{number}"))["status"] == "ready_for_handover")

        eventually(ready_at_county)

    # Joining again: decided at the county, the case stays there; the county gives up the subjects.
    nodes.network.servers[OTHER_TOWNSHIP].start()
    other.launch()
    county.env["DAIBAN_CHILD_NODES"] = ",".join((TOWNSHIP, OTHER_TOWNSHIP))
    county.restart()
    assert not [s for s in stream_subjects(nodes, COUNTY) if s.startswith("daiban.370285.102.")]
    with county.client("intake", county.token(*agent)) as intake:
        kept = ok(intake.get(f"/v1/cases/{number}"))
        assert kept["status"] == "ready_for_handover" and kept["decision"]["deciding_org"] == OTHER_TOWNSHIP
        body = application(
            TOWNSHIP_ITEM, OTHER_VILLAGE, person("孙丽", next(_serials), address="莱西市夏格庄镇")
        )
        refused = intake.post("/v1/applications", json=body, headers=idempotent())
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "org", refused.text
    with other.client("intake", other.token(*agent)) as intake:
        wait_for_replica(other, other.token(*agent), OTHER_VILLAGE, [TOWNSHIP_ITEM])
        fresh = created(intake.post("/v1/applications", json=body, headers=idempotent()))["case_number"]
        with other.client("routing", other.token("xgz-mz-a", "clerk", OTHER_TOWNSHIP, "秦月")) as window:
            task = eventually(lambda: task_of(window, OTHER_TOWNSHIP, fresh))
            decide(window, task, decision="approve", result="准予临时救助 XGZ-LS-2026-0002")
        eventually(lambda: ok(intake.get(f"/v1/cases/{fresh}"))["status"] == "ready_for_handover")
    with county.client("routing", county.token("county-clerk", "clerk", COUNTY, "赵敏")) as routing:
        expect(routing.get(f"/v1/cases/{fresh}/route"), 404)
    assert no_dead_letters(nodes)
