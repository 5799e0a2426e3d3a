"""The demo's past, planned: which cases, where, of which items, and what happened to each, when.

Pure and reproducible: the same world, day and seed give the same plan. Each case gets a fate
(approved, refused, a supplement asked for, a special procedure, an extension, decided late or not
at all ...) and a script of steps with their moments; steps that would lie in the future are cut
off, so recent cases are still in progress. The first cases walk through `RECIPES` so that even a
small history has every state; the rest are drawn by weight.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from daiban_common.calendar import SHANGHAI, WorkCalendar, default_calendar, to_shanghai_date
from daiban_contracts.orgcodes import Tier
from daiban_devtools.demo.people import Applicant, applicant
from daiban_devtools.demo.world import ItemInfo, Person, World

# Fates drawn by weight after the recipes; `on_the_spot` and `escalated` follow from the item.
FATES = {
    "approved": 46,
    "refused": 6,
    "supplement": 7,
    "supplement_waiting": 3,
    "special": 5,
    "special_open": 2,
    "resumed_open": 2,
    "extended": 4,
    "overdue_open": 4,
    "late": 5,
    "in_progress": 6,
}
LEVELS = {
    "very_satisfied": 50,
    "satisfied": 28,
    "basically_satisfied": 12,
    "dissatisfied": 6,
    "very_dissatisfied": 4,
}
TIERS = {"village": 50, "township": 33, "county": 17}
# Every state at least once, whatever the size of the history.
RECIPES: tuple[dict[str, Any], ...] = (
    {"fate": "approved", "tier": "village", "level": "township", "evaluate": "very_satisfied"},
    {"fate": "approved", "tier": "village", "level": "county", "evaluate": "satisfied"},
    {"fate": "on_the_spot", "tier": "county"},
    {"fate": "on_the_spot", "tier": "township"},
    {"fate": "refused", "tier": "township", "evaluate": "dissatisfied"},
    {"fate": "supplement", "tier": "village", "level": "county"},
    {"fate": "supplement_waiting", "tier": "village", "level": "township"},
    {"fate": "special", "tier": "village", "procedures": True},
    {"fate": "special_open", "tier": "township", "procedures": True},
    {"fate": "resumed_open", "tier": "village", "procedures": True},
    {"fate": "extended", "tier": "county"},
    {"fate": "overdue_open", "tier": "village", "level": "township"},
    {"fate": "late", "tier": "township", "evaluate": "very_dissatisfied"},
    {"fate": "in_progress", "tier": "village", "level": "county"},
    {"fate": "approved", "tier": "village", "kind": "joint", "evaluate": "basically_satisfied"},
    {"fate": "escalated", "tier": "county"},
    {"fate": "approved", "tier": "village", "deficiency": True, "collect": False},
    {"fate": "approved", "tier": "township", "notice_first": True, "evaluate": "very_satisfied"},
    {"fate": "approved", "tier": "county", "evaluate": None, "collect": True, "complaint": True},
)


@dataclass(frozen=True)
class Step:
    at: datetime
    case: int
    action: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class CasePlan:
    index: int
    item: ItemInfo
    org: str
    deciding: str
    acceptor: Person
    channel: str
    applicant: Applicant
    fate: str
    green: bool = False
    steps: list[Step] = field(default_factory=list)


@dataclass
class Plan:
    cases: list[CasePlan]
    absences: list[tuple[Person, datetime, datetime]]

    def steps(self) -> list[Step]:
        return sorted((s for c in self.cases for s in c.steps), key=lambda s: (s.at, s.case))


def _weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


class Planner:
    def __init__(self, world: World, *, now: datetime, days: int, seed: int, hosts: Callable[[str], bool]):
        self.world, self.now, self.rng = world, now, random.Random(seed)
        self.calendar: WorkCalendar = default_calendar()
        self.cutoff = now - timedelta(minutes=5)
        today = to_shanghai_date(now)
        self.today = today
        self.days = [
            today - timedelta(days=n)
            for n in range(days, 0, -1)
            if self.calendar.is_working_day(today - timedelta(days=n))
        ]
        self.orgs = {t: [o for o in world.of_tier(t) if hosts(o)] for t in TIERS}

    def moment(self, day: date, after: datetime | None = None) -> datetime:
        """A moment in office hours of `day`, at least 20 minutes after `after`."""
        start = datetime.combine(day, time(8, 45), SHANGHAI) + timedelta(minutes=self.rng.randint(0, 450))
        if after is not None and start < after + timedelta(minutes=20):
            start = after + timedelta(minutes=self.rng.randint(20, 90))
        return start

    def later(self, moment: datetime, working_days: int) -> datetime:
        day = self.calendar.add_working_days(to_shanghai_date(moment), max(0, working_days)).date
        return self.moment(day, after=moment)

    # -- choosing what each case is

    def acceptor(self, org: str, *, clerk: bool) -> Person | None:
        roles = ("clerk",) if clerk else (("agent",) if self.world.tier(org) == "village" else ("clerk",))
        people = self.world.people(org, *roles)
        return self.rng.choice(people) if people else None

    def decidable(self, item: ItemInfo, org: str) -> bool:
        """Whether a case of `item` accepted at `org` goes up (never down) to windows that take it."""
        if Tier(item.level).rank < Tier(self.world.tier(org)).rank:
            return False
        deciding = self.world.deciding_org(item, org)
        return all(self.world.windows_for(deciding, d) for d in item.departments)

    def items_for(self, org: str, recipe: dict[str, Any]) -> list[ItemInfo]:
        tier = self.world.tier(org)
        found = [i for i in self.world.items if tier in i.acceptable and self.decidable(i, org)]
        fate = recipe.get("fate")
        if fate == "on_the_spot":
            found = [i for i in found if i.kind == "immediate" and i.level == tier]
        elif fate == "escalated":
            found = [i for i in found if i.kind == "escalated"]
        else:
            found = [
                i for i in found if i.kind != "escalated" and not (i.kind == "immediate" and i.level == tier)
            ]
        if "level" in recipe:
            found = [i for i in found if i.level == recipe["level"]]
        if "kind" in recipe:
            found = [i for i in found if i.kind == recipe["kind"]]
        if recipe.get("procedures"):
            found = [i for i in found if i.procedures]
        if recipe.get("deficiency"):
            found = [i for i in found if self.deficient(i)]
        if recipe.get("notice_first"):
            found = [i for i in found if len(i.needed) >= 2]
        return found

    @staticmethod
    def deficient(item: ItemInfo) -> list[dict[str, Any]]:
        return [m for m in item.needed if m.get("deficiency_allowed") and not m.get("core")]

    def draw_recipe(self) -> dict[str, Any]:
        recipe: dict[str, Any] = {"tier": _weighted(self.rng, TIERS), "fate": _weighted(self.rng, FATES)}
        if self.rng.random() < 0.12:
            recipe["fate"] = "on_the_spot"
        elif self.rng.random() < 0.04:
            recipe["fate"] = "escalated"
        if recipe["fate"] in ("special", "special_open", "resumed_open"):
            recipe["procedures"] = True
        if self.rng.random() < 0.12:
            recipe["deficiency"] = True
        if self.rng.random() < 0.06:
            recipe["notice_first"] = True
        return recipe

    def case(self, index: int, recipe: dict[str, Any]) -> CasePlan | None:
        for _ in range(40):
            org = self.rng.choice(self.orgs[recipe["tier"]])
            items = self.items_for(org, recipe)
            clerk = recipe["fate"] == "on_the_spot"
            person = self.acceptor(org, clerk=clerk)
            if items and person is not None:
                break
        else:
            return None
        item = self.rng.choice(items)
        village = self.world.tier(org) == "village"
        if village:
            channel = "home_visit" if self.rng.random() < 0.15 else "agent"
        else:
            channel = "online" if item.online and self.rng.random() < 0.2 else "window"
        if clerk:
            channel = "window"
        min_age = 80 if "80周岁" in item.name else 20
        who = applicant(self.rng, today=self.today, place=self.world.name(org), min_age=min_age)
        return CasePlan(
            index=index,
            item=item,
            org=org,
            deciding=self.world.deciding_org(item, org),
            acceptor=person,
            channel=channel,
            applicant=who,
            fate=recipe["fate"],
            green=self.rng.random() < 0.03,
        )
