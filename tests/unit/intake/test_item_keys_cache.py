"""Acceptance's memory of which versions an item code names (`ParsedItems.keys_of`)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncConnection

from daiban_intake.queries.items import ParsedItems


class _Replica:
    """Answers the key-columns query with `rows`, counting the reads; `during` runs mid-read."""

    def __init__(self, rows: list[Any], during: Any = None) -> None:
        self.rows = rows
        self.reads = 0
        self.during = during

    async def execute(self, _statement: Any) -> _Replica:
        self.reads += 1
        if self.during is not None:
            self.during()
        return self

    def all(self) -> list[Any]:
        return list(self.rows)


async def test_keys_are_read_once_until_a_version_is_recorded() -> None:
    items = ParsedItems()
    replica = _Replica([("QR-1", 1)])
    conn = cast(AsyncConnection, replica)
    assert await items.keys_of(conn, False, "QR-1") == [("QR-1", 1)]
    assert await items.keys_of(conn, False, "QR-1") == [("QR-1", 1)]
    assert replica.reads == 1
    # By base code is another question, asked on its own.
    await items.keys_of(conn, True, "QR")
    assert replica.reads == 2

    replica.rows = [("QR-1", 1), ("QR-1", 2)]
    items.forget()
    assert await items.keys_of(conn, False, "QR-1") == [("QR-1", 1), ("QR-1", 2)]
    assert replica.reads == 3


async def test_a_read_overtaken_by_a_recorded_version_is_not_kept() -> None:
    items = ParsedItems()
    # The version commits (and the cache forgets) while the read is on its way: what it read may
    # predate the version, so the next acceptance must read again.
    replica = _Replica([("QR-1", 1)], during=items.forget)
    conn = cast(AsyncConnection, replica)
    await items.keys_of(conn, False, "QR-1")
    replica.during = None
    await items.keys_of(conn, False, "QR-1")
    assert replica.reads == 2


async def test_keys_are_read_again_after_their_time_to_live(monkeypatch: Any) -> None:
    # Another process of the service may have recorded a version this one was not told about.
    items = ParsedItems()
    replica = _Replica([("QR-1", 1)])
    conn = cast(AsyncConnection, replica)
    await items.keys_of(conn, False, "QR-1")
    later = items._keys[(False, "QR-1")][0] + 1
    monkeypatch.setattr("daiban_intake.queries.items.time.monotonic", lambda: later)
    await items.keys_of(conn, False, "QR-1")
    assert replica.reads == 2
