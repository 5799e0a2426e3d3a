"""Idempotency-Key on creating POSTs: a retry replays the first answer, a reused key is a 409.

Village links drop mid-request; the agent's phone retries with the same key. The record is written
in the same transaction as the change it answers for (a request either happened and can be
replayed, or did not happen at all), and the answer stored is the one sent, one-time notices
included: a retried notice is not a second notice. Keys are scoped by the caller.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.errors import Conflict
from daiban_intake.models import IdempotencyRecord

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Once:
    """A request that must take effect at most once: who sent it, its key, and what it asked."""

    actor: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Answer:
    """What a command answered, as sent (and as replayed)."""

    status_code: int
    body: dict[str, Any]
    media_type: str = JSON
    replayed: bool = False


def fingerprint(method: str, path: str, body: Any) -> str:
    """A digest of the request: the same key with another body or target is another request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


async def replay(session: AsyncSession, once: Once | None) -> Answer | None:
    """The stored answer if this request was made before; 409 if the key was used for another.

    Takes a transaction-scoped advisory lock on the key first, so two concurrent retries are
    serialised: the second waits for the first to commit and then replays its answer.
    """
    if once is None:
        return None
    await session.exec(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"{once.actor}\n{once.key}", 0)))
    )
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
    return Answer(record.status_code, record.body, record.media_type, replayed=True)


def remember(session: AsyncSession, once: Once | None, answer: Answer) -> None:
    if once is not None:
        session.add(
            IdempotencyRecord(
                actor=once.actor,
                key=once.key,
                fingerprint=once.fingerprint,
                status_code=answer.status_code,
                media_type=answer.media_type,
                body=answer.body,
            )
        )
