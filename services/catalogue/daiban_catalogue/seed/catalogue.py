"""The demo catalogue: a county like Laixi (莱西市, 370285) with its townships and villages.

Data, not code, in this package: `departments.json`, one file per sector under `items/`, and
`baseline.json` holding earlier versions of some items (longer promised limits, more materials,
decided higher up) so that a replay of history shows real reform statistics. Every item is
checked against the domain rules on loading, so invalid demo data fails loudly instead of reaching
a database.

Time limits follow the cited provisions; where a provision counts in days rather than working
days (e.g. 60 days for an ID card), the number is kept as written. Article numbers are demo grade:
check them against the current texts before printing a real handbook.
"""

from __future__ import annotations

import json
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, NamedTuple

from daiban_catalogue.domain import Department, InvalidDraft, ItemDraft, Violation, validate_draft
from daiban_common.divisions import DEMO_COUNTY, DEMO_COUNTY_NAME, relocate_demo

COUNTY_ORG = DEMO_COUNTY
BASELINE_EFFECTIVE_DATE = date(2019, 1, 1)
CURRENT_EFFECTIVE_DATE = date(2024, 1, 1)


class DemoCatalogue(NamedTuple):
    departments: tuple[Department, ...]
    drafts: tuple[ItemDraft, ...]
    baselines: tuple[ItemDraft, ...]
    county: str = COUNTY_ORG
    county_name: str = DEMO_COUNTY_NAME

    @property
    def department_codes(self) -> frozenset[str]:
        return frozenset(d.code for d in self.departments)

    @property
    def org_codes(self) -> frozenset[str]:
        return frozenset({self.county})


def load_demo_catalogue(county: str = COUNTY_ORG, name: str = DEMO_COUNTY_NAME) -> DemoCatalogue:
    """Departments, current drafts and baseline drafts; raises InvalidDraft on any broken rule.

    Written for Laixi; another county (12 digits, its name) gets the same items, implemented by it
    (`relocate_demo`: codes and names moved).
    """
    root = files("daiban_catalogue.seed")
    place = (county, name)
    departments = tuple(Department.model_validate(d) for d in _read(root / "departments.json", place))
    known = frozenset(d.code for d in departments)
    if len(known) != len(departments):
        raise ValueError("departments.json lists a department twice")
    problems: list[Violation] = []
    drafts: list[ItemDraft] = []
    for path in sorted((root / "items").iterdir(), key=lambda p: p.name):
        if path.name.endswith(".json"):
            drafts.extend(_drafts(path, known, problems, place))
    baselines = _drafts(root / "baseline.json", known, problems, place)
    codes = [d.implementation_code for d in drafts]
    problems.extend(
        Violation(code, "演示数据中实施编码重复") for code in sorted({c for c in codes if codes.count(c) > 1})
    )
    problems.extend(
        Violation(b.implementation_code, "基线版本对应的事项不存在")
        for b in baselines
        if b.implementation_code not in codes
    )
    if problems:
        raise InvalidDraft(problems)
    return DemoCatalogue(departments, tuple(drafts), tuple(baselines), county, name)


def _drafts(
    path: Traversable,
    known_departments: frozenset[str],
    problems: list[Violation],
    place: tuple[str, str],
) -> list[ItemDraft]:
    drafts = []
    for i, raw in enumerate(_read(path, place)):
        draft = ItemDraft.model_validate(raw)
        found = validate_draft(draft, known_departments=known_departments, known_orgs={place[0]})
        problems.extend(Violation(f"{path.name}[{i}].{v.field}", v.message) for v in found)
        drafts.append(draft)
    return drafts


def _read(path: Traversable, place: tuple[str, str]) -> list[Any]:
    data = json.loads(relocate_demo(path.read_text(encoding="utf-8"), *place))
    if not isinstance(data, list):
        raise ValueError(f"{path.name} must hold a JSON list")
    return data
