"""Events the audit service produces: signed checkpoints of a node's hash-chained log.

A node's audit log is one hash chain. Every N entries (or M minutes) the node signs a checkpoint
(size, head hash, time) with its Ed25519 key and addresses it to its parent org unit, whose audit
service keeps it. Someone who controls the node's database can rewrite the chain consistently, but
cannot change what the parent already holds: a rewrite or a truncated tail then shows up as a
checkpoint whose head hash or size the node's chain no longer has.

The signature covers `statement_bytes()`: the RFC 8785 canonical JSON of every field except
`signature`, so anyone holding the event can check it without knowing how the node stores it.
Those fields are strings and one integer, for which RFC 8785 is what `json.dumps` writes with
sorted keys, no whitespace and no ASCII escaping, so the standard library suffices here.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from pydantic import Field

from daiban_contracts.envelope import EventData, event_type
from daiban_contracts.integers import SAFE_INT_MAX

__all__ = ["SIGNATURE_ALGORITHM", "CheckpointSigned", "rfc3339_utc"]

SIGNATURE_ALGORITHM = "Ed25519"


def rfc3339_utc(ts: datetime) -> str:
    """One fixed text form for instants inside hashed or signed JSON (microseconds, `Z`)."""
    if ts.tzinfo is None:
        raise ValueError("naive datetime: an instant in a signed statement needs its offset")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@event_type("daiban.audit.checkpoint_signed.v1")
class CheckpointSigned(EventData):
    """Addressed to the parent org: "my log had `size` entries ending in `head_hash` at `signed_at`"."""

    node_org: str = Field(description="12-digit org unit of the node whose log this is")
    node: str = Field(description="The node's name (DAIBAN_NODE), distinguishing nodes of one org")
    chain: str = Field(default="main", description="Which chain of the node; one per node today")
    size: int = Field(ge=1, description="Number of entries covered; the head is entry `size`")
    head_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 (hex) of entry `size`")
    signed_at: datetime
    algorithm: str = SIGNATURE_ALGORITHM
    public_key: str = Field(description="The node's Ed25519 public key, raw 32 bytes, base64")
    signature: str = Field(description="Ed25519 signature of statement_bytes(), base64")

    def statement_bytes(self) -> bytes:
        """What the signature covers: canonical JSON (RFC 8785) of all fields but the signature."""
        if self.size > SAFE_INT_MAX:
            raise ValueError("size is beyond what RFC 8785 writes exactly (2**53 - 1)")
        return _canonical(
            {
                "node_org": self.node_org,
                "node": self.node,
                "chain": self.chain,
                "size": self.size,
                "head_hash": self.head_hash,
                "signed_at": rfc3339_utc(self.signed_at),
                "algorithm": self.algorithm,
                "public_key": self.public_key,
            }
        )

    def public_key_bytes(self) -> bytes:
        return base64.b64decode(self.public_key, validate=True)

    def signature_bytes(self) -> bytes:
        return base64.b64decode(self.signature, validate=True)


def _canonical(statement: dict[str, str | int]) -> bytes:
    # RFC 8785 for ASCII keys, strings and safe integers; a lone surrogate fails in encode().
    return json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
