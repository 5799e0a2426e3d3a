from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from daiban_devtools.embedded import EmbeddedPostgres, free_port
from daiban_devtools.tiers import NatsNetwork


@pytest.fixture
def own_pg(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of the test's own, for tests that stop and start it: the shared one stays up."""
    pg = EmbeddedPostgres(tmp_path / "own-pg", free_port(), fast_unsafe=True)
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def tier_servers(tmp_path: Path) -> Iterator[NatsNetwork]:
    """The nats-servers `daiban run --tiers` starts: the county's hub and the leaves of townships
    101 and 102, each service of each node with its own credential."""
    network = NatsNetwork(
        base=tmp_path / "nats",
        county="370285000000",
        townships=["370285101000", "370285102000"],
        hub_port=free_port(),
        township_ports={"370285101000": free_port(), "370285102000": free_port()},
        leaf_port=free_port(),
    )
    network.start()
    try:
        yield network
    finally:
        network.stop()
