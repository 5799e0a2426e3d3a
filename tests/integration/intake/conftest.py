from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from daiban_common.runtime import ServiceRuntime
from daiban_common.settings import Settings
from daiban_contracts.catalogue import ItemKind, Tier
from tests.integration.intake.helpers import IMMEDIATE_ITEM, TOWNSHIP, item, publish_item
from tests.servers import Network, running


@dataclass
class Intake:
    settings: Settings
    client: httpx.AsyncClient
    runtime: ServiceRuntime


@pytest.fixture
async def intake(network: Network) -> AsyncIterator[Intake]:
    """A township node's intake alone (no catalogue running), its replica fed two items by events."""
    settings = await network.node(TOWNSHIP)
    async with running("intake", settings) as service:
        await publish_item(settings, service.runtime, item())
        await publish_item(
            settings,
            service.runtime,
            item(
                IMMEDIATE_ITEM,
                kind=ItemKind.immediate,
                handling_level=Tier.township,
                acceptable_tiers=(Tier.village, Tier.township),
                promised_working_days=0,
                name="老年人优待证办理",
            ),
        )
        yield Intake(settings=settings, client=service.client, runtime=service.runtime)
