"""One county suite shared by the journeys: starting `daiban run` takes the better part of a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Suite


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    """The demo county node (Laixi) as `daiban run` starts it: four services, demo data seeded."""
    suite = Suite.start(tmp_path_factory.mktemp("county") / "var")
    try:
        yield suite
    finally:
        suite.stop()
