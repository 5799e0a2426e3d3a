"""The link between a township's nats-server and the county's hub, as `daiban run --tiers` and the
tier tests set it up (daiban_devtools.tiers.NatsNetwork): what may cross it, and a wrong password.

Real nats-servers; no services. Each stream owns its node's subjects, so an event is stored once,
by the node it is addressed to, whichever side published it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NoStreamResponseError

from daiban_common import bus
from daiban_contracts.subjects import Subjects
from daiban_devtools.tiers import HUB_URL_VARIABLE, NatsNetwork

pytestmark = pytest.mark.integration

COUNTY, TOWNSHIP, OTHER = "370285000000", "370285101000", "370285102000"


@pytest.fixture
async def network(tier_servers: NatsNetwork) -> AsyncIterator[NatsNetwork]:
    subjects = Subjects()
    for org, children in ((COUNTY, [TOWNSHIP, OTHER]), (TOWNSHIP, []), (OTHER, [])):
        nc = await tier_servers.connect(org, "routing")
        try:
            await bus.ensure_stream(nc.jetstream(), "DAIBAN", subjects.node_stream(org, children))
        finally:
            await nc.close()
    yield tier_servers


async def stored_by(network: NatsNetwork, org: str, subject: str, service: str = "routing") -> str | None:
    """The domain whose stream stored a publish by `service` of the node of `org`, or None if none
    did (no stream took it, or the service may not publish there)."""
    nc = await nats.connect(
        network.url(org),
        **_identity(network.credential(org, service)),
        error_cb=_ignore,
        max_reconnect_attempts=0,
    )
    try:
        ack = await nc.jetstream().publish(subject, b"{}", timeout=3)
        return ack.domain
    except (NoStreamResponseError, NatsTimeoutError):
        return None
    finally:
        await nc.close()


def _identity(credential: bus.Credential) -> dict[str, str]:
    return {"user": credential.user, "password": credential.password, "inbox_prefix": credential.inbox_prefix}


async def _ignore(exc: Exception) -> None:
    pass


async def test_only_what_is_addressed_across_crosses_and_is_stored_once(network: NatsNetwork) -> None:
    async def up(subject: str) -> str | None:
        # The leaf connection comes up a moment after the servers.
        for _ in range(50):
            if (found := await stored_by(network, TOWNSHIP, subject)) is not None:
                return found
            await asyncio.sleep(0.1)
        return None

    assert await up("daiban.370285.000.000.case.forwarded") == "hub"
    assert (
        await stored_by(network, TOWNSHIP, "daiban.370285.000.000.copy.countywide.case.accepted", "intake")
        == "hub"
    )
    assert await stored_by(network, TOWNSHIP, "daiban.370285.101.294.case.accepted", "intake") == "t370285101"
    # Into another township's subtree, or a copy for the county of another kind: never crosses.
    assert await stored_by(network, TOWNSHIP, "daiban.370285.102.000.case.accepted", "intake") is None
    assert (
        await stored_by(network, TOWNSHIP, "daiban.370285.000.000.copy.published.catalogue.item_published")
        is None
    )
    # Down: what is addressed into each township is stored by that township's node.
    assert (
        await stored_by(network, COUNTY, "daiban.370285.101.294.copy.progress.case.decided") == "t370285101"
    )
    assert await stored_by(network, COUNTY, "daiban.370285.102.000.case.returned_down") == "t370285102"
    assert await stored_by(network, COUNTY, "daiban.370285.103.000.case.accepted", "intake") == "hub"


async def test_a_wrong_password_keeps_the_township_cut_off(network: NatsNetwork) -> None:
    leaf = network.servers[TOWNSHIP]
    leaf.stop()
    right = leaf.env[HUB_URL_VARIABLE]
    user_and_password, host = right.removeprefix("nats-leaf://").split("@")
    leaf.env = {**leaf.env, HUB_URL_VARIABLE: f"nats-leaf://{user_and_password.split(':')[0]}:wrong@{host}"}
    leaf.start()
    hub_log = network.servers[COUNTY].data_dir / "nats-server.log"
    for _ in range(100):
        if "authentication error" in hub_log.read_text(errors="replace"):
            break
        await asyncio.sleep(0.1)
    assert 'authentication error - User "t370285101"' in hub_log.read_text(errors="replace")
    # The township works on its own, and nothing reaches the county.
    assert await stored_by(network, TOWNSHIP, "daiban.370285.101.294.case.accepted", "intake") == "t370285101"
    assert await stored_by(network, TOWNSHIP, "daiban.370285.000.000.case.forwarded") is None
