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
