"""Idempotency-Key for the POSTs that create something: a retry replays, a reused key is a 409.

The record is written in the same transaction as the change it answers for, so a request either
happened and can be replayed, or did not happen at all. Keys are scoped by the caller, so two
administrators cannot collide on one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_catalogue.models import IdempotencyRecord
from daiban_common.errors import Conflict


@dataclass(frozen=True)
class Once:
    """A request that must take effect at most once: who sent it, its key, and what it asked."""

    actor: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Stored:
    status_code: int
    kind: str
    result: dict[str, Any]
    replayed: bool = False


def fingerprint(method: str, path: str, body: Any) -> str:
    """A digest of the request: the same key with a different body or target is another request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


async def replay(session: AsyncSession, once: Once | None) -> Stored | None:
    """The stored answer to this request, if it was made before; 409 if the key meant something else."""
    if once is None:
        return None
    stmt = select(IdempotencyRecord).where(
        IdempotencyRecord.actor == once.actor, IdempotencyRecord.key == once.key
    )
    record = (await session.exec(stmt)).first()
    if record is None:
        return None
    if record.fingerprint != once.fingerprint:
        raise Conflict(
            "该幂等键（Idempotency-Key）已用于另一个请求，请为新请求使用新的键",
            type="/problems/idempotency-key-reused",
            title="Idempotency key reused",
        )
    return Stored(record.status_code, record.result_kind, record.result, replayed=True)


def remember(session: AsyncSession, once: Once | None, stored: Stored) -> None:
    if once is not None:
        session.add(
            IdempotencyRecord(
                actor=once.actor,
                key=once.key,
                fingerprint=once.fingerprint,
                status_code=stored.status_code,
                result_kind=stored.kind,
                result=stored.result,
            )
        )
