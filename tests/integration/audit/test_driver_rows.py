"""Rows audit writes on the driver (daiban_common.uow.Prepared) are the rows SQLAlchemy's execution
of the same statements wrote: the entry, the moved chain head, the counters.

Each is written twice in one transaction with the same values but for a key, once through the
session's connection and once on the driver, and the two rows compared as PostgreSQL prints them
(JSONB text, timestamps, dates).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Executable, text

from daiban_audit.domain.chain import GENESIS_HASH, Entry, sealed
from daiban_audit.domain.stats import CounterKey, Dimension, Metric
from daiban_audit.handlers.ledger import _APPEND, _MOVE_HEAD
from daiban_audit.handlers.stats import _BUMP, bump_params
from daiban_common.uow import UnitOfWork
from tests.integration.audit.journey import COUNTY, TOWNSHIP
from tests.servers import Network, running

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 2, 1, 2, 3, 456789, tzinfo=UTC)


def _entry(seq: int, event_id: str) -> dict[str, Any]:
    return asdict(
        sealed(
            Entry(
                seq=seq,
                event_id=event_id,
                type="daiban.case.accepted.v1",
                source="/daiban/test/intake",
                subject="C-1",
                time=AT,
                recorded_at=datetime(2026, 11, 2, 1, 2, 4, tzinfo=UTC),
                org=TOWNSHIP,
                actor="clerk-1",
                data={"text": '申请人"张三"\\', "n": 1.5, "none": None, "list": [1, {"a": []}], "中": "文"},
                prev_hash=GENESIS_HASH,
            )
        )
    )


async def _printed(uow: UnitOfWork, sql: str, **params: Any) -> list[str]:
    conn = await uow.session.connection()
    return [str(r[0]) for r in await conn.execute(text(sql), params)]


async def test_an_entry_and_a_head_moved_on_the_driver_are_the_rows_sqlalchemy_wrote(
    network: Network,
) -> None:
    settings = await network.node(COUNTY)
    async with running("audit", settings) as audit, audit.runtime.uow() as uow:
        conn = await uow.session.connection()
        by_sqlalchemy = await conn.execute(cast(Executable, _APPEND.statement), _entry(1001, "E-ORM"))
        assert by_sqlalchemy.scalar() == 1001
        driven = _entry(1002, "E-DRIVER")
        assert await uow.fetchval(_APPEND, driven) == 1002
        # A known event id inserts nothing, and says so.
        assert await uow.fetchval(_APPEND, _entry(1003, "E-DRIVER")) is None
        # The key columns differ, and so the hash; each row keeps its own.
        listed = "e.type, e.source, e.subject, e.time, e.recorded_at, e.org, e.actor, e.data, e.prev_hash"
        rows = await _printed(
            uow,
            f"SELECT ROW(e.seq, e.event_id, e.hash)::text || ROW({listed})::text FROM audit.entries e"
            " WHERE e.event_id IN ('E-ORM', 'E-DRIVER') ORDER BY seq",
        )
        assert rows[1].startswith(f"(1002,E-DRIVER,{driven['hash']})")
        assert rows[0].split(")", 1)[1] == rows[1].split(")", 1)[1]

        await conn.execute(
            text(
                "INSERT INTO audit.chain_heads (chain, size, head_hash, checkpointed_size)"
                " SELECT chain, 0, :genesis, 0 FROM unnest(ARRAY['H-ORM', 'H-DRIVER']) AS chain"
            ),
            {"genesis": GENESIS_HASH},
        )
        moved = {"new_size": 7, "new_hash": "a" * 64}
        await conn.execute(cast(Executable, _MOVE_HEAD.statement), moved | {"of_chain": "H-ORM"})
        await uow.execute(_MOVE_HEAD, moved | {"of_chain": "H-DRIVER"})
        heads = await _printed(
            uow, "SELECT ROW(h.*)::text FROM audit.chain_heads h WHERE chain LIKE 'H-%' ORDER BY chain DESC"
        )
        assert heads[0].replace("H-ORM", "H") == heads[1].replace("H-DRIVER", "H")
        assert "7" in heads[0]


async def test_counters_bumped_on_the_driver_are_the_rows_sqlalchemy_wrote(network: Network) -> None:
    settings = await network.node(COUNTY)
    keys = [
        CounterKey(date(2026, 11, 2), "ORM", Dimension.total, "", Metric.received),
        CounterKey(date(2026, 11, 3), "ORM", Dimension.staff, "clerk-1", Metric.one_time_notices),
    ]
    async with running("audit", settings) as audit, audit.runtime.uow() as uow:
        conn = await uow.session.connection()
        for times in (1, 2):  # the second time, the rows are there: the counters add up
            rows = [(key, 3) for key in keys]
            await conn.execute(cast(Executable, _BUMP.statement), bump_params(rows))
            driven = [(CounterKey(**(asdict(key) | {"org": "DRV"})), value) for key, value in rows]
            await uow.execute(_BUMP, bump_params(driven))
            printed = await _printed(
                uow,
                "SELECT ROW(c.dimension, c.day, c.key, c.metric, c.value)::text FROM audit.stat_counters c"
                " WHERE org = :org ORDER BY day",
                org="ORM",
            )
            assert printed == await _printed(
                uow,
                "SELECT ROW(c.dimension, c.day, c.key, c.metric, c.value)::text FROM audit.stat_counters c"
                " WHERE org = :org ORDER BY day",
                org="DRV",
            )
            assert printed[0].endswith(f",{3 * times})")
