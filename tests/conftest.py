from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.servers import Network, Servers, create_template, new_network, start_servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    started = start_servers(tmp_path_factory.mktemp("servers"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
async def migrated(servers: Servers) -> Servers:
    await create_template(servers)
    return servers


@pytest.fixture
async def network(migrated: Servers, tmp_path: Path) -> AsyncIterator[Network]:
    yield new_network(migrated, tmp_path)
