"""UUIDv7 from the standard library: RFC 9562's layout, the time in front, increasing in a process."""

from __future__ import annotations

import time
import uuid

from daiban_contracts.ids import uuid7


def test_the_layout_is_rfc_9562_version_7() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid7()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after


def test_ids_made_in_a_row_increase_and_differ() -> None:
    made = [uuid7() for _ in range(10_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert [str(u) for u in made] == sorted(str(u) for u in made)
