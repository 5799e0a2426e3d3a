"""A fetch of events appends to the chain and bumps the counters in one transaction, writing the
chain head and the counters once at its commit (UnitOfWork.at_commit); an event failing among
them costs the others only a retry one by one, each then in a transaction of its own, and what
the failed batch had moved in memory is gone with it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from daiban_audit.domain.masking import mask_personal_data
from daiban_audit.handlers import ledger, stats
from daiban_common.uow import Prepared, UnitOfWork
from daiban_contracts.case import OneTimeNoticeIssued
from daiban_contracts.envelope import Envelope
from tests.integration.audit.journey import COUNTY, VILLAGE, at, envelope, publish, scalar, staff
from tests.integration.audit.test_log import verify
from tests.integration.audit.test_stats import ISSUE
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

NOTICES = 24


def _notices() -> list[Envelope]:
    return [
        envelope(
            OneTimeNoticeIssued(
                notice_number=f"N{i}",
                item_implementation_code="X",
                item_name="测试事项",
                org=VILLAGE,
                issued_by=staff("agent-7", VILLAGE),
                issues=(ISSUE,),
                issued_at=at(2, 9),
            ),
            subject=f"N{i}",
            org=VILLAGE,
            actor="agent-7",
        )
        for i in range(NOTICES)
    ]


async def test_a_fetch_moves_the_head_and_the_counters_once_and_a_failing_event_only_itself(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: Counter[Prepared] = Counter()
    execute = UnitOfWork.execute

    async def counted(uow: UnitOfWork, statement: Prepared, params: Mapping[str, Any]) -> None:
        written[statement] += 1
        await execute(uow, statement, params)

    monkeypatch.setattr(UnitOfWork, "execute", counted)
    notices = _notices()
    poison = notices[NOTICES * 3 // 4]

    def failing(data: dict[str, Any]) -> Any:
        if data.get("notice_number") == poison.data["notice_number"]:
            raise RuntimeError("this notice can never be logged")
        return mask_personal_data(data)

    # A notice of the second half fails in the log's handler, after some appends of its batch.
    monkeypatch.setattr(ledger, "mask_personal_data", failing)
    settings = await network.node(COUNTY, consumer_max_deliver=2)
    async with running("audit", settings) as audit:
        consumers = [c for c in audit.runtime.consumers if c.name.endswith(("-log", "-stats"))]

        async def caught_up_with(batch: list[Envelope], logged: int, counted: int) -> int:
            """Publish `batch` while the consumers are stopped (a fetch takes many), wait until
            the log has `logged` entries and the counters `counted` notices; the appending
            transactions so far (PostgreSQL's xmin tells them apart)."""
            for consumer in consumers:
                await consumer.stop()
            await publish(settings, batch)
            for consumer in consumers:
                await consumer.start()

            async def caught_up() -> bool:
                entries = int(await scalar(audit, "SELECT count(*) FROM audit.entries"))
                return entries == logged and int(await scalar(audit, _COUNTED, org=COUNTY)) == counted

            await eventually(caught_up)
            return int(await scalar(audit, "SELECT count(DISTINCT xmin::text) FROM audit.entries"))

        half = NOTICES // 2
        appending = await caught_up_with(notices[:half], half, half)
        # The head written once by each transaction that appended, fewer than the entries.
        assert written[ledger._MOVE_HEAD] == appending < half
        assert 0 < written[stats._BUMP] < half

        appending = await caught_up_with(notices[half:], NOTICES - 1, NOTICES)
        parked = "SELECT count(*) FROM audit.dead_letters WHERE event_id = :id"
        await eventually(lambda: _one(audit, parked, id=poison.id))
        # The failed batch's events applied one by one, each writing the head in its own transaction.
        assert written[ledger._MOVE_HEAD] == appending
        assert await scalar(audit, "SELECT size FROM audit.chain_heads") == NOTICES - 1
        assert (await verify(audit, settings))["ok"] is True


_COUNTED = (
    "SELECT coalesce(sum(value), 0) FROM audit.stat_counters "
    "WHERE metric = 'one_time_notices' AND dimension = 'total' AND org = :org"
)


async def _one(audit: Any, sql: str, **params: Any) -> bool:
    return int(await scalar(audit, sql, **params)) >= 1
