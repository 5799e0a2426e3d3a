"""Replaying the demo catalogue's history: baseline versions, delegations, then today's versions.

Items with a baseline get version 1 from it; a change of handling level goes through `delegate`
(as it must), then today's draft is published if anything else changed. Items without a baseline
are assumed unchanged since the baseline date and get one version.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from daiban_catalogue.domain import delegate, publish, same_content
from daiban_catalogue.seed.catalogue import BASELINE_EFFECTIVE_DATE, CURRENT_EFFECTIVE_DATE, DemoCatalogue
from daiban_contracts.catalogue import ItemVersionData

DELEGATION_REASON = "依据{county}赋予镇（街道）经济社会管理权限目录，下放至镇（街道）实施"
REFORM_NOTE = "审批制度改革：压缩承诺时限，精简申请材料"
_SHANGHAI = timezone(timedelta(hours=8))


def replay_demo_history(demo: DemoCatalogue) -> dict[str, list[ItemVersionData]]:
    """Every item's versions, oldest first, keyed by implementation code."""
    departments, orgs = demo.department_codes, demo.org_codes
    baselines = {b.implementation_code: b for b in demo.baselines}
    then, today = BASELINE_EFFECTIVE_DATE, CURRENT_EFFECTIVE_DATE
    history: dict[str, list[ItemVersionData]] = {}
    for draft in demo.drafts:
        first = publish(
            baselines.get(draft.implementation_code, draft),
            None,
            effective_date=then,
            now=_morning(then),
            known_departments=departments,
            known_orgs=orgs,
            note="首次发布",
        )
        versions = [first]
        if first.handling_level is not draft.handling_level:
            moved = delegate(
                first,
                to_level=draft.handling_level,
                departments=draft.departments,
                reason=DELEGATION_REASON.format(county=demo.county_name),
                effective_date=today,
                now=_morning(today),
                known_departments=departments,
                known_orgs=orgs,
            )
            versions.append(moved)
        if not same_content(draft, versions[-1]):
            reformed = publish(
                draft,
                versions[-1],
                effective_date=today,
                now=_morning(today),
                known_departments=departments,
                known_orgs=orgs,
                note=REFORM_NOTE,
            )
            versions.append(reformed)
        history[draft.implementation_code] = versions
    return history


def _morning(day: date) -> datetime:
    # Published the working morning the version takes effect: a fixed time keeps the replay pure.
    return datetime.combine(day, time(9, 0), tzinfo=_SHANGHAI)
