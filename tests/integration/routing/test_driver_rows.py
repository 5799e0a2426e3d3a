"""Rows routing's handlers write on the driver (uow.defer, handlers.case_rows, daiban_common.uow.Prepared)
are the rows the ORM wrote for the same objects before, and a case read there is the one it loaded.

Each row is written twice in one transaction, once as the ORM object the handler used to add to
its session and once deferred on the unit of work, with the same values but for a key; the two
rows must be the same as PostgreSQL prints them (SQL NULL against JSON null, JSONB text,
timestamps, dates).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Table, text
from sqlmodel import SQLModel

from daiban_common.uow import Prepared, UnitOfWork
from daiban_routing.handlers import case_rows
from daiban_routing.handlers.assigning import _OPEN_TASK, NEW_TASK
from daiban_routing.handlers.cases import TIMELINE_LINE
from daiban_routing.handlers.moving import SENT_HOP
from daiban_routing.models import Case, Hop, Task, TimelineEntry
from tests.integration.routing.helpers import seeded_routing
from tests.servers import Network

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)


async def _rows(uow: UnitOfWork, table: Table, key: str, keys: tuple[str, str]) -> list[str]:
    """The rows of `table` whose `key` column is one of `keys`, as text (identity columns left
    out: they differ by construction)."""
    listed = ", ".join(f"t.{c.name}" for c in table.columns if c.identity is None)
    conn = await uow.session.connection()
    rows = await conn.execute(
        text(
            f"SELECT ROW({listed})::text FROM {table.schema}.{table.name} t"
            f" WHERE t.{key} IN (:a, :b) ORDER BY t.{key} = :a DESC"
        ),
        {"a": keys[0], "b": keys[1]},
    )
    return [str(r[0]) for r in rows]


_TIMELINE_LINE = {
    "case_number": "TL",
    "first_responder_id": "clerk-1",
    "at": AT,
    "org": "370285101000",
    "actor": "system",
    "kind": "assigned",
    "text": '已分派至民政"办"\\窗口，办理期限2026-03-16',
}
_HOP = {
    "id": "HOP",
    "case_number": "C-1",
    "direction": "up",
    "hop": 2,
    "from_org": "370285101000",
    "to_org": "370285000000",
    "sent_at": AT,
    "received_at": None,
    "received_by": None,
}


def _task(window: tuple[str, str, str] | None) -> dict[str, Any]:
    window_id, number, staff_id = window or (None, None, None)
    return {
        **_OPEN_TASK,
        "id": f"TASK{number}",
        "case_number": "C-1",
        "org": "370285000000",
        "department": "county.civil_affairs",
        "department_name": "民政局",
        "lead": window is None,
        "kind": "review",
        "window_id": window_id,
        "window_number": number,
        "staff_id": staff_id,
        "post": "a" if window else "queue",
        "status": "assigned" if window else "queued",
        "priority": 0,
        "limit_working_days": 7,
        "due_date": date(2026, 3, 11),
        "created_at": AT,
    }


# What a handler defers, with the columns made different between the ORM's row and the driver's
# (a suffix each; the first one finds the rows).
_WRITES: list[tuple[type[SQLModel], Prepared, dict[str, Any], tuple[str, ...]]] = [
    (TimelineEntry, TIMELINE_LINE, _TIMELINE_LINE, ("case_number",)),
    (Hop, SENT_HOP, _HOP, ("id", "case_number")),
    (Task, NEW_TASK, _task(None), ("id",)),
    (Task, NEW_TASK, _task(("w-1", "01", "clerk-1")), ("id",)),
]


def _both(
    uow: UnitOfWork, model: type[SQLModel], prepared: Prepared, values: dict[str, Any], keys: tuple[str, ...]
) -> None:
    uow.session.add(model(**(values | {k: f"{values[k]}-ORM" for k in keys})))
    uow.defer(prepared, values | {k: f"{values[k]}-DRIVER" for k in keys})


async def _same(
    uow: UnitOfWork, model: type[SQLModel], values: dict[str, Any], keys: tuple[str, ...]
) -> None:
    table: Table = model.__table__  # type: ignore[attr-defined]
    rows = await _rows(uow, table, keys[0], (f"{values[keys[0]]}-ORM", f"{values[keys[0]]}-DRIVER"))
    assert len(rows) == 2
    assert rows[0].replace("-ORM", "") == rows[1].replace("-DRIVER", "")


@pytest.mark.parametrize("write", _WRITES, ids=["timeline", "hop", "queued-task", "task"])
async def test_a_row_deferred_on_the_driver_is_the_row_the_orm_wrote(
    network: Network, write: tuple[type[SQLModel], Prepared, dict[str, Any], tuple[str, ...]]
) -> None:
    model, prepared, values, keys = write
    async with seeded_routing(network) as (_, routing), routing.runtime.uow() as uow:
        _both(uow, model, prepared, values, keys)
        await uow.flush()
        await _same(uow, model, values, keys)


async def test_rows_deferred_together_are_one_statement_of_the_rows_the_orm_wrote(network: Network) -> None:
    """Several statements and rows in one flush (one combined statement): the same rows, and the
    timeline lines in the order they were noted."""
    async with seeded_routing(network) as (_, routing), routing.runtime.uow() as uow:
        lines = [
            _TIMELINE_LINE | {"case_number": "TL2", "kind": kind}
            for kind in ("received", "assigned", "alert")
        ]
        for model, prepared, values, keys in _WRITES:
            _both(uow, model, prepared, values, keys)
        for line in lines:
            uow.defer(TIMELINE_LINE, line)
        await uow.flush()
        for model, _, values, keys in _WRITES:
            await _same(uow, model, values, keys)
        conn = await uow.session.connection()
        noted = await conn.execute(
            text("SELECT kind FROM routing.timeline WHERE case_number = 'TL2' ORDER BY id")
        )
        assert list(noted.scalars()) == ["received", "assigned", "alert"]


def _case(number: str) -> Case:
    return Case(
        case_number=number,
        accepting_org="370285101294",
        current_org="370285101294",
        status="forwarded",
        summary={"case_number": "C", "item": {"name": '测试"事项"', "days": [1.5, None]}, "none": None},
        first_responder_id="clerk-1",
        green_channel=True,
        accepted_at=AT,
        start_date=date(2026, 3, 2),
        limit_working_days=7,
        due_date=date(2026, 3, 11),
        due_provisional=True,
        last_activity_at=AT,
    )


def _move(case: Case) -> None:
    """What the hop handlers change, and what others might (JSON columns)."""
    case.current_org = case.deciding_org = "370285101000"
    case.status = "escalated"
    case.last_activity_at = datetime(2026, 3, 3, tzinfo=UTC)
    case.escalated_authority = "县级以上审批机关"
    case.follow_up_date = date(2026, 3, 20)
    case.reasons = ["理由"]
    case.decided_by = {"staff_id": "s1", "name": None}


async def test_a_case_created_and_changed_on_the_driver_is_the_row_the_orm_wrote(network: Network) -> None:
    table = Case.metadata.tables["routing.cases"]
    async with seeded_routing(network) as (_, routing), routing.runtime.uow() as uow:
        uow.session.add(_case("C-ORM"))
        case_rows.created(uow, _case("C-DRIVER"))
        await uow.flush()
        written = await _rows(uow, table, "case_number", ("C-ORM", "C-DRIVER"))
        assert written[0].replace("C-ORM", "#") == written[1].replace("C-DRIVER", "#")

        uow.session.expunge_all()
        by_orm = await uow.session.get(Case, "C-ORM")
        by_driver = await case_rows.locked(uow, "C-DRIVER")
        assert by_orm is not None and by_driver is not None
        assert by_driver.model_dump() == by_orm.model_dump() | {"case_number": "C-DRIVER"}
        _move(by_orm)
        _move(by_driver)
        case_rows.changed(uow, by_driver)
        await uow.flush()
        changed = await _rows(uow, table, "case_number", ("C-ORM", "C-DRIVER"))
        assert changed != written
        assert changed[0].replace("C-ORM", "#") == changed[1].replace("C-DRIVER", "#")
        assert await case_rows.locked(uow, "C-NONE") is None
