from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import Network, Servers, create_template, new_network, start_servers

# The e2e journeys share one county node (tests/e2e/conftest.py), a whole `daiban run` that takes the
# better part of a minute to start: under pytest-xdist they all run on the same worker.
SHARED_COUNTY_NODE = "tests/e2e/test_journey_"


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` (what `make test` uses), except that the journeys count as one file.

    A file's tests stay on one worker, so module-scoped fixtures are built once and tests that
    build on the ones before them in their module (tests/e2e/test_two_nodes.py) keep their order.
    xdist's own `--dist loadgroup` cannot be used for the journeys: with pytest 9 it no longer
    groups (it renames `item._nodeid`, which pytest no longer reads).
    """
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class JourneysTogether(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return SHARED_COUNTY_NODE if path.startswith(SHARED_COUNTY_NODE) else path

    return JourneysTogether(config, log)


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
