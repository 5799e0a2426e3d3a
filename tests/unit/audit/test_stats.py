from __future__ import annotations

from datetime import date

from daiban_audit.domain.stats import (
    Attribution,
    CounterKey,
    Dimension,
    GroupKey,
    HandlingMode,
    Metric,
    ReportPeriod,
    conclusion_increments,
    counter_deltas,
    department_org,
    figures,
    group_label,
    handling_mode,
    parse_key,
    period_bounds,
    rollup_path,
)
from daiban_common.calendar import default_calendar
from daiban_contracts.case import Channel, Outcome
from daiban_contracts.catalogue import ItemKind

DAY = date(2026, 11, 2)


def test_handling_mode_follows_channel_then_kind() -> None:
    assert handling_mode(ItemKind.promised, Channel.home_visit) is HandlingMode.home_visit
    assert handling_mode(ItemKind.immediate, Channel.agent) is HandlingMode.agency
    assert handling_mode(ItemKind.immediate, Channel.window) is HandlingMode.direct
    assert handling_mode(ItemKind.joint, Channel.online) is HandlingMode.time_limited


def test_a_village_fact_rolls_up_to_its_township_and_county() -> None:
    assert rollup_path("370285101201") == [
        ("370285101201", "370285101201"),
        ("370285101000", "370285101201"),
        ("370285000000", "370285101000"),
    ]
    assert rollup_path("370285000000") == [("370285000000", "370285000000")]


def test_counter_deltas_cover_every_scope_and_dimension() -> None:
    deltas = counter_deltas(
        Attribution(DAY, "370285101000", department="township.civil_affairs", window=None, staff="s1"),
        {Metric.received: 1, Metric.refused: 0},
    )
    scopes = {(k.org, k.dimension, k.key) for k in deltas}
    assert scopes == {
        ("370285101000", Dimension.total, ""),
        ("370285101000", Dimension.org, "370285101000"),
        ("370285101000", Dimension.department, "370285101000:township.civil_affairs"),
        ("370285101000", Dimension.staff, "s1"),
        ("370285000000", Dimension.total, ""),
        ("370285000000", Dimension.org, "370285101000"),
        ("370285000000", Dimension.department, "370285101000:township.civil_affairs"),
        ("370285000000", Dimension.staff, "s1"),
    }
    assert all(v == 1 and k.metric is Metric.received for k, v in deltas.items())
    assert CounterKey(DAY, "370285000000", Dimension.total, "", Metric.received) in deltas


def test_conclusion_counts_early_on_time_and_working_days() -> None:
    # Accepted Friday 2026-10-30, decided Wednesday 2026-11-04: 3 working days, due 11-06.
    counts = conclusion_increments(
        outcome=Outcome.approved,
        on_time=True,
        decided_on=date(2026, 11, 4),
        due_date=date(2026, 11, 6),
        accepted_on=date(2026, 10, 30),
        on_the_spot=False,
        calendar=default_calendar(),
    )
    assert counts[Metric.concluded_early] == 1 and counts[Metric.concluded_overdue] == 0
    assert counts[Metric.working_days_total] == 3
    late = conclusion_increments(
        outcome=Outcome.refused,
        on_time=False,
        decided_on=date(2026, 11, 9),
        due_date=date(2026, 11, 6),
        accepted_on=None,
        on_the_spot=False,
        calendar=default_calendar(),
    )
    assert late[Metric.concluded_overdue] == 1 and late[Metric.refused] == 1
    assert Metric.working_days_total not in late


def test_figures_compute_rates_and_averages() -> None:
    result = figures(
        {
            "concluded": 4,
            "concluded_on_the_spot": 1,
            "concluded_early": 2,
            "concluded_on_time": 3,
            "working_days_total": 7,
            "concluded_with_duration": 2,
            "evaluation_very_satisfied": 2,
            "evaluation_basically_satisfied": 1,
            "evaluation_dissatisfied": 1,
        }
    )
    assert result["on_the_spot_rate"] == 0.25
    assert result["early_rate"] == 0.5
    assert result["on_time_rate"] == 0.75
    assert result["average_working_days_to_conclusion"] == 3.5
    assert result["satisfaction_rate"] == 0.75
    assert figures({})["satisfaction_rate"] is None


def test_report_periods() -> None:
    assert period_bounds(ReportPeriod.daily, DAY) == (DAY, DAY)
    assert period_bounds(ReportPeriod.weekly, date(2026, 11, 4)) == (date(2026, 11, 2), date(2026, 11, 8))
    assert period_bounds(ReportPeriod.monthly, date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_bounds(ReportPeriod.monthly, date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))


def test_windows_and_departments_are_keyed_by_the_unit_they_belong_to() -> None:
    # Window 01 of two townships, rolled up to the county, are two counters.
    keys = {
        k.key
        for org in ("370285101000", "370285102000")
        for k in counter_deltas(Attribution(DAY, org, window="01"), {Metric.concluded: 1})
        if k.org == "370285000000" and k.dimension is Dimension.window
    }
    assert keys == {"370285101000:01", "370285102000:01"}
    # Rated at the village point, on the township's desk that decided it.
    rated = Attribution(
        DAY, "370285101201", department="township.civil_affairs", window="01", desk_org="370285101000"
    )
    assert (rated.window_key, rated.department_key) == (
        "370285101000:01",
        "370285101000:township.civil_affairs",
    )


def test_a_department_belongs_to_the_unit_at_its_tier() -> None:
    assert department_org("370285101201", "township.civil_affairs") == "370285101000"
    assert department_org("370285101000", "county.civil_affairs") == "370285000000"
    assert department_org("370285101000", "township.civil_affairs") == "370285101000"
    assert department_org("370285101000", "not-a-code") == "370285101000"


def test_group_keys_read_back_with_a_label_for_clerks() -> None:
    window = parse_key(Dimension.window, "370285101000:01")
    assert window == GroupKey("370285101000", "01")
    assert group_label(Dimension.window, window, "姜山镇") == "姜山镇 · 窗口 01"
    assert group_label(Dimension.window, window, None) == "370285101000 · 窗口 01"
    department = parse_key(Dimension.department, "370285101000:township.civil_affairs")
    assert group_label(Dimension.department, department, "姜山镇") == "姜山镇 · township.civil_affairs"
    assert group_label(Dimension.org, parse_key(Dimension.org, "370285101000"), "姜山镇") == "姜山镇"
    assert group_label(Dimension.staff, parse_key(Dimension.staff, "s1"), None) == "s1"
    # Counters kept before windows were keyed by unit.
    legacy = parse_key(Dimension.window, "01")
    assert legacy == GroupKey(None, "01")
    assert group_label(Dimension.window, legacy, None) == "未区分单位（升级前的计数） · 窗口 01"
