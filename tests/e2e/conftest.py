"""One county suite shared by the journeys: starting `daiban run` takes the better part of a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Suite


@pytest.fixture(scope="session")
def county_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    """The demo county node (Laixi) as `daiban run` starts it, demo data seeded; stopped at the end."""
    suite = Suite.start(tmp_path_factory.mktemp("county") / "var")
    try:
        yield suite
    finally:
        suite.stop()


@pytest.fixture
def county(county_node: Suite) -> Suite:
    """The county node serving all four services.

    A journey may restart it with fewer (the catalogue down); the next journey that needs the whole
    node gets it restarted whole, so the last journey to take a service away costs no restart back.
    """
    if county_node.services is not None:
        county_node.restart()
    return county_node
