"""Loading a year's official schedule moves the provisional deadlines it reaches, up to the citizen.

Intake and routing of one node on the real bus: a case accepted in late 2030 is due in January
2031, a year no installed calendar knows, so its deadline is counted with the statutory holidays
by rule and is provisional. The administrator loads the State Council's notice for 2031 (here one
that gives three days off for New Year's Day where the rule gives one): routing counts the
deadline again, announces it (`daiban.case.due_recomputed.v1`), and intake's public progress shows
the new date.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from daiban_common import clock
from daiban_common.calendar import SHANGHAI, default_calendar
from daiban_routing.service import SERVICE as ROUTING
from tests.integration.intake.helpers import accept_once_known, item, progress_when, publish_item
from tests.integration.routing.helpers import bearer, events_of, is_problem, published
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

COUNTY = "370285000000"
TOWNSHIP = "370285101000"  # 姜山镇, running a node of its own in the last test
VILLAGE = "370285101294"  # 姜山社区, in routing's demo directory
NOTICE = "国办发明电〔2030〕7号"
# Friday 27 December 2030; five working days by rule: 30, 31 December, 2, 3 and 6 January.
ACCEPTED_AT = datetime(2030, 12, 27, 10, 0, tzinfo=SHANGHAI)
DUE_BY_RULE = date(2031, 1, 6)
# With 1–3 January off: 30, 31 December, 6, 7 and 8 January.
DUE_BY_NOTICE = date(2031, 1, 8)


@pytest.fixture(autouse=True)
def fresh_calendar() -> Iterator[None]:
    # The process calendar is shared by every service running in this test process.
    default_calendar.cache_clear()
    yield
    default_calendar.cache_clear()


async def test_a_loaded_schedule_moves_provisional_deadlines_up_to_public_progress(network: Network) -> None:
    settings = await network.node(COUNTY)
    async with running("intake", settings) as intake, running("routing", settings) as routing:
        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)
        await publish_item(settings, intake.runtime, item())
        agent = bearer(settings, "js-294-agent", "agent", VILLAGE, "许春花")
        admin = bearer(settings, "county-admin", "admin", COUNTY, "县中心管理员")

        with clock.at(ACCEPTED_AT):
            receipt = await accept_once_known(intake.client, agent, VILLAGE)
        number = receipt["case_number"]
        assert (receipt["promised_date"], receipt["promised_date_provisional"]) == (
            DUE_BY_RULE.isoformat(),
            True,
        )
        await progress_when(intake.client, receipt, lambda shown: bool(shown["status"] == "assigned"))
        before = (await routing.client.get("/v1/calendar/years/2031")).json()
        assert (before["source"], before["provisional"]) == ("statutory_rule", True)
        assert "2031-01-01" in before["holidays"] and "2031-01-02" not in before["holidays"]

        schedule = {
            "holidays": ["2031-01-01", "2031-01-02", "2031-01-03"],
            "workdays": [],
            "reference": NOTICE,
        }
        loaded = await routing.client.put("/v1/calendar/years/2031", json=schedule, headers=admin)
        assert loaded.status_code == 200, loaded.text
        body = loaded.json()
        assert body["changed"] is True and body["recomputed_cases"] == [number]
        assert (body["source"], body["reference"]) == ("notice", NOTICE)

        [moved] = await published(settings, number, "case.due_recomputed")
        payload = moved.data
        assert (payload["previous_due_date"], payload["due_date"]) == (
            DUE_BY_RULE.isoformat(),
            DUE_BY_NOTICE.isoformat(),
        )
        # The count still crosses the end of 2030, a year nobody published either.
        assert payload["provisional"] is True and payload["reference"] == NOTICE
        [announced] = await published(settings, "calendar-2031", "calendar.year_published")
        assert announced.data["holidays"] == schedule["holidays"] and announced.actor == "county-admin"

        shown_progress = await progress_when(
            intake.client, receipt, lambda shown: bool(shown["due_date"] == DUE_BY_NOTICE.isoformat())
        )
        assert shown_progress["due_date_provisional"] is True
        assert shown_progress["promised_date"] == DUE_BY_RULE.isoformat()
        stage = shown_progress["stages"][-1]
        assert (stage["stage"], stage["label"]) == ("due_recomputed", "办结时限调整")
        assert NOTICE in stage["note"]
        reprinted = (await intake.client.get(f"/v1/cases/{number}/receipt", headers=agent)).json()
        assert (reprinted["promised_date"], reprinted["due_date"]) == (
            DUE_BY_RULE.isoformat(),
            DUE_BY_NOTICE.isoformat(),
        )
        page = await intake.client.get(f"/v1/cases/{number}/receipt.html", headers=agent)
        assert "调整后办结日期</th><td>2031年01月08日（暂定）" in page.text
        # The process calendar counts with the notice from now on; GET shows it.
        assert not default_calendar().is_working_day(date(2031, 1, 2))
        after = (await routing.client.get("/v1/calendar/years/2031")).json()
        assert (after["source"], after["provisional"], after["reference"]) == ("notice", False, NOTICE)

        # The same notice again: nothing changes, nothing is announced (PUT is idempotent).
        again = await routing.client.put("/v1/calendar/years/2031", json=schedule, headers=admin)
        assert again.status_code == 200 and again.json()["changed"] is False
        assert again.json()["recomputed_cases"] == []
        assert len(await events_of(settings, "calendar-2031", "calendar.year_published")) == 1

    # A restarted intake process is not handed the event again (its durable consumer applied it):
    # it counts with the notice from its replica, loaded at start.
    default_calendar.cache_clear()
    assert default_calendar().is_working_day(date(2031, 1, 2))
    async with running("intake", settings):

        async def knows_the_notice() -> bool:
            return not default_calendar().is_working_day(date(2031, 1, 2))

        await eventually(knows_the_notice)


async def test_only_an_admin_loads_a_schedule_and_bad_days_are_named(network: Network) -> None:
    settings = await network.node(COUNTY)
    async with running("routing", settings) as routing:
        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)
        admin = bearer(settings, "county-admin", "admin", COUNTY, "县中心管理员")
        clerk = bearer(settings, "county-clerk", "clerk", COUNTY, "县中心窗口人员")
        schedule = {"holidays": ["2031-01-01"], "workdays": [], "reference": NOTICE}
        is_problem(await routing.client.put("/v1/calendar/years/2031", json=schedule, headers=clerk), 403)
        is_problem(await routing.client.put("/v1/calendar/years/2031", json=schedule), 401)

        bad = {"holidays": ["2031-01-01", "2030-12-31"], "workdays": ["2031-02-03"], "reference": NOTICE}
        problem = is_problem(
            await routing.client.put("/v1/calendar/years/2031", json=bad, headers=admin), 422
        )
        assert [e["field"] for e in problem["errors"]] == ["holidays[1]", "workdays[0]"]
        assert problem["errors"][1]["message"] == "2031-02-03本是工作日，不能列为调休上班日"
        nul = {**schedule, "reference": "a\u0000b"}
        problem = is_problem(
            await routing.client.put("/v1/calendar/years/2031", json=nul, headers=admin), 422
        )
        assert problem["errors"][0]["field"] == "reference"
        problem = is_problem(
            await routing.client.put("/v1/calendar/years/1999", json=schedule, headers=admin), 422
        )
        assert problem["errors"][0]["field"] == "year"
        # Nothing was stored: the year is still counted by rule.
        year = (await routing.client.get("/v1/calendar/years/2031")).json()
        assert year["source"] == "statutory_rule"
        built_in = (await routing.client.get("/v1/calendar/years/2024")).json()
        assert (built_in["source"], built_in["provisional"]) == ("built_in", False)
        assert "2024-02-04" in built_in["workdays"]  # a Sunday worked before 春节 2024

        # Two administrators load a year at the same moment: one stores it, the other finds it.
        first = {"holidays": ["2032-01-01"], "workdays": [], "reference": "国办发明电〔2031〕1号"}
        answers = await asyncio.gather(
            *(routing.client.put("/v1/calendar/years/2032", json=first, headers=admin) for _ in range(2))
        )
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert sorted(a.json()["changed"] for a in answers) == [False, True]


async def test_a_township_node_takes_the_schedule_loaded_at_the_county(network: Network) -> None:
    county = await network.node(COUNTY, child_nodes=[TOWNSHIP])
    township = await network.node(TOWNSHIP)
    async with running("routing", county) as county_routing, running("routing", township) as township_routing:
        assert ROUTING.seed is not None
        await ROUTING.seed(county_routing.runtime)
        admin = bearer(county, "county-admin", "admin", COUNTY, "县中心管理员")
        schedule = {"holidays": ["2031-01-01", "2031-01-02"], "workdays": [], "reference": NOTICE}
        loaded = await county_routing.client.put("/v1/calendar/years/2031", json=schedule, headers=admin)
        assert loaded.status_code == 200, loaded.text

        async def stored_at_the_township() -> dict[str, Any] | None:
            body: dict[str, Any] = (await township_routing.client.get("/v1/calendar/years/2031")).json()
            return body if body["source"] == "notice" else None

        year = await eventually(stored_at_the_township)
        assert isinstance(year, dict)
        assert year["holidays"] == schedule["holidays"] and year["reference"] == NOTICE
        # Neither node announces the year a second time.
        await asyncio.sleep(0.5)
        assert len(await events_of(county, "calendar-2031", "calendar.year_published")) == 1
