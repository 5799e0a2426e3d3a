"""Months of past cases for the demo county, written by the services themselves at seed time.

`seed_history` runs after the services' own seeds (catalogue, directory). It plans a few hundred
cases over the last months (`plan.py`, `script.py`), then does each step at its moment, in time
order, through the owning service's HTTP API inside this process, with `clock.at(step.at)`; after
each step the in-process bus carries the events it caused to the other services' consumers. So
intake's cases, routing's hops and tasks, audit's log and statistics all come from the same
commands and events as in production, and agree.

Only a node without cases is given a history (a node with real work keeps it as it is), so a
second `daiban seed` or `make run` adds nothing. `DAIBAN_DEMO_HISTORY_CASES=0` switches it off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from daiban_common import clock, db
from daiban_common.orgunits import deliver_seeded_org_units
from daiban_common.runtime import ServiceRuntime
from daiban_common.service import ServiceSpec
from daiban_common.settings import Environment, Settings
from daiban_common.staffdir import deliver_seeded_staff
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_devtools.demo.inprocess import InProcessSuite
from daiban_devtools.demo.plan import CasePlan, Step
from daiban_devtools.demo.script import plan_history
from daiban_devtools.demo.steps import Actor
from daiban_devtools.demo.world import DemoError, bearer, read_world

log = logging.getLogger(__name__)
NEEDED = ("catalogue", "intake", "routing", "audit")


class HistorySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAIBAN_DEMO_HISTORY_", extra="ignore")

    cases: int = Field(default=300, ge=0, le=5000)
    days: int = Field(default=120, ge=10, le=730)
    seed: int = 20240601


@dataclass
class HistoryResult:
    cases: int = 0
    steps: int = 0
    failed: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    events: int = 0
    dead_letters: int = 0
    seconds: float = 0.0
    skipped: str = ""


# Steps that take a number from an org unit's daily counter (case, notice, complaint numbers).
NUMBERED = frozenset({"accept", "notice", "complaint"})


def batches(steps: Sequence[Step], cases: dict[int, CasePlan], size: int = 8) -> Iterator[list[Step]]:
    """Runs of consecutive steps that cannot affect each other, to be done side by side.

    A batch holds one step per case. A step that takes a number at an org unit is alone there, so
    numbers come out as one by one; an acceptance is alone at the deciding org unit, whose window
    loads pick the window it is assigned to. A batch ends at the first step that would clash.
    """
    batch: list[Step] = []
    alone: set[str] = set()  # held by one step of the batch only
    shared: set[str] = set()  # touched by steps of the batch
    for step in steps:
        case = cases[step.case]
        mine = {f"case:{case.index}"}
        if step.action in NUMBERED:
            mine.add(f"numbers:{case.org}")
        if step.action == "accept":
            mine.add(f"windows:{case.deciding}")
        touch = {f"windows:{case.deciding}"}
        if batch and (len(batch) >= size or mine & (alone | shared) or touch & alone):
            yield batch
            batch, alone, shared = [], set(), set()
        batch.append(step)
        alone |= mine
        shared |= touch
    if batch:
        yield batch


async def has_cases(suite: InProcessSuite, county: str) -> bool:
    headers = bearer(suite.settings, sub="demo:history", role="admin", org=county)
    response = await suite.client("intake").get("/v1/cases", params={"limit": 1}, headers=headers)
    if response.status_code != 200:
        raise DemoError(f"cannot list cases: {response.status_code} {response.text[:200]}")
    return bool(response.json()["items"])


async def count_statuses(suite: InProcessSuite, county: str) -> dict[str, int]:
    headers = bearer(suite.settings, sub="demo:history", role="admin", org=county)
    counts: Counter[str] = Counter()
    params: dict[str, str | int] = {"limit": 100}
    while True:
        body = (await suite.client("intake").get("/v1/cases", params=params, headers=headers)).json()
        counts.update(item["status"] for item in body["items"])
        if not body.get("next_cursor"):
            return dict(sorted(counts.items()))
        params["cursor"] = body["next_cursor"]


async def seed_history(
    settings: Settings, specs: Sequence[ServiceSpec], *, cases: int | None = None, now: datetime | None = None
) -> HistoryResult:
    config = HistorySettings()
    wanted = config.cases if cases is None else cases
    names = {spec.name for spec in specs}
    node = OrgCode.parse(settings.org)
    result = HistoryResult()
    if wanted == 0 or not set(NEEDED) <= names:
        result.skipped = "switched off" if wanted == 0 else "needs all four services"
        return result
    if node.tier is not Tier.county:
        result.skipped = "history is written at county nodes only"
        return result
    if settings.env is Environment.PRODUCTION:
        result.skipped = "made-up cases are never written in production"
        return result
    started = time.monotonic()
    async with InProcessSuite(
        settings, [s for s in specs if s.name in NEEDED], delay=timedelta(seconds=2)
    ) as suite:
        if await has_cases(suite, node.value):
            result.skipped = "the node already has cases"
            return result
        # The item versions the catalogue seed just wrote reach intake's replica (and the log).
        await suite.bus.drain()
        world = await read_world(suite.client, settings, node.value)
        plan = plan_history(
            world,
            now=now or datetime.now(UTC),
            cases=wanted,
            days=config.days,
            seed=config.seed,
            hosts=settings.hosts,
        )
        actor = Actor(suite.client, world, settings, config.seed)
        for person, begin, until in plan.absences:
            with clock.at(begin - timedelta(days=3)):
                await actor.absence(person, begin, until)
        by_index = {case.index: case for case in plan.cases}
        broken: set[int] = set()

        async def run(step: Step) -> None:
            if step.case in broken:
                return
            try:
                with clock.at(step.at):
                    await actor.do(by_index[step.case], step)
                result.steps += 1
            except DemoError as exc:
                broken.add(step.case)
                result.failed.append(f"case {step.case} {step.action}: {exc}")
                log.warning("history: case %s, step %s failed: %s", step.case, step.action, exc)

        for batch in batches(plan.steps(), by_index):
            await asyncio.gather(*(run(step) for step in batch))
            await suite.bus.drain()
        result.cases = len(plan.cases)
        result.statuses = await count_statuses(suite, node.value)
        result.events = suite.bus.stats.delivered
        result.dead_letters = suite.bus.stats.dead_letters
    result.seconds = time.monotonic() - started
    return result


async def seed_node(
    settings: Settings, specs: Sequence[ServiceSpec], *, history_cases: int | None = None
) -> HistoryResult:
    """`daiban seed`: every service's own seed (catalogue, directory), then the demo's history."""
    for spec in specs:
        if spec.seed is None:
            continue
        runtime = ServiceRuntime(spec, settings)
        try:
            await spec.seed(runtime)
        finally:
            await runtime.engine.dispose()
            runtime.tracer_provider.shutdown()
    # The org units and staff the directory seed published reach this node's replicas before
    # anything else.
    engine = db.create_engine(settings.database_url)
    try:
        await deliver_seeded_org_units(engine, specs)
        await deliver_seeded_staff(engine, specs)
    finally:
        await engine.dispose()
    return await seed_history(settings, specs, cases=history_cases)
