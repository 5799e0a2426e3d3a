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

COUNTY_ORG = "370285000000"
BASELINE_EFFECTIVE_DATE = date(2019, 1, 1)
CURRENT_EFFECTIVE_DATE = date(2024, 1, 1)


class DemoCatalogue(NamedTuple):
    departments: tuple[Department, ...]
    drafts: tuple[ItemDraft, ...]
    baselines: tuple[ItemDraft, ...]

    @property
    def department_codes(self) -> frozenset[str]:
        return frozenset(d.code for d in self.departments)

    @property
    def org_codes(self) -> frozenset[str]:
        return frozenset({COUNTY_ORG})


def load_demo_catalogue() -> DemoCatalogue:
    """Departments, current drafts and baseline drafts; raises InvalidDraft on any broken rule."""
    root = files("daiban_catalogue.seed")
    departments = tuple(Department.model_validate(d) for d in _read(root / "departments.json"))
    known = frozenset(d.code for d in departments)
    if len(known) != len(departments):
        raise ValueError("departments.json lists a department twice")
    problems: list[Violation] = []
    drafts: list[ItemDraft] = []
    for path in sorted((root / "items").iterdir(), key=lambda p: p.name):
        if path.name.endswith(".json"):
            drafts.extend(_drafts(path, known, problems))
    baselines = _drafts(root / "baseline.json", known, problems)
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
    return DemoCatalogue(departments, tuple(drafts), tuple(baselines))


def _drafts(
    path: Traversable, known_departments: frozenset[str], problems: list[Violation]
) -> list[ItemDraft]:
    drafts = []
    for i, raw in enumerate(_read(path)):
        draft = ItemDraft.model_validate(raw)
        found = validate_draft(draft, known_departments=known_departments, known_orgs={COUNTY_ORG})
        problems.extend(Violation(f"{path.name}[{i}].{v.field}", v.message) for v in found)
        drafts.append(draft)
    return drafts


def _read(path: Traversable) -> list[Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path.name} must hold a JSON list")
    return data
