"""From a case's fate to its steps and their moments (cut off at the present)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from typing import Any

from daiban_common.calendar import SHANGHAI, to_shanghai_date
from daiban_devtools.demo.plan import LEVELS, RECIPES, CasePlan, Plan, Planner, Step, _weighted
from daiban_devtools.demo.world import World

OPEN_FATES = ("in_progress", "overdue_open", "supplement_waiting", "special_open", "resumed_open")


def _first_day(planner: Planner, case: CasePlan, recipe: dict[str, Any]) -> date:
    days, rng, limit = planner.days, planner.rng, case.item.limit
    if recipe.get("settled") and case.fate not in OPEN_FATES:
        # A recipe case shows its whole story: accepted long enough ago to have reached its end.
        return rng.choice(days[: -limit - 25] or days[:5])
    match case.fate:
        case "in_progress":
            return rng.choice(days[-3:])
        case "supplement_waiting" | "special_open":
            return rng.choice(days[-20:-4])
        case "resumed_open":
            return rng.choice(days[-9:-6])
        case "overdue_open":
            # Accepted long enough ago that the promised date has passed.
            late = [d for d in days if planner.calendar.add_working_days(d, limit + 2).date < planner.today]
            return rng.choice(late[-30:] or days[:5])
        case _:
            return rng.choice(days)


def _decide(planner: Planner, case: CasePlan, at: datetime, refuse: bool) -> list[Step]:
    steps, moment = [], at
    departments = case.item.departments
    for index, department in enumerate(departments):
        # A joint item refused: the lead approves, another department refuses (every reason is kept).
        no = refuse and (index == len(departments) - 1)
        steps.append(Step(moment, case.index, "decide", {"department": department, "refuse": no}))
        moment = planner.later(moment, 0)
    return steps


def _aftercare(planner: Planner, case: CasePlan, at: datetime, recipe: dict[str, Any]) -> list[Step]:
    rng = planner.rng
    if not recipe.get("collect", rng.random() < 0.9):
        return []
    handed = planner.later(at, rng.choice((0, 0, 1, 1, 2, 3, 4)))
    mail = case.channel == "online" or rng.random() < 0.1
    steps = [Step(handed, case.index, "handover", {"mail": mail})]
    level = (
        recipe["evaluate"]
        if "evaluate" in recipe
        else (_weighted(rng, LEVELS) if rng.random() < 0.7 else None)
    )
    moment = handed
    if level is not None:
        moment = planner.later(handed, rng.choice((0, 0, 1, 2)))
        steps.append(Step(moment, case.index, "evaluate", {"level": level}))
    if recipe.get("complaint") or rng.random() < 0.015:
        steps.append(Step(planner.later(moment, 1), case.index, "complaint", {}))
    return steps


def script(planner: Planner, case: CasePlan, recipe: dict[str, Any]) -> list[Step]:
    rng, limit, fate = planner.rng, case.item.limit, case.fate
    start = planner.moment(_first_day(planner, case, recipe))
    steps: list[Step] = []
    if recipe.get("notice_first"):
        # Turned away with a one-time notice first; back a few days later with everything.
        steps.append(Step(start, case.index, "notice", {}))
        start = planner.later(start, rng.randint(1, 3))
    accept: dict[str, Any] = {"on_the_spot": fate == "on_the_spot"}
    missing = planner.deficient(case.item) if fate != "on_the_spot" else []
    promise = rng.randint(3, 5)
    if missing and recipe.get("deficiency"):
        accept["deficiency"] = missing[0]["code"]
        accept["due"] = planner.calendar.add_working_days(to_shanghai_date(start), promise).date.isoformat()
    steps.append(Step(start, case.index, "accept", accept))
    if fate == "on_the_spot":
        return steps + _aftercare(planner, case, start, recipe)
    moment = start
    if "deficiency" in accept and rng.random() < 0.75:
        moment = planner.later(start, promise - 1)
        steps.append(Step(moment, case.index, "supply_deficiency", {"code": accept["deficiency"]}))
    if fate != "escalated" and rng.random() < 0.6:
        moment = planner.later(moment, rng.choice((0, 0, 1)))
        steps.append(Step(moment, case.index, "claim"))
    if fate in ("in_progress", "overdue_open"):
        return steps
    if fate in ("supplement", "supplement_waiting"):
        moment = planner.later(moment, rng.randint(1, 2))
        steps.append(Step(moment, case.index, "ask_supplement"))
        if fate == "supplement_waiting":
            return steps
        moment = planner.later(moment, rng.randint(2, 4))
        steps.append(Step(moment, case.index, "supplement"))
        decided = planner.later(moment, rng.randint(1, max(1, limit // 2)))
    elif fate in ("special", "special_open", "resumed_open"):
        procedure = rng.choice(case.item.procedures)
        days = rng.randint(2, 3) if fate == "resumed_open" else rng.randint(3, 8)
        moment = planner.later(moment, 1)
        steps.append(Step(moment, case.index, "pause", {"procedure": procedure, "days": days}))
        if fate == "special_open":
            return steps
        moment = planner.later(moment, days)
        steps.append(Step(moment, case.index, "resume"))
        if fate == "resumed_open":
            return steps  # back under review, the decision still to come
        decided = planner.later(moment, rng.randint(1, 2))
    elif fate == "extended":
        extra = rng.randint(3, 10)
        steps.append(Step(planner.later(start, max(1, limit - 2)), case.index, "extend", {"days": extra}))
        decided = planner.later(start, limit + extra - rng.randint(1, 2))
    elif fate == "late":
        decided = planner.later(start, limit + rng.randint(1, 6))
    else:
        decided = planner.later(start, rng.randint(min(1, limit), max(1, limit - 1)))
    decided = max(decided, planner.later(moment, 0))
    decisions = _decide(planner, case, decided, refuse=fate == "refused")
    return steps + decisions + _aftercare(planner, case, decisions[-1].at, recipe)


def plan_history(
    world: World, *, now: datetime, cases: int, days: int = 120, seed: int = 20240601, hosts: Any = None
) -> Plan:
    """The history's cases and their steps, every step before `now` minus five minutes."""
    planner = Planner(world, now=now, days=days, seed=seed, hosts=hosts or (lambda org: True))
    planned: list[CasePlan] = []
    for index in range(cases):
        recipe = {**RECIPES[index], "settled": True} if index < len(RECIPES) else planner.draw_recipe()
        case = planner.case(index, recipe) or planner.case(index, {**recipe, "fate": "approved"})
        if case is None:
            continue
        case.steps = [s for s in script(planner, case, recipe) if s.at <= planner.cutoff]
        planned.append(case)
    return Plan(cases=planned, absences=absences(planner, world, planned))


def _a_post(world: World, case: CasePlan) -> str | None:
    """The A post the case's (lead) task goes to, where its B post is the only stand-in (with two
    windows for a department, the other window's A post would come before this one's B post)."""
    windows = world.windows_for(case.deciding, case.item.departments[0])
    if len(windows) != 1 or not windows[0].b_post:
        return None
    return windows[0].a_post


def absences(planner: Planner, world: World, cases: list[CasePlan]) -> list[tuple[Any, datetime, datetime]]:
    """A posts on leave in the past, so their B posts took the work (AB岗): the A post of the first
    routed case over the days it arrived, and the busiest A post for two weeks a month ago."""
    found: list[tuple[Any, datetime, datetime]] = []
    first = next((c for c in cases if c.fate != "on_the_spot" and c.steps and _a_post(world, c)), None)
    if first is not None:
        accepted = next(s.at for s in first.steps if s.action == "accept")
        begin = datetime.combine(to_shanghai_date(accepted), time(0), SHANGHAI)
        until = datetime.combine(planner.calendar.add_working_days(begin.date(), 3).date, time(0), SHANGHAI)
        found.append((world.staff[_a_post(world, first) or ""], begin, until))
    load = Counter(
        a for a in (_a_post(world, c) for c in cases) if a and a not in {p.id for p, _, _ in found}
    )
    if load and len(planner.days) > 30:
        begin = datetime.combine(planner.days[-20], time(0), SHANGHAI)
        until = datetime.combine(planner.days[-10], time(0), SHANGHAI)
        found.append((world.staff[load.most_common(1)[0][0]], begin, until))
    return found
