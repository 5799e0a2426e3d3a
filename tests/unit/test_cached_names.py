"""The known-orgs cache answers names too (an acceptance's receipt shows them without a query)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, cast

from daiban_common.orgunits import CachedKeySet


class FakeEngine:
    @asynccontextmanager
    async def connect(self) -> Any:
        yield None


async def test_names_come_from_the_cache_and_follow_an_invalidation() -> None:
    directory = {"370285101000": "水集街道", "370285101295": "某村"}
    loads = 0

    async def load(_conn: Any) -> dict[str, str]:
        nonlocal loads
        loads += 1
        return dict(directory)

    known = CachedKeySet(cast(Any, FakeEngine()), load)
    assert await known.names(["370285101295", None, "370285999999"]) == {"370285101295": "某村"}
    assert await known.is_known("370285101000")
    assert loads == 1

    directory["370285101295"] = "新村"
    assert await known.names(["370285101295"]) == {"370285101295": "某村"}  # cached
    known.invalidate()  # what the replica's consumer does after its commit
    assert await known.names(["370285101295"]) == {"370285101295": "新村"}
    assert loads == 2


async def test_a_set_without_names_answers_none() -> None:
    async def load(_conn: Any) -> set[str]:
        return {"370285101000"}

    known = CachedKeySet(cast(Any, FakeEngine()), load)
    assert await known.is_known("370285101000")
    assert await known.names(["370285101000"]) is None


async def test_a_load_overtaken_by_an_invalidation_is_not_kept() -> None:
    """A commit landing while a reload reads (its snapshot older than the commit) invalidates the
    set; the reload's answer serves the request that asked, and the next one reads again, rather
    than the commit staying unseen for a whole ttl (the flaky staff-directory test of stop 24)."""
    import asyncio

    directory = {"370285101294/js-294-agent"}
    reading = asyncio.Event()
    go_on = asyncio.Event()
    loads = 0

    async def load(_conn: Any) -> set[str]:
        nonlocal loads
        loads += 1
        snapshot = set(directory)
        if loads == 1:
            reading.set()
            await go_on.wait()
        return snapshot

    known = CachedKeySet(cast(Any, FakeEngine()), load)
    first = asyncio.create_task(known.is_known("370285101294/js-294-new"))
    await reading.wait()
    directory.add("370285101294/js-294-new")  # the consumer commits while the first load reads
    known.invalidate()
    go_on.set()
    assert await first is False  # its snapshot predates the commit
    assert await known.is_known("370285101294/js-294-new")
    assert loads == 2
