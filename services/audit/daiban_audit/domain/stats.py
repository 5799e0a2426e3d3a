"""Statistics the centres report: which counters an event moves, where they count, and the rates.

Counters are kept per day and per org unit, and rolled up at write time into every unit above it
up to the county, so a county's figures are one row per day and metric, never a scan of cases.
Beside each unit's totals the same counters are kept per department, window and staff member, and
per child unit (so "by township" or "by village point" is one query too). A window number ("01")
or a department code (`township.civil_affairs`) names one desk in every township alike, so their
counters are keyed by the org unit they belong to as well (`370285101000:01`): rolled up to the
county, window 01 of the county and window 01 of each township stay apart.

Where a fact counts:
- received, notices, deficiency acceptances, handling mode: the unit where the citizen applied,
  on the day of acceptance, to the item's lead department and the first responder;
- conclusions, supplements requested: the deciding unit, on the day of the decision, to the
  department and window the task was assigned to and the person who decided;
- evaluations: the unit where the citizen applied (it is the service there that is rated);
- complaints and rectifications: the unit they name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from daiban_common.calendar import WorkCalendar
from daiban_contracts.case import Channel, EvaluationLevel, Outcome
from daiban_contracts.catalogue import ItemKind, department_tier
from daiban_contracts.orgcodes import OrgCode, Tier


class HandlingMode(StrEnum):
    """办理方式 as the centres report it (直接办、限时办、代办、上门办).

    Derived from the channel first, then the item kind: a case brought by a village agent is
    agency (代办) and one taken at the citizen's home is a home visit, whatever the item; otherwise
    an immediate item is handled directly (直接办) and every other kind within a time limit (限时办).
    """

    direct = "direct"
    time_limited = "time_limited"
    agency = "agency"
    home_visit = "home_visit"

    @property
    def label(self) -> str:
        return _MODE_LABELS[self]


_MODE_LABELS = {
    HandlingMode.direct: "直接办理",
    HandlingMode.time_limited: "限时办理",
    HandlingMode.agency: "代办",
    HandlingMode.home_visit: "上门服务",
}


def handling_mode(kind: ItemKind, channel: Channel) -> HandlingMode:
    if channel is Channel.home_visit:
        return HandlingMode.home_visit
    if channel is Channel.agent:
        return HandlingMode.agency
    if kind is ItemKind.immediate:
        return HandlingMode.direct
    return HandlingMode.time_limited


class Metric(StrEnum):
    received = "received"
    one_time_notices = "one_time_notices"
    accepted_with_deficiencies = "accepted_with_deficiencies"
    concluded = "concluded"
    concluded_on_the_spot = "concluded_on_the_spot"
    concluded_early = "concluded_early"
    concluded_on_time = "concluded_on_time"
    concluded_overdue = "concluded_overdue"
    refused = "refused"
    supplements_requested = "supplements_requested"
    mode_direct = "mode_direct"
    mode_time_limited = "mode_time_limited"
    mode_agency = "mode_agency"
    mode_home_visit = "mode_home_visit"
    # Sum of working days from acceptance to decision, and how many decisions it covers (a case
    # first seen at its decision has no acceptance date and is left out of the average).
    working_days_total = "working_days_total"
    concluded_with_duration = "concluded_with_duration"
    evaluation_very_satisfied = "evaluation_very_satisfied"
    evaluation_satisfied = "evaluation_satisfied"
    evaluation_basically_satisfied = "evaluation_basically_satisfied"
    evaluation_dissatisfied = "evaluation_dissatisfied"
    evaluation_very_dissatisfied = "evaluation_very_dissatisfied"
    complaints = "complaints"
    rectifications = "rectifications"


def mode_metric(mode: HandlingMode) -> Metric:
    return Metric(f"mode_{mode.value}")


def evaluation_metric(level: EvaluationLevel) -> Metric:
    return Metric(f"evaluation_{level.value}")


# 好差评: very satisfied, satisfied and basically satisfied are good ratings (好评).
SATISFIED_LEVELS = (
    EvaluationLevel.very_satisfied,
    EvaluationLevel.satisfied,
    EvaluationLevel.basically_satisfied,
)


class Dimension(StrEnum):
    total = "total"
    org = "org"
    department = "department"
    window = "window"
    staff = "staff"


@dataclass(frozen=True, slots=True)
class Attribution:
    """Where a fact counts: the day (Asia/Shanghai), the unit, and who within it.

    `desk_org` is the unit whose department and window handled the case, when it is not `org`: a
    case accepted at a village point and decided by its township is rated at the village, on the
    township's window.
    """

    day: date
    org: str
    department: str | None = None
    window: str | None = None
    staff: str | None = None
    desk_org: str | None = None

    @property
    def department_key(self) -> str | None:
        if not self.department:
            return None
        return unit_key(department_org(self.desk_org or self.org, self.department), self.department)

    @property
    def window_key(self) -> str | None:
        return unit_key(self.desk_org or self.org, self.window) if self.window else None


def unit_key(org: str, code: str) -> str:
    """The counter key of a window or department: the org unit it belongs to, then its code."""
    return f"{org}:{code}"


@dataclass(frozen=True, slots=True)
class GroupKey:
    """A counter key read back: the org unit a group belongs to (None for a key of a staff member
    or a day, and for window and department counters kept before they were keyed by unit), and
    the code within it (window number, department code, org code, staff id or day)."""

    org: str | None
    code: str


def parse_key(dimension: Dimension | None, key: str) -> GroupKey:
    if dimension is Dimension.org:
        return GroupKey(key, key)
    if dimension in (Dimension.window, Dimension.department):
        org, sep, code = key.partition(":")
        if sep and len(org) == 12 and org.isdigit():
            return GroupKey(org, code)
    return GroupKey(None, key)


def department_org(org: str, department: str) -> str:
    """The unit a department belongs to: the one at the department's tier on `org`'s way up to
    the county (`township.civil_affairs` of a village point is its township's), `org` itself
    when the department sits at or below it or its code has no tier."""
    try:
        tier = department_tier(department)
    except ValueError:
        return org
    code = OrgCode.parse(org)
    while code.tier.rank < tier.rank and code.parent is not None:
        code = code.parent
    return code.value


# What a clerk reads for a group; before keying by unit a window or department had no unit.
_NO_UNIT = "未区分单位（升级前的计数）"


def group_label(dimension: Dimension | None, key: GroupKey, org_name: str | None) -> str:
    """The row's name for a clerk: "姜山镇 · 窗口 01", "姜山镇 · township.civil_affairs" (events
    carry a department's code, not its name), a unit's name, or the staff id or day itself."""
    where = org_name or key.org or _NO_UNIT
    if dimension is Dimension.window:
        return f"{where} · 窗口 {key.code}"
    if dimension is Dimension.department:
        return f"{where} · {key.code}"
    if dimension is Dimension.org:
        return org_name or key.code
    return key.code


@dataclass(frozen=True, slots=True, order=True)
class CounterKey:
    day: date
    org: str
    dimension: Dimension
    key: str
    metric: Metric


def rollup_path(org: str) -> list[tuple[str, str]]:
    """(scope, child) pairs: the unit itself with itself as child, then each unit above it up to
    the county with the unit just below it on the way (the key of "group by org")."""
    code = OrgCode.parse(org)
    path = [(code.value, code.value)]
    below = code
    while below.tier.rank < Tier.county.rank:
        above = below.parent
        assert above is not None  # only a province has no parent
        path.append((above.value, below.value))
        below = above
    return path


def counter_deltas(
    attribution: Attribution, increments: Mapping[Metric, int], into: dict[CounterKey, int] | None = None
) -> dict[CounterKey, int]:
    """Every counter an event moves, rolled up to the county, summed per key (added to `into`,
    the sums of earlier events, when given)."""
    deltas: dict[CounterKey, int] = {} if into is None else into
    where = [
        (Dimension.department, attribution.department_key),
        (Dimension.window, attribution.window_key),
        (Dimension.staff, attribution.staff),
    ]
    for scope, child in rollup_path(attribution.org):
        keys = [(Dimension.total, ""), (Dimension.org, child)]
        keys += [(dimension, value) for dimension, value in where if value]
        for dimension, key in keys:
            for metric, delta in increments.items():
                if delta:
                    counter = CounterKey(attribution.day, scope, dimension, key, metric)
                    deltas[counter] = deltas.get(counter, 0) + delta
    return deltas


def acceptance_increments(*, kind: ItemKind, channel: Channel, with_deficiencies: bool) -> dict[Metric, int]:
    return {
        Metric.received: 1,
        mode_metric(handling_mode(kind, channel)): 1,
        Metric.accepted_with_deficiencies: int(with_deficiencies),
    }


def conclusion_increments(
    *,
    outcome: Outcome,
    on_time: bool,
    decided_on: date,
    due_date: date,
    accepted_on: date | None,
    on_the_spot: bool,
    calendar: WorkCalendar,
) -> dict[Metric, int]:
    """A case concluded (办结: approved or refused). Early means decided before the due date."""
    counts = {
        Metric.concluded: 1,
        Metric.concluded_on_the_spot: int(on_the_spot),
        Metric.concluded_on_time: int(on_time),
        Metric.concluded_early: int(on_time and decided_on < due_date),
        Metric.concluded_overdue: int(not on_time),
        Metric.refused: int(outcome is Outcome.refused),
    }
    if accepted_on is not None:
        elapsed = calendar.working_days_between(accepted_on, decided_on).days
        counts[Metric.working_days_total] = max(elapsed, 0)
        counts[Metric.concluded_with_duration] = 1
    return counts


def rate(part: int, whole: int) -> float | None:
    """A share rounded to four places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def figures(counts: Mapping[str, int]) -> dict[str, Any]:
    """The reported figures from summed counters (missing counters are zero)."""

    def n(metric: Metric) -> int:
        return int(counts.get(metric.value, 0))

    concluded = n(Metric.concluded)
    evaluations = {level.value: n(evaluation_metric(level)) for level in EvaluationLevel}
    evaluated = sum(evaluations.values())
    with_duration = n(Metric.concluded_with_duration)
    return {
        "received": n(Metric.received),
        "one_time_notices": n(Metric.one_time_notices),
        "accepted_with_deficiencies": n(Metric.accepted_with_deficiencies),
        "concluded": concluded,
        "concluded_on_the_spot": n(Metric.concluded_on_the_spot),
        "concluded_early": n(Metric.concluded_early),
        "concluded_on_time": n(Metric.concluded_on_time),
        "concluded_overdue": n(Metric.concluded_overdue),
        "refused": n(Metric.refused),
        "supplements_requested": n(Metric.supplements_requested),
        "by_handling_mode": {mode.value: n(mode_metric(mode)) for mode in HandlingMode},
        "average_working_days_to_conclusion": (
            round(n(Metric.working_days_total) / with_duration, 2) if with_duration else None
        ),
        "evaluations": evaluations,
        "complaints": n(Metric.complaints),
        "rectifications": n(Metric.rectifications),
        "on_the_spot_rate": rate(n(Metric.concluded_on_the_spot), concluded),
        "early_rate": rate(n(Metric.concluded_early), concluded),
        "on_time_rate": rate(n(Metric.concluded_on_time), concluded),
        "satisfaction_rate": rate(sum(evaluations[level.value] for level in SATISFIED_LEVELS), evaluated),
    }


class ReportPeriod(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"

    @property
    def label(self) -> str:
        return {"daily": "日报", "weekly": "周报", "monthly": "月报"}[self.value]


def period_bounds(period: ReportPeriod, day: date) -> tuple[date, date]:
    """First and last day (inclusive) of the report period containing `day`; weeks start on Monday."""
    if period is ReportPeriod.daily:
        return day, day
    if period is ReportPeriod.weekly:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def sum_counts(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for metric, value in rows:
        totals[metric] = totals.get(metric, 0) + int(value)
    return totals
