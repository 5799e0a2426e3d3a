"""A county catalogue node with the demo catalogue seeded, and tokens for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from daiban_catalogue.seed import seed_demo_catalogue
from daiban_common.auth import Role, issue_token
from daiban_common.settings import Settings
from tests.servers import Network, RunningService, running

COUNTY = "370285000000"
TOWNSHIP = "370285101000"
VILLAGE = "370285101295"


def bearer(settings: Settings, role: Role = Role.admin, org: str = COUNTY) -> dict[str, str]:
    token = issue_token(settings, sub=f"{role}@{org}", role=role, org=org, name="测试管理员")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def settings(network: Network) -> Settings:
    return await network.node(COUNTY)


@pytest.fixture
async def catalogue(settings: Settings) -> AsyncIterator[RunningService]:
    async with running("catalogue", settings) as service:
        await seed_demo_catalogue(service.runtime)
        yield service


@pytest.fixture
def admin(settings: Settings) -> dict[str, str]:
    return bearer(settings)
