"""What a checkpoint's signature covers is RFC 8785 canonical JSON, written by the standard library."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
import rfc8785

from daiban_contracts.audit import CheckpointSigned, rfc3339_utc
from daiban_contracts.integers import SAFE_INT_MAX


def checkpoint(node: str = "county-node", size: int = 42) -> CheckpointSigned:
    return CheckpointSigned(
        node_org="370285000000",
        node=node,
        size=size,
        head_hash="ab" * 32,
        signed_at=datetime(2026, 1, 5, 8, 30, 1, 250, tzinfo=UTC),
        public_key=base64.b64encode(bytes(32)).decode(),
        signature=base64.b64encode(bytes(64)).decode(),
    )


@pytest.mark.parametrize(
    "node", ["county-node", "莱西市\u2028节点", 'quote " and \\ backslash', "controls \x00\x1f\t\n\x7f", "é"]
)
def test_the_statement_is_what_rfc8785_writes(node: str) -> None:
    event = checkpoint(node)
    expected = rfc8785.dumps(
        {
            "node_org": event.node_org,
            "node": event.node,
            "chain": event.chain,
            "size": event.size,
            "head_hash": event.head_hash,
            "signed_at": rfc3339_utc(event.signed_at),
            "algorithm": event.algorithm,
            "public_key": event.public_key,
        }
    )
    assert event.statement_bytes() == expected


def test_a_size_rfc8785_cannot_write_exactly_is_refused() -> None:
    assert checkpoint(size=SAFE_INT_MAX).statement_bytes()
    with pytest.raises(ValueError):
        checkpoint(size=SAFE_INT_MAX + 1).statement_bytes()
