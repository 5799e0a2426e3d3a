"""A stopped consumer closes its fetch inbox, so the connection's drain has nothing to wait for.

Before, the pull subscription stayed open after its loop ended. nats-py takes late status messages
(a fetch's 408 arriving after the fetch timed out) off the inbox queue without marking them done,
so `nc.drain()` waited its whole drain_timeout (5 s) on that inbox: every service stop, and every
integration test's teardown, took five seconds longer than it needed.
"""

from __future__ import annotations

import pytest

from daiban_common.consumer import FETCH_TIMEOUT
from tests.integration.probe import READER_SPEC, create_probe_tables
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

TOWNSHIP = "370285101000"


async def test_a_stopped_consumer_leaves_no_subscription_behind(network: Network) -> None:
    settings = await network.node(TOWNSHIP)
    async with running(READER_SPEC, settings) as reader:
        runtime = reader.runtime
        await create_probe_tables(runtime)
        (notes,) = runtime.consumers
        nc = runtime.nc
        assert nc is not None

        # An empty fetch first (it counts as progress), as on any idle node.
        before = notes._last_progress

        async def fetched_once() -> bool:
            return notes._last_progress != before

        await eventually(fetched_once, within=10 * FETCH_TIMEOUT)
        open_before = set(nc._subs)

        await notes.stop()

        assert not notes.running
        left = set(nc._subs)
        assert len(left) == len(open_before) - 1, "the consumer's fetch inbox is still subscribed"
