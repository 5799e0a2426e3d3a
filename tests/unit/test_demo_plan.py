"""The demo history's pure parts: subject matching, made-up IDs, and a reproducible plan."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from daiban_common.identity import normalize_resident_id
from daiban_devtools.demo.history import batches
from daiban_devtools.demo.inprocess import subject_matches
from daiban_devtools.demo.people import applicant, resident_id
from daiban_devtools.demo.plan import RECIPES
from daiban_devtools.demo.script import plan_history
from daiban_devtools.demo.world import ItemInfo, Person, WindowInfo, World

COUNTY, TOWN, VILLAGE = "370285000000", "370285101000", "370285101294"
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


def test_subject_matching_follows_nats_wildcards() -> None:
    assert subject_matches("d.370285.>", "d.370285.101.294.case.accepted")
    assert subject_matches("d.370285.*.*.case.accepted", "d.370285.101.294.case.accepted")
    assert not subject_matches("d.370285.*.*.case.accepted", "d.370285.101.294.case.forwarded")
    assert not subject_matches("d.370285.>", "d.370285")
    assert not subject_matches("d.370285.*", "d.370285.101.294")


def test_made_up_resident_ids_are_valid() -> None:
    rng = random.Random(1)
    for _ in range(200):
        person = applicant(rng, today=date(2026, 6, 15), place="姜山镇")
        assert normalize_resident_id(person.id_number, today=date(2026, 6, 15)) == person.id_number
    assert resident_id("110105", date(1949, 12, 31), 2) == "11010519491231002X"


def _item(
    code: str, kind: str, level: str, tiers: tuple[str, ...], deps: tuple[str, ...], **kw: object
) -> ItemInfo:
    materials = (
        {"code": "M01", "name": "身份证", "form": "original", "copies": 1, "required": True},
        {"code": "M02", "name": "申请表", "form": "original", "copies": 1, "required": True},
        {
            "code": "M03",
            "name": "证明",
            "form": "copy",
            "copies": 1,
            "required": True,
            "deficiency_allowed": True,
        },
    )
    values: dict[str, object] = {
        "code": code,
        "name": code,
        "kind": kind,
        "level": level,
        "acceptable": tiers,
        "departments": deps,
        "materials": materials,
        "procedures": (),
        "limit": 5,
        "online": True,
        "legal_basis": ("《条例》第一条",),
    }
    values.update(kw)
    return ItemInfo(**values)  # type: ignore[arg-type]


def _world() -> World:
    world = World(county=COUNTY)
    world.orgs = {COUNTY: ("莱西市", "county", None), TOWN: ("姜山镇", "township", COUNTY)}
    world.orgs[VILLAGE] = ("姜山社区", "village", TOWN)
    people = [
        Person("agent", "代办员", "agent", VILLAGE, ("01",)),
        Person("v-a", "村文书", "clerk", VILLAGE, ("01",)),
        Person("v-b", "村主任", "approver", VILLAGE, ("01",)),
        Person("t-a", "镇A", "clerk", TOWN, ("01",)),
        Person("t-b", "镇B", "approver", TOWN, ("01",)),
        Person("c-a", "县A", "clerk", COUNTY, ("01",)),
        Person("c-b", "县B", "approver", COUNTY, ("01",)),
        Person("c-s", "监察", "supervisor", COUNTY, ()),
    ]
    world.staff = {p.id: p for p in people}
    world.windows = [
        WindowInfo(VILLAGE, "01", ("village.committee",), "v-a", "v-b"),
        WindowInfo(TOWN, "01", ("township.civil_affairs",), "t-a", "t-b"),
        WindowInfo(COUNTY, "01", ("county.civil_affairs", "county.health"), "c-a", "c-b"),
    ]
    all_tiers = ("village", "township", "county")
    world.items = [
        _item(
            "T1", "promised", "township", all_tiers, ("township.civil_affairs",), procedures=("site_survey",)
        ),
        _item("T2", "immediate", "township", all_tiers, ("township.civil_affairs",)),
        _item("C1", "promised", "county", all_tiers, ("county.civil_affairs",), procedures=("hearing",)),
        _item("C2", "immediate", "county", ("county",), ("county.civil_affairs",)),
        _item("C3", "joint", "county", all_tiers, ("county.civil_affairs", "county.health")),
        _item("E1", "escalated", "above_county", ("township", "county"), ("county.health",), limit=30),
    ]
    return world


def test_the_plan_is_reproducible_in_the_past_and_covers_every_recipe() -> None:
    first = plan_history(_world(), now=NOW, cases=len(RECIPES) + 20, days=120)
    second = plan_history(_world(), now=NOW, cases=len(RECIPES) + 20, days=120)
    assert [(c.item.code, c.org, c.fate, c.applicant) for c in first.cases] == [
        (c.item.code, c.org, c.fate, c.applicant) for c in second.cases
    ]
    assert [(s.at, s.case, s.action) for s in first.steps()] == [
        (s.at, s.case, s.action) for s in second.steps()
    ]
    fates = {c.fate for c in first.cases}
    assert {r["fate"] for r in RECIPES} <= fates
    for case in first.cases:
        moments = [s.at for s in case.steps]
        assert moments == sorted(moments) and moments[-1] < NOW
    actions = {s.action for s in first.steps()}
    assert {
        "notice",
        "accept",
        "decide",
        "ask_supplement",
        "supplement",
        "pause",
        "resume",
        "extend",
    } <= actions
    assert {"handover", "evaluate", "complaint", "supply_deficiency", "claim"} <= actions
    assert first.absences and all(begin < until < NOW for _, begin, until in first.absences)


def test_a_batch_never_holds_two_steps_that_could_affect_each_other() -> None:
    plan = plan_history(_world(), now=NOW, cases=40, days=120)
    cases = {c.index: c for c in plan.cases}
    steps = plan.steps()
    done = [s for batch in batches(steps, cases) for s in batch]
    assert done == steps  # the same steps, in the same order
    sizes = []
    for batch in batches(steps, cases):
        sizes.append(len(batch))
        assert len({s.case for s in batch}) == len(batch)
        numbered = [cases[s.case].org for s in batch if s.action in ("accept", "notice", "complaint")]
        assert len(set(numbered)) == len(numbered)
        for step in (s for s in batch if s.action == "accept"):
            others = [
                s for s in batch if s is not step and cases[s.case].deciding == cases[step.case].deciding
            ]
            assert not others, (step, others)
    assert max(sizes) > 1
