from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.servers import Network, Servers, create_template, new_network, start_servers

# Session fixtures too costly to build once per pytest-xdist worker: every test using one runs on
# the same worker (`make test` distributes with --dist loadgroup). The e2e county node is a whole
# `daiban run`, the better part of a minute to start.
SHARED_SESSION_FIXTURES = frozenset({"county_node"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the tests sharing a costly fixture on one xdist worker, the rest spread freely.

    A module-scoped fixture is built once per worker that runs a test of its module, so a module
    with one stays whole; without pytest-xdist the marks change nothing.
    """
    for item in items:
        group = _shared_fixture_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def _shared_fixture_group(item: pytest.Item) -> str | None:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    shared = sorted(SHARED_SESSION_FIXTURES.intersection(info.names_closure))
    if shared:
        return shared[0]
    for defs in info.name2fixturedefs.values():
        if any(d.scope == "module" for d in defs):
            return item.nodeid.split("::", 1)[0]
    return None


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
