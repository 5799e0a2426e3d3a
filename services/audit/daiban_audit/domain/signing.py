"""The node's signature on its checkpoints (Ed25519); the key is loaded once, in context.py."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class NodeSigner:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key = base64.b64encode(raw).decode("ascii")

    def sign(self, statement: bytes) -> str:
        return base64.b64encode(self._key.sign(statement)).decode("ascii")
