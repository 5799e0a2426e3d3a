"""Statistics for a scripted set of cases equal the figures worked out by hand.

November 2026 (no holidays; the 2nd is a Monday), one county, two townships:
- A: immediate item at the county window, concluded on the spot on the 2nd (0 working days).
- B: promised item brought by a village agent of township 101 on the 2nd with a deficiency,
  decided (approved) at the township on the 4th, due the 9th: early, 2 working days; rated very
  satisfied. One one-time notice was issued at the village on the 2nd.
- C: promised item at township 102's window on the 3rd, due the 5th; supplement requested on
  the 4th; refused on the 9th: overdue, 4 working days; rated dissatisfied, complained about on
  the 10th, rectification opened on the 11th.
- D: joint item taken on a home visit in the village on the 3rd; not concluded.
- A second decision for A (routing repeating the window's) must not count twice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest

from daiban_common.settings import Settings
from daiban_contracts.case import (
    CaseAccepted,
    CaseEvaluated,
    Channel,
    ComplaintFiled,
    EvaluationLevel,
    MaterialIssue,
    OneTimeNoticeIssued,
    OnTheSpotResult,
    Outcome,
    RectificationOpened,
)
from daiban_contracts.catalogue import ItemKind
from daiban_contracts.envelope import Envelope
from daiban_contracts.orgcodes import Tier
from daiban_contracts.routing import CaseAssigned, CaseDecided, SupplementRequested
from tests.integration.audit.journey import (
    COUNTY,
    TOWNSHIP,
    TOWNSHIP_2,
    VILLAGE,
    at,
    bearer,
    envelope,
    execute,
    publish,
    scalar,
    staff,
    summary,
)
from tests.servers import Network, RunningService, eventually, running

pytestmark = pytest.mark.integration

ISSUE = MaterialIssue(
    material_code="M1", material_name="户口簿", problem="missing", required_form="original", required_copies=1
)


def script() -> list[Envelope]:
    a = summary(
        "A",
        org=COUNTY,
        kind=ItemKind.immediate,
        channel=Channel.window,
        accepted_at=at(2, 9),
        promised=date(2026, 11, 2),
        department="county.public_security",
        responder="c-clerk-1",
        level=Tier.county,
    )
    b = summary(
        "B",
        org=VILLAGE,
        kind=ItemKind.promised,
        channel=Channel.agent,
        accepted_at=at(2, 10),
        promised=date(2026, 11, 9),
        department="township.civil_affairs",
        responder="agent-7",
        deficient=True,
    )
    c = summary(
        "C",
        org=TOWNSHIP_2,
        kind=ItemKind.promised,
        channel=Channel.window,
        accepted_at=at(3, 9),
        promised=date(2026, 11, 5),
        department="township.labour",
        responder="t2-clerk",
    )
    d = summary(
        "D",
        org=VILLAGE,
        kind=ItemKind.joint,
        channel=Channel.home_visit,
        accepted_at=at(3, 15),
        promised=date(2026, 11, 20),
        department="township.land",
        responder="agent-7",
    )
    t1, t2 = staff("t-approver-1", TOWNSHIP), staff("t2-approver", TOWNSHIP_2)
    spot = OnTheSpotResult(result="临时身份证", decided_by=staff("c-clerk-1", COUNTY))

    def decided(case: str, org: str, who: Any, when: Any, due: date, on_time: bool, outcome: Outcome) -> Any:
        return envelope(
            CaseDecided(
                case_number=case,
                accepting_org=org,
                org=who.org,
                outcome=outcome,
                decided_by=who,
                decided_at=when,
                due_date=due,
                on_time=on_time,
            ),
            subject=case,
            org=who.org,
            actor=who.staff_id,
        )

    return [
        envelope(CaseAccepted(case=a, on_the_spot=spot), subject="A", org=COUNTY, actor="c-clerk-1"),
        envelope(OneTimeNoticeIssued(notice_number="N1", item_implementation_code="X", item_name="测试事项",
                                     org=VILLAGE, issued_by=staff("agent-7", VILLAGE), issues=(ISSUE,),
                                     issued_at=at(2, 9)), subject="X", org=VILLAGE, actor="agent-7"),
        envelope(CaseAccepted(case=b), subject="B", org=VILLAGE, actor="agent-7"),
        envelope(CaseAccepted(case=c), subject="C", org=TOWNSHIP_2, actor="t2-clerk"),
        envelope(CaseAccepted(case=d), subject="D", org=VILLAGE, actor="agent-7"),
        envelope(CaseAssigned(case_number="B", accepting_org=VILLAGE, org=TOWNSHIP, task_id="t1",
                              department="township.civil_affairs", window="W1", staff_id="t-approver-1",
                              post="a", due_date=date(2026, 11, 9), assigned_at=at(2, 14)),
                 subject="B", org=TOWNSHIP, actor="system:routing"),
        envelope(CaseAssigned(case_number="C", accepting_org=TOWNSHIP_2, org=TOWNSHIP_2, task_id="t2",
                              department="township.labour", window="W7", staff_id="t2-approver", post="b",
                              due_date=date(2026, 11, 5), assigned_at=at(3, 10)),
                 subject="C", org=TOWNSHIP_2, actor="system:routing"),
        envelope(SupplementRequested(case_number="C", accepting_org=TOWNSHIP_2, org=TOWNSHIP_2,
                                     issues=(ISSUE,), requested_by=t2, requested_at=at(4, 11)),
                 subject="C", org=TOWNSHIP_2, actor="t2-approver"),
        decided("A", COUNTY, staff("c-clerk-1", COUNTY), at(2, 9), date(2026, 11, 2), True, Outcome.approved),
        decided("B", VILLAGE, t1, at(4, 15), date(2026, 11, 9), True, Outcome.approved),
        decided("C", TOWNSHIP_2, t2, at(9, 16), date(2026, 11, 5), False, Outcome.refused),
        envelope(CaseEvaluated(case_number="B", accepting_org=VILLAGE, level=EvaluationLevel.very_satisfied,
                               evaluated_at=at(5, 10)), subject="B", org=VILLAGE, actor="citizen"),
        envelope(CaseEvaluated(case_number="C", accepting_org=TOWNSHIP_2, level=EvaluationLevel.dissatisfied,
                               evaluated_at=at(10, 10)), subject="C", org=TOWNSHIP_2, actor="citizen"),
        envelope(ComplaintFiled(complaint_id="K1", org=TOWNSHIP_2, target="case", case_number="C",
                                summary="退件理由不清", filed_at=at(10, 11)),
                 subject="C", org=TOWNSHIP_2, actor="citizen"),
        envelope(RectificationOpened(rectification_id="R1", case_number="C", org=TOWNSHIP_2, reason="投诉",
                                     due_date=date(2026, 11, 20), opened_at=at(11, 9)),
                 subject="C", org=TOWNSHIP_2, actor="county-supervisor"),
    ]  # fmt: skip


COUNTY_TOTALS = {
    "received": 4,
    "one_time_notices": 1,
    "accepted_with_deficiencies": 1,
    "concluded": 3,
    "concluded_on_the_spot": 1,
    "concluded_early": 1,
    "concluded_on_time": 2,
    "concluded_overdue": 1,
    "refused": 1,
    "supplements_requested": 1,
    "by_handling_mode": {"direct": 1, "time_limited": 1, "agency": 1, "home_visit": 1},
    "average_working_days_to_conclusion": 2.0,  # (0 + 2 + 4) / 3
    "evaluations": {
        "very_satisfied": 1,
        "satisfied": 0,
        "basically_satisfied": 0,
        "dissatisfied": 1,
        "very_dissatisfied": 0,
    },
    "complaints": 1,
    "rectifications": 1,
    "on_the_spot_rate": 0.3333,
    "early_rate": 0.3333,
    "on_time_rate": 0.6667,
    "satisfaction_rate": 0.5,
}


@asynccontextmanager
async def counted(network: Network, events: list[Envelope]) -> AsyncIterator[tuple[Settings, RunningService]]:
    """A county node's audit service once its statistics consumer has applied `events`."""
    settings = await network.node(COUNTY)
    async with running("audit", settings) as audit:
        await publish(settings, events)
        inbox = "SELECT count(*) FROM audit.inbox WHERE consumer LIKE '%-stats'"

        async def applied() -> bool:
            return int(await scalar(audit, inbox)) == len(events)

        await eventually(applied, within=15)
        yield settings, audit


@pytest.fixture
async def county(network: Network) -> AsyncIterator[tuple[Settings, RunningService]]:
    async with counted(network, script()) as node:
        yield node


async def get(audit: RunningService, settings: Settings, path: str, **params: Any) -> Any:
    response = await audit.client.get(path, params=params, headers=bearer(settings))
    assert response.status_code == 200, response.text
    return response.json()


async def grouped(audit: RunningService, settings: Settings, by: str) -> dict[str, Any]:
    body = await get(audit, settings, "/v1/stats", group_by=by, **{"from": "2026-11-01", "to": "2026-11-30"})
    return {group["key"]: group for group in body["groups"]}


async def test_county_totals_equal_the_hand_computed_figures(county: tuple[Settings, RunningService]) -> None:
    settings, audit = county
    body = await get(audit, settings, "/v1/stats", org=COUNTY, **{"from": "2026-11-01", "to": "2026-11-30"})
    assert body["totals"] == COUNTY_TOTALS
    assert body["groups"] == []


async def test_figures_by_org_department_day_window_and_staff(
    county: tuple[Settings, RunningService],
) -> None:
    settings, audit = county
    month = {"from": "2026-11-01", "to": "2026-11-30"}
    by_org = await grouped(audit, settings, "org")
    assert set(by_org) == {COUNTY, TOWNSHIP, TOWNSHIP_2}
    assert (by_org[COUNTY]["received"], by_org[COUNTY]["concluded_on_the_spot"]) == (1, 1)
    # Township 101: B and D received at its village, B concluded at the township, the notice.
    t1 = by_org[TOWNSHIP]
    assert (t1["received"], t1["concluded"], t1["concluded_early"], t1["one_time_notices"]) == (2, 1, 1, 1)
    assert t1["by_handling_mode"] == {"direct": 0, "time_limited": 0, "agency": 1, "home_visit": 1}
    assert t1["satisfaction_rate"] == 1.0 and t1["average_working_days_to_conclusion"] == 2.0
    t2 = by_org[TOWNSHIP_2]
    assert (t2["concluded_overdue"], t2["refused"], t2["complaints"], t2["rectifications"]) == (1, 1, 1, 1)
    assert t2["satisfaction_rate"] == 0.0

    # The township's own view rolls its village up.
    township = await get(audit, settings, "/v1/stats", org=TOWNSHIP, group_by="org", **month)
    assert township["totals"]["received"] == 2
    assert {g["key"]: g["received"] for g in township["groups"]} == {VILLAGE: 2, TOWNSHIP: 0}

    by_day = await grouped(audit, settings, "day")
    assert {day: g["received"] for day, g in by_day.items() if g["received"]} == {
        "2026-11-02": 2,
        "2026-11-03": 2,
    }
    assert {day: g["concluded"] for day, g in by_day.items() if g["concluded"]} == {
        "2026-11-02": 1,
        "2026-11-04": 1,
        "2026-11-09": 1,
    }
    by_department = {
        g["key"]: g
        for g in (await get(audit, settings, "/v1/stats", group_by="department", **month))["groups"]
    }
    assert by_department[f"{TOWNSHIP_2}:township.labour"]["supplements_requested"] == 1
    assert by_department[f"{COUNTY}:county.public_security"]["concluded"] == 1
    by_window = await grouped(audit, settings, "window")
    assert (by_window[f"{TOWNSHIP}:W1"]["concluded"], by_window[f"{TOWNSHIP_2}:W7"]["refused"]) == (1, 1)
    by_staff = await grouped(audit, settings, "staff")
    assert by_staff["agent-7"]["received"] == 2 and by_staff["t2-approver"]["concluded_overdue"] == 1

    first_days = await get(audit, settings, "/v1/stats", **{"from": "2026-11-02", "to": "2026-11-03"})
    assert (first_days["totals"]["received"], first_days["totals"]["concluded"]) == (4, 1)


async def test_reports_as_json_csv_and_html(county: tuple[Settings, RunningService]) -> None:
    settings, audit = county
    monthly = await get(audit, settings, "/v1/reports/monthly", org=COUNTY, date="2026-11-15")
    assert (monthly["from"], monthly["to"], monthly["period_label"]) == ("2026-11-01", "2026-11-30", "月报")
    assert monthly["totals"] == COUNTY_TOTALS
    weekly = await get(audit, settings, "/v1/reports/weekly", date="2026-11-04")
    assert (weekly["from"], weekly["to"]) == ("2026-11-02", "2026-11-08")
    assert (weekly["totals"]["received"], weekly["totals"]["concluded"]) == (4, 2)

    as_csv = await audit.client.get(
        "/v1/reports/monthly",
        params={"date": "2026-11-15"},
        headers={**bearer(settings), "Accept": "text/csv"},
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert rows[0][:6] == ["分组", "项目", "单位代码", "单位名称", "受理件数", "一次性告知"]
    assert rows[1][:8] == ["合计", "合计", COUNTY, "莱西市", "4", "1", "1", "3"]
    as_html = await audit.client.get(
        "/v1/reports/daily",
        params={"date": "2026-11-02"},
        headers={**bearer(settings), "Accept": "text/html"},
    )
    assert as_html.status_code == 200 and as_html.headers["content-type"].startswith("text/html")
    assert "政务服务日报" in as_html.text and "即办率" in as_html.text

    stats_csv = await audit.client.get(
        "/v1/stats", params={"group_by": "org", "from": "2026-11-01", "to": "2026-11-30"},
        headers={**bearer(settings), "Accept": "text/csv"},
    )  # fmt: skip
    assert len(list(csv.reader(io.StringIO(stats_csv.text.lstrip("\ufeff"))))) == 1 + 1 + 3


async def test_stats_are_scoped_to_the_callers_subtree(county: tuple[Settings, RunningService]) -> None:
    settings, audit = county
    other = bearer(settings, org=TOWNSHIP_2)
    hidden = await audit.client.get("/v1/stats", params={"org": TOWNSHIP}, headers=other)
    assert hidden.status_code == 404
    own = await audit.client.get(
        "/v1/stats", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=other
    )
    assert own.json()["org"] == TOWNSHIP_2 and own.json()["totals"]["received"] == 1


# ---------------------------------------------------------------------------------------------
# Window 01 and the civil-affairs office exist in every township: each unit's are rows of their own,
# named from the replica of the county's org units (every test node starts with the demo counties').


def same_desks_script() -> list[Envelope]:
    """E at 姜山镇, F at 夏格庄镇, G brought at 姜山社区 and decided by 姜山镇, H at the county: all
    assigned to a window "01", the townships' to their `township.civil_affairs`."""
    cases = [
        ("E", TOWNSHIP, TOWNSHIP, "township.civil_affairs"),
        ("F", TOWNSHIP_2, TOWNSHIP_2, "township.civil_affairs"),
        ("G", VILLAGE, TOWNSHIP, "township.civil_affairs"),
        ("H", COUNTY, COUNTY, "county.civil_affairs"),
    ]
    events: list[Envelope] = []
    for number, accepted_at, desk, department in cases:
        case = summary(
            number,
            org=accepted_at,
            kind=ItemKind.promised,
            channel=Channel.window,
            accepted_at=at(2, 9),
            promised=date(2026, 11, 9),
            department=department,
            responder=f"{number}-clerk",
        )
        clerk = staff(f"{number}-approver", desk)
        events += [
            envelope(CaseAccepted(case=case), subject=number, org=accepted_at, actor=f"{number}-clerk"),
            envelope(CaseAssigned(case_number=number, accepting_org=accepted_at, org=desk,
                                  task_id=f"t-{number}", department=department, window="01",
                                  staff_id=clerk.staff_id, post="a",
                                  due_date=date(2026, 11, 9), assigned_at=at(2, 10)),
                     subject=number, org=desk, actor="system:routing"),
            envelope(CaseDecided(case_number=number, accepting_org=accepted_at, org=desk,
                                 outcome=Outcome.approved, decided_by=clerk, decided_at=at(3, 10),
                                 due_date=date(2026, 11, 9), on_time=True),
                     subject=number, org=desk, actor=clerk.staff_id),
        ]  # fmt: skip
    events.append(
        envelope(CaseEvaluated(case_number="G", accepting_org=VILLAGE, level=EvaluationLevel.satisfied,
                               evaluated_at=at(4, 10)), subject="G", org=VILLAGE, actor="citizen")
    )  # fmt: skip
    return events


@pytest.fixture
async def same_desks(network: Network) -> AsyncIterator[tuple[Settings, RunningService]]:
    async with counted(network, same_desks_script()) as node:
        yield node


async def test_window_01_of_each_unit_is_a_row_of_its_own_with_its_name(
    same_desks: tuple[Settings, RunningService],
) -> None:
    settings, audit = same_desks
    by_window = await grouped(audit, settings, "window")
    rows = {
        key: (g["org"], g["org_name"], g["code"], g["label"], g["concluded"]) for key, g in by_window.items()
    }
    assert rows == {
        f"{COUNTY}:01": (COUNTY, "莱西市", "01", "莱西市 · 窗口 01", 1),
        f"{TOWNSHIP}:01": (TOWNSHIP, "姜山镇", "01", "姜山镇 · 窗口 01", 2),
        f"{TOWNSHIP_2}:01": (TOWNSHIP_2, "夏格庄镇", "01", "夏格庄镇 · 窗口 01", 1),
    }  # fmt: skip
    # G was rated at the village point, on the township's window that decided it.
    assert by_window[f"{TOWNSHIP}:01"]["evaluations"]["satisfied"] == 1
    month = {"from": "2026-11-01", "to": "2026-11-30"}
    township = await get(audit, settings, "/v1/stats", org=TOWNSHIP, group_by="window", **month)
    assert township["org_name"] == "姜山镇"
    assert [g["label"] for g in township["groups"]] == ["姜山镇 · 窗口 01"]


async def test_each_units_civil_affairs_office_is_a_row_of_its_own(
    same_desks: tuple[Settings, RunningService],
) -> None:
    settings, audit = same_desks
    by_department = await grouped(audit, settings, "department")
    # The village point's case counts at its township's office, where the item's department sits.
    assert {key: (g["org_name"], g["label"], g["received"]) for key, g in by_department.items()} == {
        f"{COUNTY}:county.civil_affairs": ("莱西市", "莱西市 · county.civil_affairs", 1),
        f"{TOWNSHIP}:township.civil_affairs": ("姜山镇", "姜山镇 · township.civil_affairs", 2),
        f"{TOWNSHIP_2}:township.civil_affairs": ("夏格庄镇", "夏格庄镇 · township.civil_affairs", 1),
    }


async def test_reports_name_the_units_beside_their_codes(same_desks: tuple[Settings, RunningService]) -> None:
    settings, audit = same_desks
    monthly = await get(audit, settings, "/v1/reports/monthly", org=COUNTY, date="2026-11-15")
    assert monthly["org_name"] == "莱西市"
    assert {(g["key"], g["org_name"]) for g in monthly["by_org"]} == {
        (COUNTY, "莱西市"),
        (TOWNSHIP, "姜山镇"),
        (TOWNSHIP_2, "夏格庄镇"),
    }
    assert {g["label"] for g in monthly["by_department"]} == {
        "莱西市 · county.civil_affairs",
        "姜山镇 · township.civil_affairs",
        "夏格庄镇 · township.civil_affairs",
    }
    as_csv = await audit.client.get(
        "/v1/reports/monthly",
        params={"date": "2026-11-15"},
        headers={**bearer(settings), "Accept": "text/csv"},
    )
    rows = list(csv.reader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert rows[1][:4] == ["合计", "合计", COUNTY, "莱西市"]
    assert ["按区划单位", "姜山镇", TOWNSHIP, "姜山镇"] in [row[:4] for row in rows]
    assert ["按部门", "夏格庄镇 · township.civil_affairs", TOWNSHIP_2, "夏格庄镇"] in [
        row[:4] for row in rows
    ]
    as_html = await audit.client.get(
        "/v1/reports/monthly",
        params={"date": "2026-11-15"},
        headers={**bearer(settings), "Accept": "text/html"},
    )
    assert (
        "莱西市（370285000000） 政务服务月报" in as_html.text
        and "姜山镇 · township.civil_affairs" in as_html.text
    )


async def test_window_counters_kept_before_keying_by_unit_are_shown_as_such(
    same_desks: tuple[Settings, RunningService],
) -> None:
    settings, audit = same_desks
    await execute(
        audit,
        f"INSERT INTO audit.stat_counters (org, dimension, day, key, metric, value) "
        f"VALUES ('{COUNTY}', 'window', '2026-11-02', '01', 'received', 5)",
    )
    legacy = (await grouped(audit, settings, "window"))["01"]
    assert (legacy["org"], legacy["org_name"], legacy["received"]) == (None, None, 5)
    assert legacy["label"] == "未区分单位（升级前的计数） · 窗口 01"
