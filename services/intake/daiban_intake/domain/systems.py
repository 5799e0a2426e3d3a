"""Outside systems' HTTP tokens and who a system acts as.

A system's HTTP token is not a staff JWT: a JWT names a person with a role and lives until it
expires, and the suite's verifier (HS256 or the identity provider's JWKS) would have to learn a
kind of subject it does not issue. A system's token is 32 random bytes, shown once at
registration; intake keeps only its SHA-256 (the token has 256 bits of entropy, so no salt or slow
hash is needed), looks the caller up by it, and revocation takes effect at the next request.
"""

from __future__ import annotations

import hashlib
import secrets

from daiban_common.auth import Principal, Role
from daiban_contracts.ingress import system_actor
from daiban_intake.domain.ingress import Door

# Tells a system token from a JWT at a glance (in a log line, a leaked config file).
TOKEN_PREFIX = "dbs_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and 40 <= len(token) <= 64


def acting_as(door: Door) -> Principal:
    """The principal intake's commands see for what `door`'s system pushed: bound to its
    township (so a case outside it is unknown), recorded as `system:<id>`."""
    return Principal(sub=system_actor(door.system), role=Role.system, org=door.township.value, name=door.name)
