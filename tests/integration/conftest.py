from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from daiban_devtools.embedded import EmbeddedPostgres, free_port


@pytest.fixture
def own_pg(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of the test's own, for tests that stop and start it: the shared one stays up."""
    pg = EmbeddedPostgres(tmp_path / "own-pg", free_port(), fast_unsafe=True)
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()
